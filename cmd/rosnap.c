/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rosnap: the command over librosnap.  Verbs dispatch from a table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "rosnap.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

bool error_logged;

static const struct verb verbs[] = {
	{ "create", cmd_create, "make a read-only device writable in RAM" },
	{ "status", cmd_status, "show devices, their state and RAM use" },
	{ "list", cmd_list, "list rosnap devices" },
	{ "merge", cmd_merge, "write the changes into the origin, live" },
	{ "discard", cmd_discard, "throw the changes away" },
	{ "protect", cmd_protect, "protect an unprotected device again" },
	{ "recover", cmd_recover, "finish a journaled merge cut by a power loss" },
	{ "origin", cmd_origin, "a read-only view of the origin as it is" },
	{ "grow", cmd_grow, "enlarge a device's store, live" },
	{ "monitor", cmd_monitor, "watch devices: thresholds, hooks, growth" },
	{ "attach", cmd_attach, "protect again with changes kept on disk" },
	{ "save", cmd_save, "save a RAM store to disk, for create --restore" },
	{ "remove", cmd_remove, "remove a device, dropping or keeping its changes" },
	{ "boot", cmd_boot, "protect the root filesystem (from the initramfs)" },
};

/* Per-verb help: synopsis and options.  rosnap(8) has the full story. */
static const struct {
	const char *verb;
	const char *text;
} helps[] = {
	{ "create",
	  "Usage: rosnap create ORIGIN [OPTIONS]\n"
	  "\n"
	  "Make ORIGIN writable at the block level: /dev/mapper/NAME shows ORIGIN\n"
	  "and keeps every change in RAM; ORIGIN itself is set read-only.\n"
	  "ORIGIN is a block device, a disk image file (attached to a loop device),\n"
	  "or LABEL=, UUID=, PARTUUID=, PARTLABEL=.  Prints the new device's path.\n"
	  "\n"
	  "Options:\n"
	  "  -n, --name NAME          device name (default rosnap-<kernel name>)\n"
	  "  -r, --ram SIZE           copy-on-write capacity: 256M, 1G, 512K or N%\n"
	  "                           of RAM (default 50% with zram, 25% with brd)\n"
	  "  -b, --backend zram|brd   RAM device (default zram; brd automatically\n"
	  "                           when ORIGIN needs sectors under 4096 bytes\n"
	  "                           or the kernel cannot load zram)\n"
	  "  -c, --chunk SIZE         copy-on-write chunk, a power of two (default 4K)\n"
	  "      --profile edits|reads  the chunk for what the device mostly does:\n"
	  "                           edits, 4K (the default: small changes take\n"
	  "                           the least RAM); reads, 64K (faster reads of\n"
	  "                           unchanged data and first writes)\n"
	  "  -C, --compression ALGO   zram algorithm (default: zstd, else the kernel's)\n"
	  "  -s, --store PATH         keep the changes on disk instead, in PATH (a\n"
	  "                           file, made if missing, or a block device; not\n"
	  "                           on ORIGIN, not in RAM): they survive a reboot\n"
	  "                           and 'remove --keep', for 'rosnap attach'\n"
	  "  -S, --size SIZE          the size of a new store file (4G, 512M)\n"
	  "      --overwrite          use PATH even if it holds a rosnap store or\n"
	  "                           other data (which is lost)\n"
	  "      --encrypt            encrypt the store on disk with a random key\n"
	  "                           only the kernel holds: the changes are\n"
	  "                           unreadable once the device is gone (it cannot\n"
	  "                           be kept with 'remove --keep')\n"
	  "      --key-file FILE      encrypt the store on disk with LUKS2, opened\n"
	  "                           by what FILE holds (also at 'attach'; '-':\n"
	  "                           standard input, to its end); the changes\n"
	  "                           are kept.  With --restore: the key of an\n"
	  "                           encrypted save\n"
	  "      --restore PATH       start with the changes 'rosnap save' saved in\n"
	  "                           PATH (refused if ORIGIN changed since)\n" },
	{ "save",
	  "Usage: rosnap save NAME|DEVICE PATH [--overwrite] [--key-file FILE]\n"
	  "\n"
	  "Write a consistent copy of the device's RAM store to PATH (a file, or a\n"
	  "block device; on a disk, not on the origin), with the origin's identity,\n"
	  "for 'rosnap create ORIGIN --restore PATH' after a reboot.  Most of it is\n"
	  "copied while the device runs; it is suspended (its filesystem frozen)\n"
	  "only to copy what changed meanwhile.  A file is written beside PATH and\n"
	  "renamed over it: an earlier save stays whole until the new one is.\n"
	  "\n"
	  "Options:\n"
	  "      --overwrite          replace PATH even if it holds something other\n"
	  "                           than a saved store\n"
	  "      --key-file FILE      encrypt the copy with LUKS2, opened by what\n"
	  "                           FILE holds ('-': standard input, to its end);\n"
	  "                           'create --restore' takes the same key\n" },
	{ "attach",
	  "Usage: rosnap attach ORIGIN --store PATH [OPTIONS]\n"
	  "\n"
	  "Protect ORIGIN again with the changes kept in the store on disk PATH\n"
	  "(made by 'create --store', kept by 'remove --keep' or a power cut), and\n"
	  "print the device's path.  Refused, with nothing changed, when PATH's\n"
	  "header is damaged, or when it recorded another origin, or ORIGIN as it\n"
	  "was before it was written since (size, filesystem and partition UUIDs,\n"
	  "a fingerprint of its contents): applying the changes would corrupt it.\n"
	  "\n"
	  "Options:\n"
	  "  -s, --store PATH         the store (required)\n"
	  "  -n, --name NAME          device name (default: the name it had)\n"
	  "      --force              attach even to an origin that does not match;\n"
	  "                           its filesystem is then likely corrupt\n"
	  "      --key-file FILE      the key of a store encrypted with LUKS2 ('-':\n"
	  "                           standard input, to its end)\n" },
	{ "status",
	  "Usage: rosnap status [NAME|DEVICE] [OPTIONS]\n"
	  "\n"
	  "Show each rosnap device (or the one named): origin, backend, state,\n"
	  "copy-on-write capacity and use, RAM really used, compression ratio.\n"
	  "A device that is overflow, invalid, merge-failed or incomplete gets a\n"
	  "line saying why, with the kernel's own message when it logged one.\n"
	  "\n"
	  "Options:\n"
	  "  -o, --output LIST        the columns to show (comma-separated);\n"
	  "                           +LIST adds them to the default ones\n"
	  "  -J, --json               JSON output; sizes in bytes (every column,\n"
	  "                           without --output)\n"
	  "  -r, --raw                raw output: no alignment\n"
	  "  -n, --noheadings         no header line\n"
	  "  -b, --bytes              sizes in bytes\n" },
	{ "list",
	  "Usage: rosnap list [OPTIONS]\n"
	  "\n"
	  "List every rosnap device the kernel has.\n"
	  "\n"
	  "Options:\n"
	  "  -o, --output LIST        the columns to show (comma-separated);\n"
	  "                           +LIST adds them to the default ones\n"
	  "  -J, --json               JSON output\n"
	  "  -r, --raw                raw output: no alignment\n"
	  "  -n, --noheadings         no header line\n"
	  "  -b, --bytes              sizes in bytes\n" },
	{ "merge",
	  "Usage: rosnap merge NAME|DEVICE [OPTIONS]\n"
	  "\n"
	  "Write every change into the origin while the device stays mounted and in\n"
	  "use; writes during the merge are kept.  Afterwards the device protects\n"
	  "the origin again with a fresh, empty store of the same size.  Shows a\n"
	  "progress bar on a terminal.  On a device already merging: waits for it;\n"
	  "on one whose merge failed (merge-failed): restarts it; on one with no\n"
	  "changes: says so and does nothing (unless --unprotect).  Ctrl-C while\n"
	  "it waits stops the waiting, not the merge; during the copy into a\n"
	  "journal it cancels the merge, and nothing changes.\n"
	  "\n"
	  "Options:\n"
	  "  -n, --no-wait            return at once; a background process finishes\n"
	  "                           the merge ('rosnap status' shows progress)\n"
	  "  -u, --unprotect          afterwards, map the origin plainly: writes go\n"
	  "                           to disk until 'rosnap protect'\n"
	  "  -j, --journal PATH       power-loss-safe: copy the changes to PATH (a\n"
	  "                           new file on another disk, or a block device)\n"
	  "                           first and merge from there; after a power cut\n"
	  "                           'rosnap recover PATH' finishes the merge (on a\n"
	  "                           terminal, a bar of its own shows the copy)\n" },
	{ "discard",
	  "Usage: rosnap discard NAME|DEVICE [--remove]\n"
	  "\n"
	  "Throw the changes away: the device shows the origin as it is again, with\n"
	  "an empty store.  Refused while the device is mounted or open.\n"
	  "\n"
	  "Options:\n"
	  "  -R, --remove             remove the device instead\n" },
	{ "protect",
	  "Usage: rosnap protect NAME|DEVICE [--ram SIZE]\n"
	  "\n"
	  "Protect an unprotected device again (after 'merge --unprotect'), live,\n"
	  "with a fresh store; writes from now on go to RAM.\n"
	  "\n"
	  "Options:\n"
	  "  -r, --ram SIZE           store capacity (default as for create)\n" },
	{ "recover",
	  "Usage: rosnap recover JOURNAL [--origin DEVICE]\n"
	  "\n"
	  "Finish a journaled merge cut short by a power loss, before the origin is\n"
	  "used: check that JOURNAL and the origin belong together (size, and the\n"
	  "filesystem, partition table and partition UUIDs the journal recorded),\n"
	  "merge the rest, and delete JOURNAL once the kernel says the merge is\n"
	  "complete.  The origin must not be in use.\n"
	  "\n"
	  "Options:\n"
	  "  -o, --origin DEVICE      the origin, when the journal's UUID and size do\n"
	  "                           not find it; needed when the origin had no\n"
	  "                           UUID at all (raw data)\n" },
	{ "origin",
	  "Usage: rosnap origin NAME|DEVICE [--close]\n"
	  "\n"
	  "Make a read-only view of the origin as it is on disk, beside the\n"
	  "writable device, and print its path (/dev/mapper/NAME-origin).  Mount it\n"
	  "read-only (ext4: -o ro,noload; xfs: -o ro,norecovery,nouuid).\n"
	  "\n"
	  "Options:\n"
	  "  -x, --close              remove the view\n" },
	{ "grow",
	  "Usage: rosnap grow NAME|DEVICE --by SIZE\n"
	  "\n"
	  "Enlarge the device's copy-on-write store by SIZE, live, with one more\n"
	  "RAM device of the same kind; neither SIZE nor the new size may exceed\n"
	  "the machine's memory.\n"
	  "\n"
	  "Options:\n"
	  "  -b, --by SIZE            how much: 256M, 1G, or N% of RAM\n" },
	{ "monitor",
	  "Usage: rosnap monitor [NAME...] [OPTIONS]\n"
	  "\n"
	  "Watch rosnap devices (all, or those named) in the foreground: report\n"
	  "each crossing of a threshold of the store's use once, to syslog and\n"
	  "stderr; run a program; grow the store.  Defaults come from\n"
	  "/etc/rosnap/boot.conf (warn=, critical=, min_free=, grow_by=, grow_max=,\n"
	  "exec=).  SIGTERM stops it.\n"
	  "\n"
	  "Options:\n"
	  "  -w, --warn PCT           warn at PCT% of the store (default 80)\n"
	  "  -c, --critical PCT       critical at PCT% (default 95)\n"
	  "  -m, --min-free SIZE      report memory below SIZE (or N%) available\n"
	  "  -e, --exec PROGRAM       run PROGRAM at each crossing (no shell; the\n"
	  "                           facts are in ROSNAP_* environment variables)\n"
	  "  -W, --wall               also tell logged-in users at critical\n"
	  "  -g, --grow-by SIZE       at warn, grow the store by SIZE ...\n"
	  "  -G, --grow-max SIZE      ... up to SIZE in all, memory permitting\n"
	  "  -i, --interval SECONDS   how often to read the store's use (default 2),\n"
	  "                           and to look for devices where udevd does\n"
	  "                           not run (with it, udev's events tell)\n"
	  "  -f, --config FILE        settings file (default /etc/rosnap/boot.conf)\n"
	  "      --once               one round, then exit (after its hooks)\n"
	  "      --metrics FILE       write the devices' state to FILE at each\n"
	  "                           round, for a metrics collector (Prometheus\n"
	  "                           text format, node_exporter's textfile)\n" },
	{ "boot",
	  "Usage: rosnap boot [ROOT] [OPTIONS]\n"
	  "\n"
	  "Run by the initramfs before the root filesystem is mounted: read\n"
	  "/etc/rosnap/boot.conf and the kernel command line (rosnap, rosnap=off,\n"
	  "rosnap.ram=, rosnap.backend=, rosnap.compression=, rosnap.profile=,\n"
	  "rosnap.fallback=,\n"
	  "rosnap.name=, rosnap.journal=, rosnap.store=, rosnap.restore=,\n"
	  "rosnap.save=, rosnap.notice=, rosnap.reset; boot.conf's key=), finish\n"
	  "a journaled merge a power loss cut, protect ROOT (default: root= of the\n"
	  "command line) with its changes in RAM, in a store on disk, or from a\n"
	  "saved RAM store, and print the device to mount as root; leave a login\n"
	  "notice in /run/motd.d.  See rosnap-boot(7).\n"
	  "\n"
	  "Options:\n"
	  "      --config FILE        settings file (default /etc/rosnap/boot.conf)\n"
	  "      --cmdline FILE       command line (default /proc/cmdline)\n"
	  "      --link PATH          also make PATH a link to that device\n"
	  "      --generator DIR      as a systemd generator in an initrd: write the\n"
	  "                           units that protect the root into DIR\n"
	  "      --save               at a clean shutdown (rosnap-save.service): save\n"
	  "                           the root's RAM store to the save= device\n" },
	{ "remove",
	  "Usage: rosnap remove NAME|DEVICE [--keep]\n"
	  "\n"
	  "Remove a rosnap device and its store; its changes are lost (a store on\n"
	  "disk is left with its header wiped).  The origin gets back the\n"
	  "read-only flag it had before.  Refused while the device is mounted or\n"
	  "open.\n"
	  "\n"
	  "Options:\n"
	  "  -k, --keep               keep the changes in the store on disk, for\n"
	  "                           'rosnap attach'\n" },
};

