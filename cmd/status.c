/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosnap status [NAME|DEVICE] [--json] and rosnap list [--json].
 * Tables and JSON through libsmartcols, as lsblk and zramctl do.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libsmartcols.h>

#include "rosnap.h"

enum field {
	F_NAME, F_DEVICE, F_ORIGIN, F_ORIGIN_FILE, F_BACKEND, F_COW, F_ALGO,
	F_STATE, F_CHUNK, F_SIZE, F_COW_SIZE, F_COW_USED, F_COW_PCT, F_DATA,
	F_RAM, F_RATIO, F_ORIGIN_RO, F_MERGE, F_JOURNAL, F_LEVEL, F_WARN, F_CRIT,
	F_PARTS, F_REASON, F_STORE, F_LOCATION, F_PERSISTENT, F_ENCRYPTION, F_SAVED,
	F_SAVED_AT, F_MOUNTPOINT,
};

struct column {
	enum field field;
	const char *name;     /* --output, and the table's header */
	const char *key;      /* JSON */
	int json_type;
	int flags;
	const char *help;     /* a line of --help */
};

/* Every column, in the order of status --json. */
static const struct column columns[] = {
	{ F_NAME, "NAME", "name", SCOLS_JSON_STRING, 0, "device name" },
	{ F_DEVICE, "DEVICE", "device", SCOLS_JSON_STRING, 0,
	  "device path (/dev/mapper/NAME)" },
	{ F_MOUNTPOINT, "MOUNTPOINT", "mountpoint", SCOLS_JSON_STRING, 0,
	  "where the device is mounted" },
	{ F_ORIGIN, "ORIGIN", "origin", SCOLS_JSON_STRING, 0,
	  "the protected device (a disk image by its file)" },
	{ F_ORIGIN_FILE, "ORIGIN-FILE", "origin_file", SCOLS_JSON_STRING, 0,
	  "the disk image behind the origin's loop device" },
	{ F_ORIGIN_RO, "ORIGIN-RO", "origin_was_read_only", SCOLS_JSON_BOOLEAN, 0,
	  "whether the origin was read-only before" },
	{ F_BACKEND, "BACKEND", "backend", SCOLS_JSON_STRING, 0,
	  "where the store is: zram, brd, disk" },
	{ F_COW, "COW", "cow_device", SCOLS_JSON_STRING, 0,
	  "the store's device (on disk: its file)" },
	{ F_LOCATION, "LOCATION", "location", SCOLS_JSON_STRING, 0,
	  "where the changes live: ram, disk, journal" },
	{ F_STORE, "STORE", "store", SCOLS_JSON_STRING, 0,
	  "the store on disk (file or device)" },
	{ F_PERSISTENT, "PERSISTENT", "persistent", SCOLS_JSON_BOOLEAN, 0,
	  "whether the changes survive a reboot" },
	{ F_ENCRYPTION, "ENCRYPTION", "encryption", SCOLS_JSON_STRING, 0,
	  "the store's encryption: random, luks2" },
	{ F_SAVED, "SAVED-TO", "saved_to", SCOLS_JSON_STRING, 0,
	  "where rosnap save last saved the RAM store" },
	{ F_SAVED_AT, "SAVED-AT", "saved_at", SCOLS_JSON_NUMBER, 0,
	  "when (seconds since 1970)" },
	{ F_PARTS, "COW-PARTS", "cow_parts", SCOLS_JSON_NUMBER, 0,
	  "RAM devices the store spans (after grow)" },
	{ F_ALGO, "ALGORITHM", "compression", SCOLS_JSON_STRING, 0,
	  "zram's compression algorithm" },
	{ F_STATE, "STATE", "state", SCOLS_JSON_STRING, 0,
	  "active, overflow, invalid, merging, ..." },
	{ F_REASON, "REASON", "reason", SCOLS_JSON_STRING, 0,
	  "why a device needs attention" },
	{ F_MERGE, "MERGE", "merge_progress", SCOLS_JSON_NUMBER, 0,
	  "a merge's progress, 0 to 1" },
	{ F_JOURNAL, "JOURNAL", "journal", SCOLS_JSON_STRING, 0,
	  "a journaled merge's journal" },
	{ F_CHUNK, "CHUNK", "chunk_bytes", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT,
	  "copy-on-write chunk size" },
	{ F_SIZE, "SIZE", "size_bytes", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT,
	  "the device's size" },
	{ F_COW_SIZE, "COW-SIZE", "cow_size_bytes", SCOLS_JSON_NUMBER,
	  SCOLS_FL_RIGHT, "the store's capacity" },
	{ F_COW_USED, "USED", "cow_used_bytes", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT,
	  "room in the store the changes take" },
	{ F_COW_PCT, "USE%", "cow_used_percent", SCOLS_JSON_NUMBER,
	  SCOLS_FL_RIGHT, "the store's use, in percent" },
	{ F_DATA, "DATA", "data_bytes", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT,
	  "the changes' data, uncompressed" },
	{ F_RAM, "RAM", "ram_used_bytes", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT,
	  "memory the changes really take" },
	{ F_RATIO, "RATIO", "compression_ratio", SCOLS_JSON_NUMBER,
	  SCOLS_FL_RIGHT, "data per byte of memory" },
	{ F_LEVEL, "LEVEL", "level", SCOLS_JSON_STRING, 0,
	  "the monitor's level: ok, warn, critical, ..." },
	{ F_WARN, "WARN", "warn_percent", SCOLS_JSON_NUMBER, 0,
	  "the monitor's warn threshold, percent" },
	{ F_CRIT, "CRITICAL", "critical_percent", SCOLS_JSON_NUMBER, 0,
	  "the monitor's critical threshold, percent" },
};

