/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device-mapper table and status strings for the targets rosnap uses.
 * Pure functions: the kernel's output is parsed strictly, because a
 * wrong reading here would point merge or remove at the wrong device.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "internal.h"

static const struct {
	unsigned flag;
	const char *word;
} snap_features[] = {
	{ SNAP_F_DISCARD_ZEROES_COW, "discard_zeroes_cow" },
	{ SNAP_F_DISCARD_PASSDOWN, "discard_passdown_origin" },
};

/* Next space-separated word of *s into buf; -EINVAL if none or too long. */
static int next_word(const char **s, char *buf, size_t len)
{
	const char *p = *s, *end;
	size_t n;

	while (*p == ' ')
		p++;
	end = strchr(p, ' ');
	n = end ? (size_t)(end - p) : strlen(p);
	if (n == 0 || n >= len)
		return -EINVAL;
	memcpy(buf, p, n);
	buf[n] = '\0';
	*s = p + n;
	return 0;
}

static int word_u64(const char **s, uint64_t *v)
{
	char w[32];
	int r;

	r = next_word(s, w, sizeof(w));
	return r < 0 ? r : parse_u64(w, v);
}

int devnum_parse(const char *s, dev_t *dev)
{
	uint64_t maj, min;
	const char *colon = strchr(s, ':');
	char a[16];
	size_t n;

	if (!colon)
		return -EINVAL;
	n = (size_t)(colon - s);
	if (n == 0 || n >= sizeof(a))
		return -EINVAL;
	memcpy(a, s, n);
	a[n] = '\0';
	if (parse_u64(a, &maj) < 0 || parse_u64(colon + 1, &min) < 0 ||
	    colon[1] == '\n' || maj > 0xfffff || min > 0xfffff)
		return -EINVAL;
	*dev = makedev((unsigned)maj, (unsigned)min);
	return 0;
}

static int word_devnum(const char **s, dev_t *dev)
{
	char w[32];
	int r;

	r = next_word(s, w, sizeof(w));
	return r < 0 ? r : devnum_parse(w, dev);
}

int snapshot_table(char *buf, size_t len, const struct snap_table *t)
{
	size_t used;
	unsigned i, nf = 0;
	int n;

	if (!t->persistent && t->overflow)
		return -EINVAL;
	n = snprintf(buf, len, "%u:%u %u:%u %s %" PRIu32,
		     major(t->origin), minor(t->origin), major(t->cow),
		     minor(t->cow), !t->persistent ? "N" : t->overflow ? "PO" : "P",
		     t->chunk_sectors);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	used = (size_t)n;
	for (i = 0; i < ARRAY_SIZE(snap_features); i++)
		if (t->features & snap_features[i].flag)
			nf++;
	if (!nf)
		return 0;
	n = snprintf(buf + used, len - used, " %u", nf);
	if (n < 0 || (size_t)n >= len - used)
		return -ENOSPC;
	used += (size_t)n;
	for (i = 0; i < ARRAY_SIZE(snap_features); i++) {
		if (!(t->features & snap_features[i].flag))
			continue;
		n = snprintf(buf + used, len - used, " %s", snap_features[i].word);
		if (n < 0 || (size_t)n >= len - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	return 0;
}

int snapshot_table_parse(const char *params, struct snap_table *t)
{
	const char *s = params;
	uint64_t chunk, nf, i;
	char w[32];
	unsigned j;

	memset(t, 0, sizeof(*t));
	if (word_devnum(&s, &t->origin) < 0 || word_devnum(&s, &t->cow) < 0 ||
	    next_word(&s, w, sizeof(w)) < 0)
		return -EINVAL;
	if (strcmp(w, "P") == 0)
		t->persistent = true;
	else if (strcmp(w, "PO") == 0)
		t->persistent = t->overflow = true;
	else if (strcmp(w, "N") != 0)
		return -EINVAL;
	if (word_u64(&s, &chunk) < 0 || chunk == 0 || chunk > UINT32_MAX ||
	    (chunk & (chunk - 1)))
		return -EINVAL;
	t->chunk_sectors = (uint32_t)chunk;
	if (!*s)
		return 0;
	if (word_u64(&s, &nf) < 0 || nf == 0 || nf > ARRAY_SIZE(snap_features))
		return -EINVAL;
	for (i = 0; i < nf; i++) {
		if (next_word(&s, w, sizeof(w)) < 0)
			return -EINVAL;
		for (j = 0; j < ARRAY_SIZE(snap_features); j++)
			if (strcmp(w, snap_features[j].word) == 0)
				break;
		if (j == ARRAY_SIZE(snap_features) ||
		    (t->features & snap_features[j].flag))
			return -EINVAL;
		t->features |= snap_features[j].flag;
	}
	return *s ? -EINVAL : 0;
}

int snapshot_status_parse(const char *params, struct snap_status *st)
{
	const char *s = params, *slash;
	char num[32];
	size_t n;

	memset(st, 0, sizeof(*st));
	if (strcmp(params, "Invalid") == 0) {
		st->invalid = true;
		return 0;
	}
	if (strcmp(params, "Overflow") == 0) {
		st->overflow = true;
		return 0;
	}
	if (strcmp(params, "Merge failed") == 0) {
		st->merge_failed = true;
		return 0;
	}
	slash = strchr(s, '/');
	if (!slash)
		return -EINVAL;
	n = (size_t)(slash - s);
	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n);
	num[n] = '\0';
	if (parse_u64(num, &st->allocated) < 0)
		return -EINVAL;
	s = slash + 1;
	if (next_word(&s, num, sizeof(num)) < 0 ||
	    parse_u64(num, &st->total) < 0 || word_u64(&s, &st->metadata) < 0 ||
	    *s)
		return -EINVAL;
	if (st->allocated > st->total || st->metadata > st->allocated)
		return -EINVAL;
	return 0;
}

int linear_table(char *buf, size_t len, dev_t dev, uint64_t offset)
{
	int n = snprintf(buf, len, "%u:%u %" PRIu64, major(dev), minor(dev),
			 offset);

	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int linear_table_parse(const char *params, dev_t *dev, uint64_t *offset)
{
	const char *s = params;

	if (word_devnum(&s, dev) < 0 || word_u64(&s, offset) < 0 || *s)
		return -EINVAL;
	return 0;
}

enum merge_verdict merge_verdict(const struct snap_status *st,
				 uint64_t *left_bytes)
{
	*left_bytes = 0;
	if (st->invalid)
		return MERGE_INVALID;
	if (st->merge_failed)
		return MERGE_FAILED;
	if (st->allocated > st->metadata)
		*left_bytes = (st->allocated - st->metadata) * SECTOR_SIZE;
	return *left_bytes ? MERGE_RUNNING : MERGE_DONE;
}
