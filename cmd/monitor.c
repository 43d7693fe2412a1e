/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosnap monitor [NAME...] [--warn PCT] [--critical PCT] [--min-free SIZE]
 *                [--exec PROGRAM] [--wall] [--grow-by SIZE --grow-max SIZE]
 *                [--interval SECONDS] [--config FILE]
 *
 * Watches rosnap devices in the foreground (for systemd).  udev's events
 * say when a rosnap device comes or goes; the kernel raises a
 * device-mapper event when a snapshot is invalidated or its table
 * changes: a child process per device waits for those.  Usage grows with
 * no event (overflow included), so while there are devices to watch their
 * stores are also read every --interval seconds; with none, the monitor
 * sleeps until udev says one came, looking every 5 minutes all the same
 * (without udevd, as in an initramfs, every --interval seconds).  A
 * level is reported once per crossing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "rosnap.h"

/* The library's levels, and one of the monitor's own. */
#define L_GONE (ROSNAP_LEVEL_INVALID + 1)

static const char *level_name(int level)
{
	return level == L_GONE ? "gone" : rosnap_level_name((enum rosnap_level)level);
}

#define MAX_WATCHED 64
/* With no device to watch, a look every 5 minutes: for an event lost. */
#define IDLE_SECONDS 300

/* Why the monitor does not grow a store: each reported when it begins. */
enum no_growth {
	GROWS,
	AT_MAX,            /* --grow-max reached */
	NO_MEMORY,         /* growing would go below --min-free */
	GROW_FAILED,       /* the library refused: not tried again */
};

struct watched {
	char name[128];
	int level;
	enum no_growth no_growth;
	bool seen;         /* found in this round */
	pid_t waiter;      /* the child waiting for its events, or 0 */
};

static struct watched watched[MAX_WATCHED];
static int nwatched;
static int wake_pipe[2] = { -1, -1 };
static volatile sig_atomic_t stopping;
static struct rosnap_monitor_settings set;
static bool wall_critical;
static bool memory_low;
static bool once;  /* --once: one round, no event waiters */
static const char *metrics;  /* --metrics FILE, or NULL */
static int metrics_error;    /* the last error writing it, reported once */
static pid_t monitor_pid;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wake the main loop (async-signal-safe); a full pipe wakes it anyway. */
static void wake(void)
{
	if (wake_pipe[1] >= 0 && write(wake_pipe[1], "w", 1) < 0) {
		/* EAGAIN: enough wake-ups are pending already. */
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	wake();
}

static void on_child(int sig)
{
	(void)sig;
	wake();
}

/* A report: syslog at its priority, and a line on stderr. */
__attribute__((format(printf, 2, 3)))
static void report(int priority, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	syslog(priority, "%s", msg);
	/* Under systemd, "<N>" gives the journal the priority. */
	if (getenv("JOURNAL_STREAM"))
		fprintf(stderr, "<%d>rosnap monitor: %s\n", priority, msg);
	else
		fprintf(stderr, "rosnap monitor: %s\n", msg);
}

/*
 * Wait for device-mapper events on one device, in a child process; each
 * event wakes the main loop through the pipe.  A process, not a thread:
 * libdevmapper's state and the context are not thread-safe, and the main
 * loop calls into them meanwhile.  The child dies with the monitor, and
 * ends by itself when the device goes; either way the interval still
 * reads every store.
 */
static void start_waiter(struct rosnap_ctx *ctx, struct watched *w)
{
	uint32_t nr = 0;
	pid_t pid;

	pid = fork();
	if (pid != 0) {
		w->waiter = pid > 0 ? pid : 0;
		return;
	}
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != monitor_pid)
		_exit(0);
	while (rosnap_wait_event(ctx, w->name, &nr) == 0)
		wake();
	wake();
	_exit(0);
}

/* Reap children: hooks, wall, and waiters (to be started again). */
static void reap(int flags)
{
	pid_t pid;
	int i;

	while ((pid = waitpid(-1, NULL, flags)) > 0 || (pid < 0 && errno == EINTR))
		for (i = 0; i < nwatched; i++)
			if (pid > 0 && watched[i].waiter == pid)
				watched[i].waiter = 0;
}