/* The columns each verb shows by default (its JSON: status all of them). */
static const char status_default[] =
	"NAME,ORIGIN,BACKEND,COW,STATE,CHUNK,COW-SIZE,USED,USE%,RAM,RATIO,LEVEL";
static const char list_default[] = "NAME,DEVICE,ORIGIN,BACKEND,STATE";

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_COLUMNS 64
struct output {
	const struct column *cols[MAX_COLUMNS];
	size_t ncols;
	bool json, raw, noheadings, bytes;
	const char *list;     /* --output's argument, or NULL */
};

/* The monitor's thresholds (boot.conf), for the level column. */
static struct rosnap_monitor_settings thresholds = { .warn_percent = 80,
						     .critical_percent = 95 };

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* Sizes in bytes in JSON and with --bytes. */
static bool in_bytes;

static char *size_cell(uint64_t bytes, bool json)
{
	char buf[32];

	if (json || in_bytes)
		return fmt("%" PRIu64, bytes);
	rosnap_format_size(bytes, buf, sizeof(buf));
	return strdup(buf);
}

static bool has_cow(const struct rosnap_device *d)
{
	enum rosnap_state s = rosnap_device_get_state(d);

	return s != ROSNAP_STATE_UNPROTECTED && s != ROSNAP_STATE_INCOMPLETE;
}

/* Where the device is mounted (its first mount), or NULL. */
static char *mountpoint_of(const struct rosnap_device *d)
{
	char *target;

	return rosnap_device_get_mountpoint(d, &target) > 0 ? target : NULL;
}

