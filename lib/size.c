/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sizes: parsing "256M" / "25%", formatting like lsblk, physical memory. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

static int unit_shift(const char *s, unsigned *shift)
{
	static const char units[] = "KMGTPE";
	const char *u;

	/* Plain bytes: "4096" or "4096B", as rosnap prints small sizes. */
	if (!*s || ((*s == 'B' || *s == 'b') && !s[1])) {
		*shift = 0;
		return 0;
	}
	u = strchr(units, toupper((unsigned char)*s));
	if (!u)
		return -EINVAL;
	/* "K" or "KiB"; "KB" is refused: it could mean 1000 or 1024. */
	if (s[1] && strcasecmp(s + 1, "iB") != 0)
		return -EINVAL;
	*shift = 10u * (unsigned)(u - units + 1);
	return 0;
}

_public_ int rosnap_parse_size(const char *str, uint64_t *bytes)
{
	uint64_t v = 0;
	unsigned shift;
	const char *p;

	if (!str || !isdigit((unsigned char)*str))
		return -EINVAL;
	for (p = str; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (unit_shift(p, &shift) < 0)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*bytes = v << shift;
	return 0;
}

_public_ int rosnap_parse_profile(const char *name, uint32_t *chunk_bytes)
{
	static const struct {
		const char *name;
		uint32_t chunk;
	} profiles[] = {
		{ "edits", 4096 },
		{ "reads", 65536 },
	};
	size_t i;

	for (i = 0; name && i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (strcmp(name, profiles[i].name) == 0) {
			*chunk_bytes = profiles[i].chunk;
			return 0;
		}
	return -EINVAL;
}

_public_ int rosnap_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "BKMGTPE";
	unsigned exp = 0;
	uint64_t whole, tenths;
	int n;

	while (exp < 6 && bytes >= (1ULL << (10 * (exp + 1))))
		exp++;
	if (exp == 0) {
		n = snprintf(buf, len, "%" PRIu64 "B", bytes);
	} else {
		uint64_t frac = bytes & ((1ULL << (10 * exp)) - 1);

		whole = bytes >> (10 * exp);
		tenths = (uint64_t)((double)frac * 10.0 /
					(double)(1ULL << (10 * exp)) + 0.5);
		if (tenths == 10) {
			whole++;
			tenths = 0;
		}
		if (whole == 1024 && exp < 6) {
			whole = 1;
			exp++;
		}
		if (tenths)
			n = snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "%c",
				     whole, tenths, units[exp]);
		else
			n = snprintf(buf, len, "%" PRIu64 "%c", whole,
				     units[exp]);
	}
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

/* Find "KEY:   123 kB" in /proc/meminfo text. */
int meminfo_parse(const char *text, const char *key, uint64_t *bytes)
{
	size_t klen = strlen(key);
	const char *line = text;

	while (line && *line) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			const char *p = line + klen + 1;
			uint64_t v = 0;

			while (*p == ' ' || *p == '\t')
				p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			for (; isdigit((unsigned char)*p); p++) {
				if (v > UINT64_MAX / 10 / 1024)
					return -ERANGE;
				v = v * 10 + (uint64_t)(*p - '0');
			}
			if (strncmp(p, " kB", 3) != 0)
				return -EINVAL;
			*bytes = v * 1024;
			return 0;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -ENOENT;
}

_public_ int rosnap_ram_total(struct rosnap_ctx *ctx, uint64_t *bytes)
{
	char buf[8192];
	int r;

	r = path_read(ctx, buf, sizeof(buf), "/proc/meminfo");
	if (r < 0) {
		log_err(ctx, "cannot read /proc/meminfo: %s", strerror(-r));
		return r;
	}
	r = meminfo_parse(buf, "MemTotal", bytes);
	if (r < 0)
		log_err(ctx, "no MemTotal in /proc/meminfo");
	return r;
}

_public_ int rosnap_mem_available(struct rosnap_ctx *ctx, uint64_t *bytes)
{
	char buf[8192];
	int r;

	r = path_read(ctx, buf, sizeof(buf), "/proc/meminfo");
	if (r < 0)
		return r;
	return meminfo_parse(buf, "MemAvailable", bytes);
}

int ram_percent(struct rosnap_ctx *ctx, unsigned percent, uint64_t *bytes)
{
	uint64_t total;
	int r;

	r = rosnap_ram_total(ctx, &total);
	if (r < 0)
		return r;
	/* Whole pages: zram and brd allocate in pages. */
	*bytes = (total / 100 * percent) & ~4095ULL;
	return 0;
}

_public_ int rosnap_parse_ram(struct rosnap_ctx *ctx, const char *str,
			      uint64_t *bytes)
{
	size_t len;
	uint64_t pct;
	char num[8];

	if (!str)
		return -EINVAL;
	len = strlen(str);
	if (len < 2 || str[len - 1] != '%')
		return rosnap_parse_size(str, bytes);
	if (len - 1 >= sizeof(num))
		return -ERANGE;
	memcpy(num, str, len - 1);
	num[len - 1] = '\0';
	if (parse_u64(num, &pct) < 0 || num[len - 2] == '\n')
		return -EINVAL;
	if (pct < 1 || pct > 100)
		return -ERANGE;
	return ram_percent(ctx, (unsigned)pct, bytes);
}
