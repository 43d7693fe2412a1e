/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A file replaced whole: written under a name of its own (on the same
 * filesystem), then renamed over the file, so that a reader sees the old
 * one or the new one, never half of either (metrics, the login notice).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "rosnap.h"

FILE *replace_start(const char *tmp)
{
	FILE *f;
	int fd, e;

	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (!f) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
	}
	return f;
}

int replace_finish(FILE *f, const char *tmp, const char *path)
{
	int r = 0;

	if (ferror(f))
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}