/* The cell for a field; NULL means empty (JSON null). */
static char *cell(const struct rosnap_device *d, enum field f, bool json)
{
	const char *s;
	uint64_t size, used, ram, data;

	size = rosnap_device_get_cow_size(d);
	used = rosnap_device_get_cow_used(d);
	ram = rosnap_device_get_ram_used(d);
	data = rosnap_device_get_data_bytes(d);
	switch (f) {
	case F_NAME:
		return strdup(rosnap_device_get_name(d));
	case F_DEVICE:
		s = rosnap_device_get_path(d);
		return s ? strdup(s) : NULL;
	case F_ORIGIN:
		s = rosnap_device_get_origin_file(d);
		if (!s || json)
			s = rosnap_device_get_origin(d);
		return s ? strdup(s) : NULL;
	case F_ORIGIN_FILE:
		s = rosnap_device_get_origin_file(d);
		return s ? strdup(s) : NULL;
	case F_ORIGIN_RO:
		/* smartcols reads any text but "0" as a JSON true. */
		if (json)
			return strdup(rosnap_device_origin_was_ro(d) ? "1" : "0");
		return strdup(rosnap_device_origin_was_ro(d) ? "yes" : "no");
	case F_BACKEND:
		return strdup(rosnap_backend_name(rosnap_device_get_backend(d)));
	case F_COW:
		/* On a terminal, a store on disk by its file, not its loop. */
		s = json ? NULL : rosnap_device_get_store(d);
		if (s && rosnap_device_get_encryption(d))
			return fmt("%s (encrypted)", s);
		if (!s)
			s = rosnap_device_get_cow_device(d);
		return s ? strdup(s) : NULL;
	case F_STORE:
		s = rosnap_device_get_store(d);
		return s ? strdup(s) : NULL;
	case F_LOCATION:
		/* Where the changes live: "ram", "disk", or a merge's "journal". */
		if (!has_cow(d))
			return NULL;
		if (rosnap_device_get_store(d))
			return strdup("disk");
		return strdup(rosnap_device_get_journal(d) ? "journal" : "ram");
	case F_PERSISTENT: {
		/* Whether the changes survive a reboot: not with a random key. */
		bool kept;

		s = rosnap_device_get_encryption(d);
		kept = rosnap_device_get_store(d) && !(s && strcmp(s, "random") == 0);
		return strdup(json ? (kept ? "1" : "0") : (kept ? "yes" : "no"));
	}
	case F_MOUNTPOINT:
		return mountpoint_of(d);
	case F_ENCRYPTION:
		s = rosnap_device_get_encryption(d);
		return s ? strdup(s) : NULL;
	case F_SAVED:
		s = rosnap_device_get_saved(d, NULL);
		return s ? strdup(s) : NULL;
	case F_SAVED_AT: {
		uint64_t when;

		if (!rosnap_device_get_saved(d, &when))
			return NULL;
		return fmt("%" PRIu64, when);
	}
	case F_ALGO:
		s = rosnap_device_get_compression(d);
		return s ? strdup(s) : NULL;
	case F_STATE:
		/* A merge shows its progress: "merging 45%". */
		if (!json && rosnap_device_get_merge_progress(d) >= 0)
			return fmt("%s %.0f%%",
				   rosnap_state_name(rosnap_device_get_state(d)),
				   100.0 * rosnap_device_get_merge_progress(d));
		return strdup(rosnap_state_name(rosnap_device_get_state(d)));
	case F_MERGE:
		if (rosnap_device_get_merge_progress(d) < 0)
			return NULL;
		return fmt("%.4f", rosnap_device_get_merge_progress(d));
	case F_JOURNAL:
		s = rosnap_device_get_journal(d);
		return s ? strdup(s) : NULL;
	case F_CHUNK:
		if (!rosnap_device_get_chunk_bytes(d))
			return NULL;
		return size_cell(rosnap_device_get_chunk_bytes(d), json);
	case F_SIZE:
		return size_cell(rosnap_device_get_size(d), json);
	case F_COW_SIZE:
		return has_cow(d) ? size_cell(size, json) : NULL;
	case F_COW_USED:
		return has_cow(d) ? size_cell(used, json) : NULL;
	case F_COW_PCT:
		if (!has_cow(d) || !size)
			return NULL;
		return fmt(json ? "%.2f" : "%.1f%%", 100.0 * (double)used /
							    (double)size);
	case F_DATA:
		return has_cow(d) ? size_cell(data, json) : NULL;
	case F_RAM:
		return has_cow(d) ? size_cell(ram, json) : NULL;
	case F_RATIO:
		if (!has_cow(d) || !ram || !data)
			return NULL;
		return fmt("%.2f", (double)data / (double)ram);
	case F_LEVEL:
		return strdup(rosnap_level_name(
			rosnap_device_get_level(d, &thresholds, NULL)));
	case F_WARN:
		return fmt("%u", thresholds.warn_percent);
	case F_CRIT:
		return fmt("%u", thresholds.critical_percent);
	case F_PARTS:
		return has_cow(d) ? fmt("%u", rosnap_device_get_cow_parts(d)) : NULL;
	case F_REASON:
		s = rosnap_device_get_reason(d);
		return s ? strdup(s) : NULL;
	}
	return NULL;
}

