/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Is a block device mounted?  Read from /proc/self/mountinfo. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

/* /proc/self/mountinfo, whole, in a malloc'd string. */
static int read_mountinfo(struct rosnap_ctx *ctx, char **out)
{
	char *text = NULL;
	size_t cap = 0, used = 0;
	ssize_t got;
	int fd, r = 0;

	fd = path_open(ctx, O_RDONLY, "/proc/self/mountinfo");
	if (fd < 0)
		return fd;
	for (;;) {
		if (cap - used < 4096) {
			char *t = realloc(text, cap + 65536);

			if (!t) {
				r = -ENOMEM;
				break;
			}
			text = t;
			cap += 65536;
		}
		got = read(fd, text + used, cap - used - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			r = -errno;
		if (got <= 0)
			break;
		used += (size_t)got;
	}
	close(fd);
	if (r < 0) {
		free(text);
		return r;
	}
	text[used] = '\0';
	*out = text;
	return 0;
}

int mount_find(struct rosnap_ctx *ctx, const dev_t *devs, unsigned n,
	       struct mount_hit *hit)
{
	char *text;
	int r;

	r = read_mountinfo(ctx, &text);
	if (r < 0)
		return r;
	r = mountinfo_find(text, devs, n, hit);
	free(text);
	return r;
}

/* mountinfo's source field (after " - TYPE ") for a mount of st_dev. */
static int source_of(const char *text, dev_t st_dev, char *src, size_t len)
{
	const char *line = text;
	char buf[4096];

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		char *sep, *type, *source, *save = NULL;
		dev_t dev;
		char *field;

		if (n < sizeof(buf)) {
			memcpy(buf, line, n);
			buf[n] = '\0';
			field = strtok_r(buf, " ", &save);
			field = field ? strtok_r(NULL, " ", &save) : NULL;
			field = field ? strtok_r(NULL, " ", &save) : NULL;
			sep = field ? strstr(save, " - ") : NULL;
			if (field && sep && devnum_parse(field, &dev) == 0 &&
			    dev == st_dev) {
				type = strtok_r(sep + 3, " ", &save);
				source = type ? strtok_r(NULL, " ", &save) : NULL;
				if (source) {
					unescape(source);
					snprintf(src, len, "%s", source);
					return 1;
				}
			}
		}
		line = end ? end + 1 : NULL;
	}
	return 0;
}

int mount_block_device(struct rosnap_ctx *ctx, dev_t st_dev, dev_t *dev)
{
	char *text = NULL, src[PATH_MAX];
	struct stat st;
	int r;

	if (major(st_dev) != 0) {
		*dev = st_dev;
		return 0;
	}
	r = read_mountinfo(ctx, &text);
	if (r < 0)
		return r;
	r = source_of(text, st_dev, src, sizeof(src));
	free(text);
	if (r <= 0 || stat(src, &st) < 0 || !S_ISBLK(st.st_mode))
		return -ENODEV;
	*dev = st.st_rdev;
	return 0;
}
