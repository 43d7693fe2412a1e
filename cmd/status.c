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
#include <unistd.h>

#include <libsmartcols.h>

#include "rosnap.h"

enum field {
	F_NAME, F_DEVICE, F_ORIGIN, F_ORIGIN_FILE, F_BACKEND, F_COW, F_ALGO,
	F_STATE, F_CHUNK, F_SIZE, F_COW_SIZE, F_COW_USED, F_COW_PCT, F_DATA,
	F_RAM, F_RATIO, F_ORIGIN_RO, F_MERGE, F_JOURNAL, F_LEVEL, F_WARN, F_CRIT,
	F_PARTS, F_REASON, F_STORE, F_LOCATION, F_PERSISTENT, F_ENCRYPTION, F_SAVED,
	F_SAVED_AT,
};

struct column {
	enum field field;
	const char *header;   /* human table */
	const char *key;      /* JSON */
	int json_type;
	int flags;
};

static const struct column status_cols[] = {
	{ F_NAME, "NAME", "name", SCOLS_JSON_STRING, 0 },
	{ F_DEVICE, NULL, "device", SCOLS_JSON_STRING, 0 },
	{ F_ORIGIN, "ORIGIN", "origin", SCOLS_JSON_STRING, 0 },
	{ F_ORIGIN_FILE, NULL, "origin_file", SCOLS_JSON_STRING, 0 },
	{ F_ORIGIN_RO, NULL, "origin_was_read_only", SCOLS_JSON_BOOLEAN, 0 },
	{ F_BACKEND, "BACKEND", "backend", SCOLS_JSON_STRING, 0 },
	{ F_COW, "COW", "cow_device", SCOLS_JSON_STRING, 0 },
	{ F_LOCATION, NULL, "location", SCOLS_JSON_STRING, 0 },
	{ F_STORE, NULL, "store", SCOLS_JSON_STRING, 0 },
	{ F_PERSISTENT, NULL, "persistent", SCOLS_JSON_BOOLEAN, 0 },
	{ F_ENCRYPTION, NULL, "encryption", SCOLS_JSON_STRING, 0 },
	{ F_SAVED, NULL, "saved_to", SCOLS_JSON_STRING, 0 },
	{ F_SAVED_AT, NULL, "saved_at", SCOLS_JSON_NUMBER, 0 },
	{ F_PARTS, NULL, "cow_parts", SCOLS_JSON_NUMBER, 0 },
	{ F_ALGO, NULL, "compression", SCOLS_JSON_STRING, 0 },
	{ F_STATE, "STATE", "state", SCOLS_JSON_STRING, 0 },
	{ F_REASON, NULL, "reason", SCOLS_JSON_STRING, 0 },
	{ F_MERGE, NULL, "merge_progress", SCOLS_JSON_NUMBER, 0 },
	{ F_JOURNAL, NULL, "journal", SCOLS_JSON_STRING, 0 },
	{ F_CHUNK, "CHUNK", "chunk_bytes", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	{ F_SIZE, NULL, "size_bytes", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	{ F_COW_SIZE, "COW-SIZE", "cow_size_bytes", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	{ F_COW_USED, "USED", "cow_used_bytes", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	{ F_COW_PCT, "USE%", "cow_used_percent", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	{ F_DATA, NULL, "data_bytes", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	{ F_RAM, "RAM", "ram_used_bytes", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	{ F_RATIO, "RATIO", "compression_ratio", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	{ F_LEVEL, "LEVEL", "level", SCOLS_JSON_STRING, 0 },
	{ F_WARN, NULL, "warn_percent", SCOLS_JSON_NUMBER, 0 },
	{ F_CRIT, NULL, "critical_percent", SCOLS_JSON_NUMBER, 0 },
};

/* The monitor's thresholds (boot.conf), for the level column. */
static struct rosnap_monitor_settings thresholds = { .warn_percent = 80,
						     .critical_percent = 95 };

static const struct column list_cols[] = {
	{ F_NAME, "NAME", "name", SCOLS_JSON_STRING, 0 },
	{ F_DEVICE, "DEVICE", "device", SCOLS_JSON_STRING, 0 },
	{ F_ORIGIN, "ORIGIN", "origin", SCOLS_JSON_STRING, 0 },
	{ F_BACKEND, "BACKEND", "backend", SCOLS_JSON_STRING, 0 },
	{ F_STATE, "STATE", "state", SCOLS_JSON_STRING, 0 },
};

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

static char *size_cell(uint64_t bytes, bool json)
{
	char buf[32];

	if (json)
		return fmt("%" PRIu64, bytes);
	rosnap_format_size(bytes, buf, sizeof(buf));
	return strdup(buf);
}

static bool has_cow(const struct rosnap_device *d)
{
	enum rosnap_state s = rosnap_device_get_state(d);

	return s != ROSNAP_STATE_UNPROTECTED && s != ROSNAP_STATE_INCOMPLETE;
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
	case F_PERSISTENT:
		/* Whether the changes survive a reboot: not with a random key. */
		s = rosnap_device_get_encryption(d);
		return strdup(rosnap_device_get_store(d) &&
			      !(s && strcmp(s, "random") == 0) ? "1" : "0");
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

static int print_devices(struct rosnap_device **devs, const struct column *cols,
			 size_t ncols, bool json)
{
	struct libscols_table *tb;
	struct libscols_column *cl;
	struct libscols_line *ln;
	size_t i, k, n;
	int r = EXIT_FAIL;

	tb = scols_new_table();
	if (!tb)
		return EXIT_NOMEM;
	scols_table_enable_json(tb, json);
	scols_table_set_name(tb, "devices");
	for (i = 0; i < ncols; i++) {
		if (!json && !cols[i].header)
			continue;
		cl = scols_table_new_column(tb, json ? cols[i].key : cols[i].header,
					    0, cols[i].flags);
		if (!cl)
			goto out;
		scols_column_set_json_type(cl, cols[i].json_type);
	}
	for (k = 0; devs[k]; k++) {
		ln = scols_table_new_line(tb, NULL);
		if (!ln)
			goto out;
		for (i = 0, n = 0; i < ncols; i++) {
			char *v;

			if (!json && !cols[i].header)
				continue;
			v = cell(devs[k], cols[i].field, json);
			if (!v && !json)
				v = strdup("-");
			if (v && scols_line_refer_data(ln, n, v) < 0) {
				free(v);
				goto out;
			}
			n++;
		}
	}
	/* An empty human table prints nothing for a script, like lsblk;
	 * a person at a terminal is told. */
	if (json || k > 0)
		scols_print_table(tb);
	else if (isatty(STDOUT_FILENO))
		printf("No rosnap devices.\n");
	/* Under the table: why a device needs attention. */
	for (k = 0; !json && cols == status_cols && devs[k]; k++)
		if (rosnap_device_get_reason(devs[k]))
			printf("%s is %s: %s\n", rosnap_device_get_name(devs[k]),
			       rosnap_state_name(rosnap_device_get_state(devs[k])),
			       rosnap_device_get_reason(devs[k]));
	r = EXIT_OK;
out:
	scols_unref_table(tb);
	return r;
}

static int parse(struct rosnap_ctx *ctx, int argc, char *argv[],
		 const char *verb, bool *json, bool *exit_now)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "J" COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (c == 'J')
			*json = true;
		else if (!common_option(ctx, c, verb, exit_now))
			return bad_option(verb);
		if (*exit_now)
			return EXIT_OK;
	}
	return need_root(verb);
}

int cmd_status(struct rosnap_ctx *ctx, int argc, char *argv[])
{
	struct rosnap_device **devs = NULL, *one[2] = { NULL, NULL };
	bool json = false, exit_now = false;
	struct rosnap_boot *boot;
	int r;

	r = parse(ctx, argc, argv, "status", &json, &exit_now);
	if (r || exit_now)
		return r;
	if (rosnap_boot_new(ctx, &boot) == 0) {
		rosnap_boot_load_config(boot, "/etc/rosnap/boot.conf");
		rosnap_boot_get_monitor(boot, &thresholds);
		rosnap_boot_unref(boot);
	}
	if (optind + 1 < argc)
		return usage_error("status", "unexpected argument '%s'",
				   argv[optind + 1]);
	if (optind < argc) {
		r = rosnap_device_open(ctx, argv[optind], &one[0]);
		if (r < 0)
			return fail(r, "cannot read %s", argv[optind]);
		r = print_devices(one, status_cols,
				  sizeof(status_cols) / sizeof(status_cols[0]),
				  json);
		rosnap_device_unref(one[0]);
		return r;
	}
	r = rosnap_list(ctx, &devs);
	if (r < 0)
		return fail(r, "cannot list rosnap devices");
	r = print_devices(devs, status_cols,
			  sizeof(status_cols) / sizeof(status_cols[0]), json);
	rosnap_list_free(devs);
	return r;
}

int cmd_list(struct rosnap_ctx *ctx, int argc, char *argv[])
{
	struct rosnap_device **devs = NULL;
	bool json = false, exit_now = false;
	int r;

	r = parse(ctx, argc, argv, "list", &json, &exit_now);
	if (r || exit_now)
		return r;
	if (optind < argc)
		return usage_error("list", "unexpected argument '%s'",
				   argv[optind]);
	r = rosnap_list(ctx, &devs);
	if (r < 0)
		return fail(r, "cannot list rosnap devices");
	r = print_devices(devs, list_cols, sizeof(list_cols) / sizeof(list_cols[0]),
			  json);
	rosnap_list_free(devs);
	return r;
}