/* Each column once: a JSON key twice would make no object. */
static bool chosen(const struct output *out, const struct column *c)
{
	size_t i;

	for (i = 0; i < out->ncols; i++)
		if (out->cols[i] == c)
			return true;
	return false;
}

/*
 * The columns to print: a verb's default (for --json, status: all of
 * them), or --output's list ("+LIST": added to the default).  Returns
 * 0, or a usage error's exit status.
 */
static int choose_columns(struct output *out, const char *verb,
			  const char *deflt, bool json_all)
{
	char buf[1024], *p, *tok, *save = NULL;
	const char *list = out->list;
	size_t i;
	int pass;

	out->ncols = 0;
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0) {
			if (list && list[0] != '+')
				continue;
			if (out->json && json_all) {
				for (i = 0; i < ARRAY_SIZE(columns); i++)
					out->cols[out->ncols++] = &columns[i];
				continue;
			}
			snprintf(buf, sizeof(buf), "%s", deflt);
		} else {
			if (!list)
				break;
			if (snprintf(buf, sizeof(buf), "%s", list + (list[0] == '+')) >=
			    (int)sizeof(buf))
				return usage_error(verb, "--output is too long");
		}
		for (p = buf; (tok = strtok_r(p, ",", &save)); p = NULL) {
			for (i = 0; i < ARRAY_SIZE(columns); i++)
				if (strcasecmp(tok, columns[i].name) == 0)
					break;
			if (i == ARRAY_SIZE(columns))
				return usage_error(verb, "unknown column '%s' ('rosnap "
						   "%s --help' lists them)", tok, verb);
			if (chosen(out, &columns[i]))
				continue;
			if (out->ncols == MAX_COLUMNS)
				return usage_error(verb, "too many columns");
			out->cols[out->ncols++] = &columns[i];
		}
	}
	if (!out->ncols)
		return usage_error(verb, "--output names no column");
	return 0;
}

static int print_devices(struct rosnap_device **devs, const struct output *out,
			 bool reasons)
{
	struct libscols_table *tb;
	struct libscols_column *cl;
	struct libscols_line *ln;
	bool json = out->json;
	size_t i, k;
	int r = EXIT_FAIL;

	tb = scols_new_table();
	if (!tb)
		return EXIT_NOMEM;
	scols_table_enable_json(tb, json);
	scols_table_enable_raw(tb, out->raw);
	scols_table_enable_noheadings(tb, out->noheadings);
	scols_table_set_name(tb, "devices");
	for (i = 0; i < out->ncols; i++) {
		cl = scols_table_new_column(tb, json ? out->cols[i]->key :
						       out->cols[i]->name,
					    0, out->cols[i]->flags);
		if (!cl)
			goto out;
		scols_column_set_json_type(cl, out->cols[i]->json_type);
	}
	for (k = 0; devs[k]; k++) {
		ln = scols_table_new_line(tb, NULL);
		if (!ln)
			goto out;
		for (i = 0; i < out->ncols; i++) {
			char *v = cell(devs[k], out->cols[i]->field, json);

			if (!v && !json)
				v = strdup("-");
			if (v && scols_line_refer_data(ln, i, v) < 0) {
				free(v);
				goto out;
			}
		}
	}
	/* An empty human table prints nothing for a script, like lsblk;
	 * a person at a terminal is told. */
	if (json || k > 0)
		scols_print_table(tb);
	else if (isatty(STDOUT_FILENO))
		printf("No rosnap devices.\n");
	/* Under the default table: why a device needs attention. */
	for (k = 0; reasons && !json && devs[k]; k++)
		if (rosnap_device_get_reason(devs[k]))
			printf("%s is %s: %s\n", rosnap_device_get_name(devs[k]),
			       rosnap_state_name(rosnap_device_get_state(devs[k])),
			       rosnap_device_get_reason(devs[k]));
	r = EXIT_OK;
out:
	scols_unref_table(tb);
	return r;
}

