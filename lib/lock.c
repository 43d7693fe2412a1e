/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One lock, /run/rosnap/lock, held by every operation that changes
 * devices.  It makes check-then-create atomic between rosnap commands: two
 * "create" of the same origin or name at once run one after the other,
 * and the second sees the first's device and fails cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define LOCK_WAIT_SECONDS 120

int lock_acquire(struct rosnap_ctx *ctx)
{
	struct timespec ts = { 0, 50 * 1000000L };
	char dir[PATH_MAX];
	int fd, r, i;

	if (ctx->lock_depth++ > 0)
		return 0;
	r = path_build(ctx, dir, sizeof(dir), RUN_DIR);
	if (r < 0)
		goto fail;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		log_err(ctx, "cannot create %s: %s", dir, strerror(-r));
		goto fail;
	}
	fd = path_open(ctx, O_RDWR | O_CREAT | O_NOFOLLOW, RUN_DIR "/lock");
	if (fd < 0) {
		r = fd;
		log_err(ctx, "cannot open %s/lock: %s", dir, strerror(-r));
		goto fail;
	}
	for (i = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; i++) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			r = -errno;
			close(fd);
			goto fail;
		}
		if (i == 20)
			log_notice(ctx, "waiting for another rosnap command to "
				   "finish");
		if (i >= LOCK_WAIT_SECONDS * 20) {
			log_err(ctx, "another rosnap command has held %s/lock for "
				"%d seconds; try again later", dir,
				LOCK_WAIT_SECONDS);
			close(fd);
			r = -EBUSY;
			goto fail;
		}
		nanosleep(&ts, NULL);
	}
	ctx->lock_fd = fd;
	return 0;
fail:
	ctx->lock_depth--;
	return r;
}

void lock_release(struct rosnap_ctx *ctx)
{
	if (ctx->lock_depth == 0 || --ctx->lock_depth > 0)
		return;
	if (ctx->lock_fd >= 0) {
		flock(ctx->lock_fd, LOCK_UN);
		close(ctx->lock_fd);
	}
	ctx->lock_fd = -1;
}