static void setenv_u64(const char *key, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	setenv(key, buf, 1);
}

/*
 * Run the hook: the program itself, no shell; what it needs to know is in
 * its environment (rosnap(8) lists the variables).
 */
static void run_hook(const struct rosnap_device *d, const char *name,
		     int level, int before, uint64_t pct, uint64_t avail)
{
	pid_t pid;

	if (!set.exec)
		return;
	pid = fork();
	if (pid != 0)
		return;
	setenv("ROSNAP_NAME", name, 1);
	setenv("ROSNAP_LEVEL", level_name(level), 1);
	setenv("ROSNAP_PREVIOUS_LEVEL", level_name(before), 1);
	setenv_u64("ROSNAP_MEM_AVAILABLE_BYTES", avail);
	if (d) {
		/* A store left without its device (an orphan) has no path. */
		const char *path = rosnap_device_get_path(d);

		if (path)
			setenv("ROSNAP_DEVICE", path, 1);
		setenv("ROSNAP_STATE", rosnap_state_name(rosnap_device_get_state(d)), 1);
		setenv_u64("ROSNAP_COW_USED_PERCENT", pct);
		setenv_u64("ROSNAP_COW_USED_BYTES", rosnap_device_get_cow_used(d));
		setenv_u64("ROSNAP_COW_SIZE_BYTES", rosnap_device_get_cow_size(d));
		setenv_u64("ROSNAP_RAM_USED_BYTES", rosnap_device_get_ram_used(d));
	}
	execl(set.exec, set.exec, (char *)NULL);
	_exit(127);
}

