/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Is a block device mounted?  Read from /proc/self/mountinfo. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <fcntl.h>
#include <unistd.h>

#include "internal.h"

/* Undo mountinfo's octal escapes (\040 for space) in place. */
static void unescape(char *s)
{
	char *w = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 4;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

/*
 * mountinfo line: ID PARENT MAJ:MIN ROOT TARGET OPTIONS ... - TYPE SRC SUPER
 */
static int parse_line(char *line, dev_t *dev, char **target, bool *ro)
{
	char *field[6];
	char *save = NULL, *tok;
	unsigned i = 0;

	for (tok = strtok_r(line, " ", &save); tok && i < 6;
	     tok = strtok_r(NULL, " ", &save))
		field[i++] = tok;
	if (i < 6 || devnum_parse(field[2], dev) < 0)
		return -EINVAL;
	*target = field[4];
	*ro = strncmp(field[5], "ro", 2) == 0 &&
	      (field[5][2] == ',' || field[5][2] == '\0');
	return 0;
}

int mountinfo_find(const char *text, const dev_t *devs, unsigned n,
		   struct mount_hit *hit)
{
	const char *line = text;
	char buf[4096];
	unsigned i;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *target;
		dev_t dev;
		bool ro;

		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			if (parse_line(buf, &dev, &target, &ro) == 0) {
				for (i = 0; i < n; i++) {
					if (devs[i] != dev)
						continue;
					unescape(target);
					snprintf(hit->target, sizeof(hit->target),
						 "%s", target);
					hit->read_only = ro;
					return 1;
				}
			}
		}
		line = end ? end + 1 : NULL;
	}
	return 0;
}

int mount_find(struct rosnap_ctx *ctx, const dev_t *devs, unsigned n,
	       struct mount_hit *hit)
{
	char *text = NULL;
	size_t cap = 0, used = 0;
	ssize_t got;
	int fd, r;

	fd = path_open(ctx, O_RDONLY, "/proc/self/mountinfo");
	if (fd < 0)
		return fd;
	/* mountinfo can be long; read it whole. */
	for (;;) {
		if (cap - used < 4096) {
			char *t = realloc(text, cap + 65536);

			if (!t) {
				r = -ENOMEM;
				goto out;
			}
			text = t;
			cap += 65536;
		}
		got = read(fd, text + used, cap - used - 1);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (got == 0)
			break;
		used += (size_t)got;
	}
	text[used] = '\0';
	r = mountinfo_find(text, devs, n, hit);
out:
	free(text);
	close(fd);
	return r;
}
