/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One lock, /run/rosnap/lock, held by every operation that changes
 * devices.  It makes check-then-create atomic between rosnap commands: two
 * "create" of the same origin or name at once run one after the other,
 * and the second sees the first's device and fails cleanly.
 *
 * While it is held, every catchable signal is blocked (as lvm2 does
 * around its critical sections): a device suspended under a mounted root
 * must be resumed whatever the user types, and an operation either
 * happens whole or not at all.  Signals that arrive meanwhile are
 * delivered when the lock is let go.  The synchronous ones (SIGSEGV and
 * kin) stay deliverable: blocking them is undefined.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define LOCK_WAIT_SECONDS 120

static void signals_block(struct rosnap_ctx *ctx)
{
	static const int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL,
				      SIGTRAP, SIGABRT, SIGSYS };
	sigset_t all;
	size_t i;

	sigfillset(&all);
	for (i = 0; i < ARRAY_SIZE(faults); i++)
		sigdelset(&all, faults[i]);
	pthread_sigmask(SIG_BLOCK, &all, &ctx->saved_sigmask);
}

static void signals_restore(struct rosnap_ctx *ctx)
{
	pthread_sigmask(SIG_SETMASK, &ctx->saved_sigmask, NULL);
}

static int lock_open(struct rosnap_ctx *ctx, bool quiet)
{
	char dir[PATH_MAX];
	int fd, r;

	r = path_build(ctx, dir, sizeof(dir), RUN_DIR);
	if (r < 0)
		return r;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		if (!quiet)
			log_err(ctx, "cannot create %s: %s", dir, strerror(-r));
		return r;
	}
	fd = path_open(ctx, O_RDWR | O_CREAT | O_NOFOLLOW, RUN_DIR "/lock");
	if (fd < 0 && !quiet)
		log_err(ctx, "cannot open %s/lock: %s", dir, strerror(-fd));
	return fd;
}

/* The lock is ours now: block signals, then repair what needs it. */
static void lock_taken(struct rosnap_ctx *ctx, int fd)
{
	ctx->lock_fd = fd;
	signals_block(ctx);
	transition_tidy(ctx);
}

int lock_acquire(struct rosnap_ctx *ctx)
{
	struct timespec ts = { 0, 50 * 1000000L };
	int fd, r, i;

	if (ctx->lock_depth++ > 0)
		return 0;
	fd = lock_open(ctx, false);
	if (fd < 0) {
		r = fd;
		goto fail;
	}
	/* test_no_lock() is false but in test builds (concurrency-lock.sh). */
	// cppcheck-suppress knownConditionTrueFalse
	for (i = 0; !test_no_lock() && flock(fd, LOCK_EX | LOCK_NB) < 0; i++) {
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
				"%d seconds; try again later", RUN_DIR,
				LOCK_WAIT_SECONDS);
			close(fd);
			r = -EBUSY;
			goto fail;
		}
		nanosleep(&ts, NULL);
	}
	lock_taken(ctx, fd);
	return 0;
fail:
	ctx->lock_depth--;
	return r;
}

void lock_tidy(struct rosnap_ctx *ctx)
{
	int fd;

	if (ctx->lock_depth > 0)
		return;
	fd = lock_open(ctx, true);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return;
	}
	ctx->lock_depth = 1;
	lock_taken(ctx, fd);
	lock_release(ctx);
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
	signals_restore(ctx);
}

/*
 * Records of work under way, RUN_DIR/PREFIXKEY, each holding a line of
 * text: what a command killed (SIGKILL) in the middle leaves for the next
 * one to finish or undo under the lock (create-NAME, new-KNAME,
 * transition).
 */
int record_write(struct rosnap_ctx *ctx, const char *prefix, const char *key,
		 const char *text)
{
	size_t n = strlen(text);
	int fd, r = 0;

	fd = path_open(ctx, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
		       RUN_DIR "/%s%s", prefix, key);
	if (fd < 0) {
		log_err(ctx, "cannot write %s/%s%s: %s", RUN_DIR, prefix, key,
			strerror(-fd));
		return fd;
	}
	if (write(fd, text, n) != (ssize_t)n)
		r = -EIO;
	close(fd);
	return r;
}