/* The verb's help, then a line for each column, as lsblk's. */
static void help_columns(const char *verb, bool *exit_now)
{
	size_t i;

	verb_help(verb);
	printf("\nColumns (default: %s):\n",
	       strcmp(verb, "list") == 0 ? list_default : status_default);
	for (i = 0; i < ARRAY_SIZE(columns); i++)
		printf("  %-12s %s\n", columns[i].name, columns[i].help);
	*exit_now = true;
}

static int parse(struct rosnap_ctx *ctx, int argc, char *argv[],
		 const char *verb, struct output *out, bool *exit_now)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "output", required_argument, NULL, 'o' },
		{ "raw", no_argument, NULL, 'r' },
		{ "noheadings", no_argument, NULL, 'n' },
		{ "bytes", no_argument, NULL, 'b' },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "Jo:rnb" COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (c == 'J')
			out->json = true;
		else if (c == 'o')
			out->list = optarg;
		else if (c == 'r')
			out->raw = true;
		else if (c == 'n')
			out->noheadings = true;
		else if (c == 'b')
			out->bytes = true;
		else if (c == 'h')
			help_columns(verb, exit_now);
		else if (!common_option(ctx, c, verb, exit_now))
			return bad_option(verb);
		if (*exit_now)
			return EXIT_OK;
	}
	in_bytes = out->bytes;
	return need_root(verb);
}

/* The monitor's thresholds, as boot.conf sets them, for LEVEL. */
static void load_thresholds(struct rosnap_ctx *ctx)
{
	struct rosnap_boot *boot;

	if (rosnap_boot_new(ctx, &boot) == 0) {
		rosnap_boot_load_config(boot, "/etc/rosnap/boot.conf");
		rosnap_boot_get_monitor(boot, &thresholds);
		rosnap_boot_unref(boot);
	}
}

/* The default human table of status, which reasons go under. */
static bool plain_status(const struct output *out)
{
	return !out->list && !out->raw && !out->noheadings;
}

/*
 * status [NAME|DEVICE] and list: the same options and columns; status
 * names one device if asked, shows all of its keys in JSON and the
 * reasons under its default table.
 */
static int show(struct rosnap_ctx *ctx, int argc, char *argv[],
		const char *verb)
{
	bool status = strcmp(verb, "status") == 0, exit_now = false;
	struct rosnap_device **devs = NULL, *one[2] = { NULL, NULL };
	struct output out = { 0 };
	int r;

	r = parse(ctx, argc, argv, verb, &out, &exit_now);
	if (r || exit_now)
		return r;
	if (optind + status < argc)
		return usage_error(verb, "unexpected argument '%s'",
				   argv[optind + status]);
	r = choose_columns(&out, verb, status ? status_default : list_default,
			   status);
	if (r)
		return r;
	load_thresholds(ctx);
	if (optind < argc) {
		r = rosnap_device_open(ctx, argv[optind], &one[0]);
		if (r < 0)
			return fail(r, "cannot read %s", argv[optind]);
		devs = one;
	} else {
		r = rosnap_list(ctx, &devs);
		if (r < 0)
			return fail(r, "cannot list rosnap devices");
	}
	r = print_devices(devs, &out, status && plain_status(&out));
	if (devs == one)
		rosnap_device_unref(one[0]);
	else
		rosnap_list_free(devs);
	return r;
}

int cmd_status(struct rosnap_ctx *ctx, int argc, char *argv[])
{
	return show(ctx, argc, argv, "status");
}

int cmd_list(struct rosnap_ctx *ctx, int argc, char *argv[])
{
	return show(ctx, argc, argv, "list");
}