/* The wall message for critical: through wall(1), given the text on stdin. */
static void wall(const char *text)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		execlp("wall", "wall", (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	if (pid > 0 && write(fds[1], text, strlen(text)) < 0) {
		/* wall is gone: nothing more to tell. */
	}
	close(fds[1]);
}

static const int level_priority[] = {
	[ROSNAP_LEVEL_OK] = LOG_NOTICE, [ROSNAP_LEVEL_WARN] = LOG_WARNING,
	[ROSNAP_LEVEL_CRITICAL] = LOG_CRIT, [ROSNAP_LEVEL_OVERFLOW] = LOG_CRIT,
	[ROSNAP_LEVEL_INVALID] = LOG_ALERT, [L_GONE] = LOG_INFO,
};

/* Say once why a store stops growing. */
static void no_growth(struct watched *w, enum no_growth why, uint64_t avail)
{
	char max[32];

	if (w->no_growth == why)
		return;
	w->no_growth = why;
	if (why == AT_MAX) {
		rosnap_format_size(set.grow_max, max, sizeof(max));
		report(LOG_WARNING, "%s: not growing its store: it is at "
		       "--grow-max (%s)", w->name, max);
	} else if (why == NO_MEMORY)
		report(LOG_WARNING, "%s: not growing its store: only %lluM of "
		       "memory available", w->name,
		       (unsigned long long)(avail >> 20));
	else if (why == GROW_FAILED)
		report(LOG_WARNING, "%s: growing its store failed; the monitor "
		       "will not try again", w->name);
}

/*
 * Grow at warn, by --grow-by or what is left below --grow-max, if memory
 * allows; true if it grew.
 */
static bool maybe_grow(struct rosnap_ctx *ctx, struct rosnap_device *d,
		       struct watched *w, uint64_t avail)
{
	uint64_t size = rosnap_device_get_cow_size(d), by = set.grow_by;
	char bys[32], to[32];

	if (!set.grow_by || w->no_growth == GROW_FAILED)
		return false;
	if (size >= set.grow_max || set.grow_max - size < ROSNAP_MIN_GROW_BYTES) {
		no_growth(w, AT_MAX, avail);
		return false;
	}
	if (by > set.grow_max - size)
		by = (set.grow_max - size) & ~4095ULL;
	if (avail < set.min_free_bytes || avail - set.min_free_bytes < by) {
		no_growth(w, NO_MEMORY, avail);
		return false;
	}
	if (rosnap_grow(ctx, rosnap_device_get_name(d), by) < 0) {
		no_growth(w, GROW_FAILED, avail);
		return false;
	}
	w->no_growth = GROWS;
	rosnap_format_size(by, bys, sizeof(bys));
	rosnap_format_size(size + by, to, sizeof(to));
	report(LOG_NOTICE, "%s: grew its store by %s to %s",
	       rosnap_device_get_name(d), bys, to);
	return true;
}

static struct watched *find(const char *name)
{
	int i;

	for (i = 0; i < nwatched; i++)
		if (strcmp(watched[i].name, name) == 0)
			return &watched[i];
	if (nwatched == MAX_WATCHED)
		return NULL;
	memset(&watched[nwatched], 0, sizeof(watched[0]));
	snprintf(watched[nwatched].name, sizeof(watched[0].name), "%s", name);
	return &watched[nwatched++];
}

static bool wanted(const char *name, char **names)
{
	char **p;

	if (!names || !*names)
		return true;
	for (p = names; *p; p++)
		if (strcmp(*p, name) == 0)
			return true;
	return false;
}

static void check_device(struct rosnap_ctx *ctx, struct rosnap_device *d,
			 uint64_t avail)
{
	const char *name = rosnap_device_get_name(d);
	struct watched *w = find(name);
	int level, before;
	unsigned pct;
	char msg[256];

	if (!w)
		return;
	w->seen = true;
	if (!w->waiter && !once)
		start_waiter(ctx, w);
	level = rosnap_device_get_level(d, &set, &pct);
	if (level == ROSNAP_LEVEL_WARN || level == ROSNAP_LEVEL_CRITICAL) {
		if (maybe_grow(ctx, d, w, avail) && rosnap_device_refresh(d) == 0)
			level = rosnap_device_get_level(d, &set, &pct);
	}
	if (level == w->level)
		return;
	before = w->level;
	w->level = level;
	if (level == ROSNAP_LEVEL_OK)
		report(level_priority[level], "%s: store %u%% full, below warn "
		       "again", name, pct);
	else if (level == ROSNAP_LEVEL_OVERFLOW)
		report(level_priority[level], "%s: store full (overflow): writes "
		       "fail, reads work; merge or discard its changes", name);
	else if (level == ROSNAP_LEVEL_INVALID)
		report(level_priority[level], "%s: invalid: the kernel dropped its "
		       "changes after an I/O error on its store", name);
	else
		report(level_priority[level], "%s: store %u%% full (%s at %u%%)",
		       name, pct, level_name(level),
		       level == ROSNAP_LEVEL_WARN ? set.warn_percent :
						    set.critical_percent);
	run_hook(d, name, level, before, pct, avail);
	if (wall_critical && level >= ROSNAP_LEVEL_CRITICAL) {
		snprintf(msg, sizeof(msg), "rosnap: %s is %s (store %u%% full); "
			 "its changes live in RAM\n", name, level_name(level), pct);
		wall(msg);
	}
}

static void check_memory(uint64_t avail)
{
	bool low = set.min_free_bytes && avail < set.min_free_bytes;

	if (low == memory_low)
		return;
	memory_low = low;
	if (low)
		report(LOG_WARNING, "memory low: %lluM available, below the floor "
		       "of %lluM", (unsigned long long)(avail >> 20),
		       (unsigned long long)(set.min_free_bytes >> 20));
	else
		report(LOG_NOTICE, "memory available again: %lluM",
		       (unsigned long long)(avail >> 20));
	if (set.exec && fork() == 0) {
		setenv("ROSNAP_NAME", "", 1);
		setenv("ROSNAP_LEVEL", low ? "memory-low" : "memory-ok", 1);
		setenv("ROSNAP_PREVIOUS_LEVEL", low ? "memory-ok" : "memory-low", 1);
		setenv_u64("ROSNAP_MEM_AVAILABLE_BYTES", avail);
		execl(set.exec, set.exec, (char *)NULL);
		_exit(127);
	}
}

/* The watched devices' state, for a metrics collector (--metrics). */
static void write_metrics(struct rosnap_device **devs, int n, char **names,
			  const uint64_t *avail)
{
	struct rosnap_device *mine[MAX_WATCHED];
	int i, k = 0, r;

	for (i = 0; i < n && k < MAX_WATCHED; i++)
		if (wanted(rosnap_device_get_name(devs[i]), names))
			mine[k++] = devs[i];
	r = metrics_write(metrics, mine, k, &set, avail);
	if (r < 0 && r != metrics_error)
		report(LOG_ERR, "cannot write the metrics file %s: %s", metrics,
		       strerror(-r));
	else if (r == 0 && metrics_error)
		report(LOG_NOTICE, "writing the metrics file %s again", metrics);
	metrics_error = r;
}

/* One look at every device; false when the devices could not be listed. */
static bool round_once(struct rosnap_ctx *ctx, char **names)
{
	struct rosnap_device **devs = NULL;
	uint64_t avail = 0;
	bool have_avail;
	int i, n;

	have_avail = rosnap_mem_available(ctx, &avail) == 0;
	check_memory(avail);
	for (i = 0; i < nwatched; i++)
		watched[i].seen = false;
	n = rosnap_list(ctx, &devs);
	for (i = 0; i < n; i++)
		if (wanted(rosnap_device_get_name(devs[i]), names))
			check_device(ctx, devs[i], avail);
	/* A list that failed is no news: the last file stays. */
	if (metrics && n >= 0)
		write_metrics(devs, n, names, have_avail ? &avail : NULL);
	rosnap_list_free(devs);
	/* A root's merge may end in any command's repair: its login notice. */
	notice_update(ctx);
	/* Removed (or renamed) under us: forget it, without fuss.  A list
	 * that failed says nothing of what is gone. */
	for (i = 0; n >= 0 && i < nwatched; i++) {
		if (watched[i].seen)
			continue;
		report(LOG_INFO, "%s is gone", watched[i].name);
		if (watched[i].waiter)
			kill(watched[i].waiter, SIGKILL);
		watched[i--] = watched[--nwatched];
	}
	reap(WNOHANG);
	return n >= 0;
}

int cmd_monitor(struct rosnap_ctx *ctx, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "warn", required_argument, NULL, 'w' },
		{ "critical", required_argument, NULL, 'c' },
		{ "min-free", required_argument, NULL, 'm' },
		{ "exec", required_argument, NULL, 'e' },
		{ "wall", no_argument, NULL, 'W' },
		{ "grow-by", required_argument, NULL, 'g' },
		{ "grow-max", required_argument, NULL, 'G' },
		{ "interval", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, 'f' },
		{ "once", no_argument, NULL, '1' },
		{ "metrics", required_argument, NULL, 'M' },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *config = "/etc/rosnap/boot.conf";
	struct rosnap_boot *boot = NULL;
	unsigned long interval = 2, pct;
	bool exit_now = false;
	struct rosnap_monitor_settings o = { 0 };
	bool have[7] = { false };
	struct rosnap_watch *events = NULL;
	struct sigaction sa;
	struct pollfd pfd[2];
	char *end, buf[64];
	int64_t deadline, left;
	bool listed;
	int c, r;

	while ((c = getopt_long(argc, argv, "w:c:m:e:Wg:G:i:f:" COMMON_SHORTOPTS,
				longopts, NULL)) != -1) {
		switch (c) {
		case 'w':
		case 'c':
			pct = strtoul(optarg, &end, 10);
			if (*end || !*optarg || pct < 1 || pct > 100)
				return usage_error("monitor", "invalid --%s '%s': a "
						   "percentage, 1 to 100",
						   c == 'w' ? "warn" : "critical",
						   optarg);
			if (c == 'w')
				o.warn_percent = (unsigned)pct, have[0] = true;
			else
				o.critical_percent = (unsigned)pct, have[1] = true;
			break;
		case 'm':
		case 'g':
		case 'G':
			r = ram_option(ctx, "monitor",
				       c == 'm' ? "min-free" :
				       c == 'g' ? "grow-by" : "grow-max", optarg,
				       c == 'm' ? &o.min_free_bytes :
				       c == 'g' ? &o.grow_by : &o.grow_max);
			if (r)
				return r;
			have[c == 'm' ? 2 : c == 'g' ? 3 : 4] = true;
			break;
		case 'e':
			if (optarg[0] != '/')
				return usage_error("monitor", "--exec needs an absolute "
						   "path to a program, not '%s'", optarg);
			o.exec = optarg;
			have[5] = true;
			break;
		case 'W':
			wall_critical = true;
			break;
		case 'i':
			interval = strtoul(optarg, &end, 10);
			if (*end || !*optarg || interval < 1 || interval > 3600)
				return usage_error("monitor", "invalid --interval '%s': "
						   "seconds, 1 to 3600", optarg);
			break;
		case 'f':
			/* The default may be missing; a file asked for may not. */
			if (access(optarg, R_OK) < 0)
				return usage_error("monitor", "--config %s: %s",
						   optarg, strerror(errno));
			config = optarg;
			break;
		case '1':
			once = true;
			break;
		case 'M':
			if (optarg[0] != '/')
				return usage_error("monitor", "--metrics needs an "
						   "absolute path, not '%s'", optarg);
			metrics = optarg;
			break;
		default:
			if (common_option(ctx, c, "monitor", &exit_now))
				break;
			return bad_option("monitor");
		}
		if (exit_now)
			return EXIT_OK;
	}
	r = need_root("monitor");
	if (r)
		return r;
	/* boot.conf's settings, then the options over them. */
	r = rosnap_boot_new(ctx, &boot);
	if (r < 0)
		return fail(r, "cannot start");
	rosnap_boot_load_config(boot, config);
	rosnap_boot_get_monitor(boot, &set);
	if (have[0])
		set.warn_percent = o.warn_percent;
	if (have[1])
		set.critical_percent = o.critical_percent;
	if (have[2])
		set.min_free_bytes = o.min_free_bytes;
	if (have[3])
		set.grow_by = o.grow_by;
	if (have[4])
		set.grow_max = o.grow_max;
	if (have[5])
		set.exec = o.exec;
	if (set.warn_percent > set.critical_percent) {
		rosnap_boot_unref(boot);
		return usage_error("monitor", "--warn (%u%%) is above --critical "
				   "(%u%%)", set.warn_percent, set.critical_percent);
	}
	if (set.grow_by && !set.grow_max) {
		rosnap_boot_unref(boot);
		return usage_error("monitor", "--grow-by needs --grow-max, the "
				   "largest the store may grow to");
	}
	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		rosnap_boot_unref(boot);
		return fail(-errno, "cannot start");
	}
	openlog("rosnap", LOG_PID, LOG_DAEMON);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* A child that ended (a waiter, a hook) is reaped by the next round,
	 * not left a zombie through a long sleep. */
	sa.sa_handler = on_child;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	report(LOG_INFO, "watching%s%s: warn at %u%%, critical at %u%%%s",
	       optind < argc ? " " : " every rosnap device",
	       optind < argc ? argv[optind] : "", set.warn_percent,
	       set.critical_percent, set.grow_by ? ", growing the store" : "");
	monitor_pid = getpid();
	/* Listening before the first round: no device can slip between. */
	if (!once && rosnap_watch_new(ctx, &events) < 0)
		events = NULL;
	pfd[0].fd = wake_pipe[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = events ? rosnap_watch_get_fd(events) : -1;
	pfd[1].events = POLLIN;
	while (!stopping) {
		listed = round_once(ctx, argv + optind);
		if (once)
			break;
		/* Nothing to read until udev tells of a device; a look now and
		 * then all the same, should an event have been lost. */
		deadline = now_ms() + 1000 * (int64_t)(events && listed && nwatched == 0 ?
						       IDLE_SECONDS : interval);
		for (;;) {
			left = deadline - now_ms();
			if (poll(pfd, 2, left > 0 ? (int)left : 0) <= 0)
				break;
			if (pfd[0].revents) {
				while (read(wake_pipe[0], buf, sizeof(buf)) > 0)
					;
				break;
			}
			/* Others' devices: sleep on, until the deadline. */
			if (rosnap_watch_read(events) > 0)
				break;
		}
	}
	rosnap_watch_unref(events);
	for (c = 0; c < nwatched; c++)
		if (watched[c].waiter)
			kill(watched[c].waiter, SIGKILL);
	/* --once returns when the programs it ran have ended. */
	if (once)
		reap(0);
	/* Stopped, it no longer vouches for them: no stale values. */
	if (metrics && !once)
		unlink(metrics);
	if (stopping)
		report(LOG_INFO, "stopping");
	rosnap_boot_unref(boot);
	return EXIT_OK;
}