static const char common_help[] =
	"\n"
	"  -v, --verbose            say what is done\n"
	"  -q, --quiet              errors only\n"
	"      --debug              debugging messages (libdevmapper's too)\n"
	"  -h, --help               this help\n";

void verb_help(const char *verb)
{
	size_t i;

	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		if (strcmp(helps[i].verb, verb) == 0) {
			fputs(helps[i].text, stdout);
			fputs(common_help, stdout);
			return;
		}
	}
}

static void help(void)
{
	size_t i;

	printf("Usage: rosnap VERB [ARGUMENTS] [OPTIONS]\n"
	       "\n"
	       "Make a read-only disk writable at the block level, keeping the\n"
	       "changes in compressed RAM.\n"
	       "\n"
	       "Verbs:\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
	printf("\n"
	       "Signals wait while a command changes a device, so none is left\n"
	       "suspended; after a SIGKILL the next rosnap command repairs what was\n"
	       "left (rosnap(8), INTERRUPTIONS).\n"
	       "\n"
	       "'rosnap VERB --help' for a verb's options; rosnap(8) for more.\n"
	       "\n"
	       "  -h, --help               this help\n"
	       "  -V, --version            version\n");
}

static void log_to_stderr(struct rosnap_ctx *ctx, int priority,
			  const char *msg, void *data)
{
	(void)ctx;
	(void)data;
	bar_interrupt();
	if (priority <= LOG_ERR) {
		error_logged = true;
		fprintf(stderr, "rosnap: %s\n", msg);
	} else if (priority == LOG_WARNING) {
		fprintf(stderr, "rosnap: warning: %s\n", msg);
	} else if (priority <= LOG_INFO) {
		fprintf(stderr, "rosnap: %s\n", msg);
	} else {
		fprintf(stderr, "rosnap: debug: %s\n", msg);
	}
}

int common_option(struct rosnap_ctx *ctx, int c, const char *verb,
		  bool *exit_now)
{
	switch (c) {
	case 'h':
		verb_help(verb);
		*exit_now = true;
		return 1;
	case 'v':
		rosnap_set_log_priority(ctx, LOG_INFO);
		return 1;
	case 'q':
		rosnap_set_log_priority(ctx, LOG_ERR);
		return 1;
	case OPT_DEBUG:
		rosnap_set_log_priority(ctx, LOG_DEBUG);
		return 1;
	default:
		return 0;
	}
}

int usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rosnap %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'rosnap %s --help'.\n", verb);
	return EXIT_USAGE;
}

