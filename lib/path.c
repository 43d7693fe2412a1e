/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Access to /sys, /proc and /dev.  Every path goes through path_build(),
 * which puts the context's root in front, so the logic reading kernel
 * files can be unit-tested against a fake tree (util-linux's
 * ul_path_set_prefix is the model).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int vpath(struct rosnap_ctx *ctx, char *buf, size_t len,
		 const char *fmt, va_list ap)
{
	size_t n = strlen(ctx->root);
	int r;

	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, ctx->root, n);
	r = vsnprintf(buf + n, len - n, fmt, ap);
	if (r < 0 || (size_t)r >= len - n)
		return -ENAMETOOLONG;
	return 0;
}

int path_build(struct rosnap_ctx *ctx, char *buf, size_t len,
	       const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vpath(ctx, buf, len, fmt, ap);
	va_end(ap);
	return r;
}

int path_open(struct rosnap_ctx *ctx, int flags, const char *fmt, ...)
{
	char p[PATH_MAX];
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vpath(ctx, p, sizeof(p), fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	r = open(p, flags | O_CLOEXEC, 0600);
	return r < 0 ? -errno : r;
}

static int read_fd(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	if (len == 0)
		return -EINVAL;
	while (got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	/* A kernel attribute is one line; strip its newline. */
	if (got > 0 && buf[got - 1] == '\n')
		buf[--got] = '\0';
	return (int)got;
}

int path_read(struct rosnap_ctx *ctx, char *buf, size_t len,
	      const char *fmt, ...)
{
	char p[PATH_MAX];
	va_list ap;
	int fd, r;

	va_start(ap, fmt);
	r = vpath(ctx, p, sizeof(p), fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read_fd(fd, buf, len);
	close(fd);
	return r;
}

int parse_u64(const char *s, uint64_t *val)
{
	uint64_t v = 0;
	const char *p = s;

	if (!*p)
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (p == s || (*p && !(*p == '\n' && !p[1])))
		return -EINVAL;
	*val = v;
	return 0;
}

int path_read_u64(struct rosnap_ctx *ctx, uint64_t *val, const char *fmt, ...)
{
	char p[PATH_MAX], buf[64];
	va_list ap;
	int fd, r;

	va_start(ap, fmt);
	r = vpath(ctx, p, sizeof(p), fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read_fd(fd, buf, sizeof(buf));
	close(fd);
	if (r < 0)
		return r;
	return parse_u64(buf, val);
}

int path_write(struct rosnap_ctx *ctx, const char *val, const char *fmt, ...)
{
	char p[PATH_MAX];
	size_t len = strlen(val);
	va_list ap;
	ssize_t n;
	int fd, r;

	va_start(ap, fmt);
	r = vpath(ctx, p, sizeof(p), fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* sysfs takes an attribute in a single write. */
	do {
		n = write(fd, val, len);
	} while (n < 0 && errno == EINTR);
	r = n < 0 ? -errno : ((size_t)n == len ? 0 : -EIO);
	close(fd);
	return r;
}

bool path_exists(struct rosnap_ctx *ctx, const char *fmt, ...)
{
	char p[PATH_MAX];
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vpath(ctx, p, sizeof(p), fmt, ap);
	va_end(ap);
	return r == 0 && access(p, F_OK) == 0;
}
