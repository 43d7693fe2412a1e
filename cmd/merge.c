/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosnap merge NAME|DEVICE [--no-wait] [--unprotect] [--journal PATH]
 * rosnap recover PATH [--origin DEVICE]
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "rosnap.h"

struct bar {
	const char *what;
	struct timespec start;  /* of the first draw */
	uint64_t done0;         /* done at the first draw */
	double last;            /* seconds after start of the last redraw */
	int last_pct;
	bool drawn;
};

/* The bar on the screen, which a message must end first (log_to_stderr). */
static struct bar *active;

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

void bar_interrupt(void)
{
	if (active && active->drawn)
		fputc('\n', stderr);
	active = NULL;
}

/*
 * A progress bar on stderr: percentage, rate and time left.  Redrawn when
 * the percentage changes or 0.2 s has passed: a serial console must not
 * fall behind a large store's copy.
 */
static int draw(struct rosnap_ctx *ctx, uint64_t done, uint64_t total,
		void *userdata)
{
	struct bar *b = userdata;
	char rate[32], left[32] = "--:--";
	double secs, pct, bps;
	int width = 30, fill;

	(void)ctx;
	if (active != b) {
		bar_interrupt();
		active = b;
		clock_gettime(CLOCK_MONOTONIC, &b->start);
		b->done0 = done;
		b->last_pct = -1;
		b->drawn = false;
	}
	secs = since(&b->start);
	pct = total ? (double)done / (double)total : 1.0;
	if (b->drawn && (int)(pct * 100.0) == b->last_pct && done < total &&
	    secs - b->last < 0.2)
		return 0;
	b->last = secs;
	b->last_pct = (int)(pct * 100.0);
	bps = secs > 0.2 && done > b->done0 ? (double)(done - b->done0) / secs : 0;
	rosnap_format_size((uint64_t)bps, rate, sizeof(rate));
	if (bps > 0 && done < total) {
		long eta = (long)((double)(total - done) / bps);

		snprintf(left, sizeof(left), "%ld:%02ld", eta / 60, eta % 60);
	} else if (done >= total) {
		snprintf(left, sizeof(left), "0:00");
	}
	fill = (int)(pct * width);
	fprintf(stderr, "\r%s [%.*s%*s] %3.0f%% %7s/s ETA %s ", b->what, fill,
		"##############################", width - fill, "", pct * 100.0,
		rate, left);
	b->drawn = true;
	return 0;
}

/*
 * The journal's first copy runs under rosnap's lock, which holds signals
 * back: Ctrl-C (or SIGTERM, SIGHUP) then cancels the merge before it
 * starts, with nothing changed, rather than wait for it.
 */
static int copy_progress(struct rosnap_ctx *ctx, uint64_t done, uint64_t total,
			 void *userdata)
{
	sigset_t pending;

	if (isatty(STDERR_FILENO))
		draw(ctx, done, total, userdata);
	return sigpending(&pending) == 0 &&
	       (sigismember(&pending, SIGINT) == 1 ||
		sigismember(&pending, SIGTERM) == 1 ||
		sigismember(&pending, SIGHUP) == 1);
}

/* --no-wait: a detached process finishes the merge, reporting to syslog. */
static void syslog_log(struct rosnap_ctx *ctx, int priority, const char *msg,
		       void *data)
{
	(void)ctx;
	(void)data;
	syslog(priority, "%s", msg);
}

static int finish_in_background(struct rosnap_ctx *ctx, const char *name)
{
	pid_t pid = fork();
	int status, fd, r;

	if (pid < 0)
		return EXIT_FAIL;
	if (pid > 0) {
		waitpid(pid, &status, 0);
		return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAIL;
	}
	/* Child: detach twice so the finisher is nobody's child. */
	if (setsid() < 0 || (pid = fork()) < 0)
		_exit(EXIT_FAIL);
	if (pid > 0)
		_exit(EXIT_OK);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (chdir("/") < 0)
		_exit(EXIT_FAIL);
	openlog("rosnap", LOG_PID, LOG_DAEMON);
	rosnap_set_log_fn(ctx, syslog_log, NULL);
	r = rosnap_merge_wait(ctx, name, NULL, NULL);
	/* Ended or failed (an invalid store has a notice of its own). */
	notice_update(ctx);
	_exit(exit_code(r));
}