int ram_option(struct rosnap_ctx *ctx, const char *verb, const char *opt,
	       const char *arg, uint64_t *bytes)
{
	if (rosnap_parse_ram(ctx, arg, bytes) < 0)
		return usage_error(verb, "invalid --%s '%s': give a size such as "
				   "256M or 1G, or N%% of RAM (1-100%%)", opt, arg);
	if (*bytes == 0)
		return usage_error(verb, "--%s must be more than zero", opt);
	return 0;
}

int bad_option(const char *verb)
{
	fprintf(stderr, "Try 'rosnap %s --help'.\n", verb);
	return EXIT_USAGE;
}

int exit_code(int r)
{
	switch (-r) {
	case 0:
		return EXIT_OK;
	case EINVAL:
	case ENAMETOOLONG:
	case ERANGE:
	case ENOTBLK:
		return EXIT_USAGE;
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return EXIT_NOTFOUND;
	case EBUSY:
	case EEXIST:
		return EXIT_BUSY;
	case EPERM:
	case EACCES:
		return EXIT_PERM;
	case EOPNOTSUPP:
		return EXIT_NOSUPPORT;
	case ENOMEM:
	case ENOSPC:
		return EXIT_NOMEM;
	default:
		return EXIT_FAIL;
	}
}

int fail(int r, const char *fmt, ...)
{
	va_list ap;

	if (!error_logged) {
		fprintf(stderr, "rosnap: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, ": %s\n", strerror(-r));
	}
	return exit_code(r);
}

int main(int argc, char *argv[])
{
	static char prog[64];
	struct rosnap_ctx *ctx;
	const struct verb *v = NULL;
	size_t i;
	int r;

	if (argc < 2) {
		help();
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		help();
		return EXIT_OK;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("rosnap %s\n", VERSION);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			v = &verbs[i];
	if (!v) {
		fprintf(stderr, "rosnap: unknown verb '%s'\nTry 'rosnap --help'.\n",
			argv[1]);
		return EXIT_USAGE;
	}
	r = rosnap_new(&ctx);
	if (r < 0) {
		fprintf(stderr, "rosnap: %s\n", strerror(-r));
		return EXIT_NOMEM;
	}
	rosnap_set_log_fn(ctx, log_to_stderr, NULL);
	rosnap_set_log_priority(ctx, LOG_NOTICE);
	/* getopt names the program after argv[0]: make that "rosnap VERB". */
	snprintf(prog, sizeof(prog), "rosnap %s", v->name);
	argv[1] = prog;
	r = v->run(ctx, argc - 1, argv + 1);
	rosnap_unref(ctx);
	return r;
}

int need_root(const char *verb)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr, "rosnap %s: permission denied: rosnap drives "
		"device-mapper and must run as root (try sudo)\n", verb);
	return EXIT_PERM;
}
