/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the rosnap command's verbs. */
#ifndef ROSNAP_CMD_H
#define ROSNAP_CMD_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "librosnap.h"

/* Exit codes: documented in rosnap(8), EXIT STATUS. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,       /* the operation failed */
	EXIT_USAGE = 2,      /* invalid command line or argument */
	EXIT_NOTFOUND = 3,   /* no such origin or rosnap device */
	EXIT_BUSY = 4,       /* in use, mounted, or the name is taken */
	EXIT_PERM = 5,       /* permission denied: run as root */
	EXIT_NOSUPPORT = 6,  /* the kernel lacks what rosnap needs */
	EXIT_NOMEM = 7,      /* not enough memory or space */
};

struct verb {
	const char *name;
	int (*run)(struct rosnap_ctx *ctx, int argc, char *argv[]);
	const char *summary;
};

/* Options every verb takes; keep in sync with common_option(). */
#define OPT_DEBUG 0x100
#define COMMON_LONGOPTS                                   \
	{ "help", no_argument, NULL, 'h' },               \
	{ "verbose", no_argument, NULL, 'v' },            \
	{ "quiet", no_argument, NULL, 'q' },              \
	{ "debug", no_argument, NULL, OPT_DEBUG }
#define COMMON_SHORTOPTS "hvq"

/*
 * Handle a common option: 1 if it was one (for -h the verb's help is
 * printed and *exit_now set), 0 if not.
 */
int common_option(struct rosnap_ctx *ctx, int c, const char *verb,
		  bool *exit_now);
/* Report a bad command line; returns EXIT_USAGE. */
int usage_error(const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* After getopt has named the bad option itself. */
int bad_option(const char *verb);
void verb_help(const char *verb);
/* --OPT SIZE|N% (--ram, --by...): a usage error (returned) unless above zero. */
int ram_option(struct rosnap_ctx *ctx, const char *verb, const char *opt,
	       const char *arg, uint64_t *bytes);
/* Every verb drives device-mapper: refuse early, clearly, when not root. */
int need_root(const char *verb);
/* Map a negative errno from librosnap to an exit code. */
int exit_code(int r);
/* Print an error unless the library already explained the failure. */
int fail(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern bool error_logged;
/* End the progress bar on the screen, if any, before other output. */
void bar_interrupt(void);

/* replace.c: a file written as tmp (on path's filesystem), then renamed
 * over path whole.  replace_start(): NULL with errno set; replace_finish():
 * 0 or -errno, tmp removed on failure. */
FILE *replace_start(const char *tmp);
int replace_finish(FILE *f, const char *tmp, const char *path);

/* metrics.c: the devices' state in Prometheus' text format, written to
 * path whole (renamed over it); avail NULL: not known.  0 or -errno. */
int metrics_write(const char *path, struct rosnap_device **devs, int n,
		  const struct rosnap_monitor_settings *set, const uint64_t *avail);

/*
 * notice.c: the login notice of a protected root (/run/motd.d/rosnap).
 * notice_boot() records the root's device NAME and writes it (on: boot.conf's
 * notice=; protected: the boot protected the root); notice_update() makes
 * it say what the root's device is now (nothing when it is not protected);
 * notice_merging() takes it away before a merge of NAME if NAME is the root.
 */
void notice_boot(struct rosnap_ctx *ctx, const char *name, bool on);
void notice_update(struct rosnap_ctx *ctx);
void notice_merging(const char *name);

int cmd_create(struct rosnap_ctx *ctx, int argc, char *argv[]);
int cmd_remove(struct rosnap_ctx *ctx, int argc, char *argv[]);
int cmd_attach(struct rosnap_ctx *ctx, int argc, char *argv[]);
int cmd_save(struct rosnap_ctx *ctx, int argc, char *argv[]);
int cmd_status(struct rosnap_ctx *ctx, int argc, char *argv[]);
int cmd_list(struct rosnap_ctx *ctx, int argc, char *argv[]);
int cmd_merge(struct rosnap_ctx *ctx, int argc, char *argv[]);
int cmd_recover(struct rosnap_ctx *ctx, int argc, char *argv[]);
int cmd_discard(struct rosnap_ctx *ctx, int argc, char *argv[]);
int cmd_protect(struct rosnap_ctx *ctx, int argc, char *argv[]);
int cmd_boot(struct rosnap_ctx *ctx, int argc, char *argv[]);
int cmd_origin(struct rosnap_ctx *ctx, int argc, char *argv[]);
int cmd_monitor(struct rosnap_ctx *ctx, int argc, char *argv[]);
int cmd_grow(struct rosnap_ctx *ctx, int argc, char *argv[]);

#endif