int cmd_merge(struct rosnap_ctx *ctx, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "no-wait", no_argument, NULL, 'n' },
		{ "unprotect", no_argument, NULL, 'u' },
		{ "journal", required_argument, NULL, 'j' },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct rosnap_merge_opts o = { 0 };
	struct rosnap_device *dev = NULL;
	struct bar b = { 0 }, copy = { 0 };
	bool exit_now = false;
	char name[128], copying[160];
	int c, r;

	while ((c = getopt_long(argc, argv, "nuj:" COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		switch (c) {
		case 'n':
			o.flags |= ROSNAP_MERGE_NO_WAIT;
			break;
		case 'u':
			o.flags |= ROSNAP_MERGE_UNPROTECT;
			break;
		case 'j':
			if (optarg[0] != '/')
				return usage_error("merge", "--journal needs an "
						   "absolute path, not '%s'", optarg);
			o.journal = optarg;
			break;
		default:
			if (common_option(ctx, c, "merge", &exit_now))
				break;
			return bad_option("merge");
		}
		if (exit_now)
			return EXIT_OK;
	}
	if (optind >= argc)
		return usage_error("merge", "no device given");
	if (optind + 1 < argc)
		return usage_error("merge", "unexpected argument '%s'",
				   argv[optind + 1]);
	r = need_root("merge");
	if (r)
		return r;
	/* The name, for the background finisher and the progress bar. */
	r = rosnap_device_open(ctx, argv[optind], &dev);
	if (r < 0)
		return fail(r, "cannot merge %s", argv[optind]);
	snprintf(name, sizeof(name), "%s", rosnap_device_get_name(dev));
	rosnap_device_unref(dev);
	b.what = name;
	/* A journaled merge first copies the store: a bar of its own. */
	snprintf(copying, sizeof(copying), "%s: copy into the journal", name);
	copy.what = copying;
	o.copy_progress = copy_progress;
	o.copy_userdata = &copy;
	/* The root's login notice goes while its writes reach the disk; it
	 * comes back with the state once the merge is done or refused. */
	notice_merging(name);
	r = rosnap_merge(ctx, name, &o, isatty(STDERR_FILENO) ? draw : NULL, &b);
	bar_interrupt();
	notice_update(ctx);
	if (r < 0)
		return fail(r, "cannot merge %s", name);
	if (o.flags & ROSNAP_MERGE_NO_WAIT) {
		r = finish_in_background(ctx, name);
		if (r == EXIT_OK)
			fprintf(stderr, "rosnap: merging %s in the background; "
				"'rosnap status %s' shows its progress\n", name, name);
		return r;
	}
	return EXIT_OK;
}

int cmd_recover(struct rosnap_ctx *ctx, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "origin", required_argument, NULL, 'o' },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *origin = NULL;
	struct bar b = { .what = "recover" };
	bool exit_now = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "o:" COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (c == 'o')
			origin = optarg;
		else if (!common_option(ctx, c, "recover", &exit_now))
			return bad_option("recover");
		if (exit_now)
			return EXIT_OK;
	}
	if (optind >= argc)
		return usage_error("recover", "no journal given");
	if (optind + 1 < argc)
		return usage_error("recover", "unexpected argument '%s'",
				   argv[optind + 1]);
	r = need_root("recover");
	if (r)
		return r;
	r = rosnap_recover(ctx, argv[optind], origin,
			   isatty(STDERR_FILENO) ? draw : NULL, &b);
	bar_interrupt();
	if (r < 0)
		return fail(r, "cannot recover from %s", argv[optind]);
	return EXIT_OK;
}
