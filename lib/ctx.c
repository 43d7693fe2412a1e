/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The library context: reference counting and logging. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libkmod.h>

#include "internal.h"

_public_ int rosnap_new(struct rosnap_ctx **ctx)
{
	struct rosnap_ctx *c;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->refcount = 1;
	c->log_priority = LOG_INFO;
	c->lock_fd = -1;
	*ctx = c;
	return 0;
}

_public_ struct rosnap_ctx *rosnap_ref(struct rosnap_ctx *ctx)
{
	if (ctx)
		ctx->refcount++;
	return ctx;
}

_public_ struct rosnap_ctx *rosnap_unref(struct rosnap_ctx *ctx)
{
	if (!ctx || --ctx->refcount > 0)
		return NULL;
	if (ctx->kmod)
		kmod_unref(ctx->kmod);
	blkdev_release(ctx);
	if (ctx->lock_fd >= 0)
		close(ctx->lock_fd);
	free(ctx);
	return NULL;
}

_public_ void rosnap_set_log_fn(struct rosnap_ctx *ctx, rosnap_log_fn fn,
				void *userdata)
{
	ctx->log_fn = fn;
	ctx->log_data = userdata;
}

_public_ void rosnap_set_log_priority(struct rosnap_ctx *ctx, int priority)
{
	ctx->log_priority = priority;
}

_public_ int rosnap_get_log_priority(const struct rosnap_ctx *ctx)
{
	return ctx->log_priority;
}

void rosnap_log(struct rosnap_ctx *ctx, int priority, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int saved = errno;

	if (!ctx || !ctx->log_fn || priority > ctx->log_priority)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ctx->held) {
		if (ctx->nheld < (int)ARRAY_SIZE(ctx->held_msgs)) {
			snprintf(ctx->held_msgs[ctx->nheld],
				 sizeof(ctx->held_msgs[0]), "%s", msg);
			ctx->held_prio[ctx->nheld++] = priority;
		}
		errno = saved;
		return;
	}
	ctx->log_fn(ctx, priority, msg, ctx->log_data);
	errno = saved;
}

void log_hold(struct rosnap_ctx *ctx)
{
	ctx->held++;
}

void log_release(struct rosnap_ctx *ctx)
{
	int i;

	if (ctx->held == 0 || --ctx->held > 0)
		return;
	for (i = 0; i < ctx->nheld; i++)
		ctx->log_fn(ctx, ctx->held_prio[i], ctx->held_msgs[i],
			    ctx->log_data);
	ctx->nheld = 0;
}

#ifdef ROSNAP_FAULT_INJECTION
int fault_inject(struct rosnap_ctx *ctx, const char *point)
{
	const char *want = getenv("ROSNAP_TEST_FAIL_AT");
	const char *file = getenv("ROSNAP_TEST_FAIL_AT_FILE");
	char buf[64] = "";
	FILE *f;

	/* For a long-running process: the point named in a file, while the
	 * file is there. */
	if (file && (f = fopen(file, "re"))) {
		if (fgets(buf, sizeof(buf), f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
		want = buf;
	}
	if (!want || strcmp(want, point) != 0)
		return 0;
	log_err(ctx, "injected failure at \"%s\" (ROSNAP_TEST_FAIL_AT)", point);
	return -EIO;
}

bool test_no_lock(void)
{
	const char *v = getenv("ROSNAP_TEST_NO_LOCK");

	return v && strcmp(v, "1") == 0;
}

void test_pause(struct rosnap_ctx *ctx, const char *what, const char *step)
{
	const char *want = getenv("ROSNAP_TEST_PAUSE_AT");
	const char *file = getenv("ROSNAP_TEST_PAUSE_FILE");
	struct timespec ts = { 0, 10 * 1000000L };
	size_t n = strlen(what);
	char pid[32];
	int fd, len;

	if (!want || !file || strncmp(want, what, n) != 0 || want[n] != ':' ||
	    strcmp(want + n + 1, step) != 0)
		return;
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return;
	len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (write(fd, pid, (size_t)len) != len)
		log_dbg(ctx, "cannot write %s", file);
	close(fd);
	while (access(file, F_OK) == 0)
		nanosleep(&ts, NULL);
}
#endif

int ctx_set_root(struct rosnap_ctx *ctx, const char *root)
{
	size_t n = strlen(root);

	if (n >= sizeof(ctx->root))
		return -ENAMETOOLONG;
	memcpy(ctx->root, root, n + 1);
	return 0;
}
