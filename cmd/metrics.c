/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor's state for a fleet's metrics collector: Prometheus' text
 * format, in a file for node_exporter's textfile collector.  The file is
 * written beside its final name and renamed over it, so that a reader
 * never sees half of it (the collector reads only names ending in .prom:
 * the temporary one is not).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rosnap.h"

/* A label's value: backslash, double quote and newline escaped. */
static void label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void help(FILE *f, const char *metric, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", metric, text, metric);
}

static void sample(FILE *f, const char *metric, const char *name,
		   const char *key, const char *value, double v)
{
	fprintf(f, "%s{name=\"", metric);
	label(f, name);
	if (key && value) {
		fprintf(f, "\",%s=\"", key);
		label(f, value);
	}
	fprintf(f, "\"} %.17g\n", v);
}

static bool has_store(const struct rosnap_device *d)
{
	enum rosnap_state s = rosnap_device_get_state(d);

	return s != ROSNAP_STATE_UNPROTECTED && s != ROSNAP_STATE_INCOMPLETE;
}

static void write_metrics(FILE *f, struct rosnap_device **devs, int n,
			  const struct rosnap_monitor_settings *set,
			  const uint64_t *avail)
{
	static const struct {
		const char *metric, *help;
		uint64_t (*get)(const struct rosnap_device *d);
	} sizes[] = {
		{ "rosnap_cow_capacity_bytes",
		  "Capacity of the device's copy-on-write store.",
		  rosnap_device_get_cow_size },
		{ "rosnap_cow_used_bytes",
		  "Room in the store the changes take (the kernel's allocation).",
		  rosnap_device_get_cow_used },
		{ "rosnap_ram_used_bytes",
		  "Memory the changes really take: the store's RAM and dm-snapshot's table (at most 32 bytes a chunk).",
		  rosnap_device_get_ram_used },
	};
	enum rosnap_level level;
	unsigned pct;
	uint64_t ram, data;
	size_t k;
	int i, s;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		help(f, sizes[k].metric, sizes[k].help);
		for (i = 0; i < n; i++)
			if (has_store(devs[i]))
				sample(f, sizes[k].metric,
				       rosnap_device_get_name(devs[i]), NULL, NULL,
				       (double)sizes[k].get(devs[i]));
	}
	help(f, "rosnap_compression_ratio",
	     "Bytes of changes per byte of memory (zram).");
	for (i = 0; i < n; i++) {
		ram = rosnap_device_get_ram_used(devs[i]);
		data = rosnap_device_get_data_bytes(devs[i]);
		if (has_store(devs[i]) && ram && data)
			sample(f, "rosnap_compression_ratio",
			       rosnap_device_get_name(devs[i]), NULL, NULL,
			       (double)data / (double)ram);
	}
	help(f, "rosnap_state", "1 for the state the device is in, 0 for the "
	     "others.");
	for (i = 0; i < n; i++)
		for (s = ROSNAP_STATE_ACTIVE; s <= ROSNAP_STATE_INCOMPLETE; s++)
			sample(f, "rosnap_state", rosnap_device_get_name(devs[i]),
			       "state", rosnap_state_name((enum rosnap_state)s),
			       (int)rosnap_device_get_state(devs[i]) == s);
	help(f, "rosnap_level", "The monitor's level: 0 ok, 1 warn, 2 critical, "
	     "3 overflow, 4 invalid.");
	for (i = 0; i < n; i++) {
		level = rosnap_device_get_level(devs[i], set, &pct);
		sample(f, "rosnap_level", rosnap_device_get_name(devs[i]),
		       NULL, NULL, level);
	}
	if (!avail)
		return;
	help(f, "rosnap_memory_available_bytes",
	     "Memory available (MemAvailable), as the monitor reads it.");
	fprintf(f, "rosnap_memory_available_bytes %" PRIu64 "\n", *avail);
}

int metrics_write(const char *path, struct rosnap_device **devs, int n,
		  const struct rosnap_monitor_settings *set, const uint64_t *avail)
{
	char tmp[4096];
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path,
			     (long)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	f = replace_start(tmp);
	if (!f)
		return -errno;
	write_metrics(f, devs, n, set, avail);
	return replace_finish(f, tmp, path);
}