void record_remove(struct rosnap_ctx *ctx, const char *prefix, const char *key)
{
	char p[PATH_MAX];

	if (path_build(ctx, p, sizeof(p), RUN_DIR "/%s%s", prefix, key) == 0)
		unlink(p);
}

void record_read(struct rosnap_ctx *ctx, const char *prefix, const char *key,
		 char *buf, size_t len)
{
	struct stat st;
	ssize_t n = -1;
	int fd;

	fd = path_open(ctx, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, RUN_DIR "/%s%s",
		       prefix, key);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		n = read(fd, buf, len - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

void records_take(struct rosnap_ctx *ctx, const char *prefix,
		  void (*fn)(struct rosnap_ctx *ctx, const char *key,
			     const char *text))
{
	char dir[PATH_MAX], text[256];
	size_t len = strlen(prefix);
	struct dirent *de;
	DIR *dp;

	if (path_build(ctx, dir, sizeof(dir), RUN_DIR) < 0 || !(dp = opendir(dir)))
		return;
	while ((de = readdir(dp))) {
		if (strncmp(de->d_name, prefix, len) != 0 || !de->d_name[len])
			continue;
		record_read(ctx, "", de->d_name, text, sizeof(text));
		fn(ctx, de->d_name + len, text);
		record_remove(ctx, "", de->d_name);
	}
	closedir(dp);
}

/*
 * Whoever waits for a merge to finish it holds a shared lock on
 * /run/rosnap/merge-NAME for as long as it waits; the kernel lets go of it
 * when that process dies.  So a merge the kernel has completed is
 * finished by repair only when nobody is still waiting to do it.
 *
 * The file goes when nobody holds it: whoever removes it holds it
 * exclusively, and a waiter that locked a file removed meanwhile (its
 * open came first) locks the new one instead.
 */
static bool waiter_linked(struct rosnap_ctx *ctx, int fd, const char *name)
{
	char p[PATH_MAX];
	struct stat a, b;

	return fstat(fd, &a) == 0 && a.st_nlink > 0 &&
	       path_build(ctx, p, sizeof(p), RUN_DIR "/merge-%s", name) == 0 &&
	       lstat(p, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int merge_waiter_lock(struct rosnap_ctx *ctx, const char *name)
{
	int fd;

	for (;;) {
		fd = path_open(ctx, O_RDWR | O_CREAT | O_NOFOLLOW,
			       RUN_DIR "/merge-%s", name);
		if (fd < 0)
			return fd;
		if (flock(fd, LOCK_SH) < 0) {
			close(fd);
			return -errno;
		}
		if (waiter_linked(ctx, fd, name))
			return fd;
		close(fd);
	}
}

/*
 * If nobody else holds fd's file, remove it, holding it exclusively:
 * 0, or -EWOULDBLOCK (somebody waits) or flock's other -errno.
 */
static int waiter_remove_unheld(struct rosnap_ctx *ctx, int fd, const char *name)
{
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return -errno;
	if (waiter_linked(ctx, fd, name))
		record_remove(ctx, "merge-", name);
	return 0;
}

/* The last waiter out removes the file. */
void merge_waiter_unlock(struct rosnap_ctx *ctx, const char *name, int fd)
{
	if (fd < 0)
		return;
	waiter_remove_unheld(ctx, fd, name);
	close(fd);
}

bool merge_has_waiter(struct rosnap_ctx *ctx, const char *name)
{
	int fd = path_open(ctx, O_RDWR | O_NOFOLLOW, RUN_DIR "/merge-%s", name);
	bool waiting;

	if (fd < 0)
		return false;
	waiting = waiter_remove_unheld(ctx, fd, name) == -EWOULDBLOCK;
	close(fd);
	return waiting;
}
