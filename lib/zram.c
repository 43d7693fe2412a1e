/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zram: a compressed RAM block device as the COW store.
 *
 * Every rosnap COW is a fresh device from /sys/class/zram-control/hot_add,
 * never zram0 (which distributions use for swap).  The algorithm must be
 * set before disksize, and disksize is the COW's hard limit: rosnap never
 * sets mem_limit, because zram fails writes beyond it with errors that
 * invalidate a snapshot, while a full disksize gives the snapshot's clean
 * "Overflow" state.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

int zram_algorithms_parse(const char *text, const char *name, char *cur,
			  size_t len)
{
	const char *p = text;
	int found = 0;

	if (cur && len)
		cur[0] = '\0';
	while (*p) {
		const char *start, *end;
		bool selected = false;
		size_t n;

		while (*p == ' ' || *p == '\n')
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && *p != ' ' && *p != '\n')
			p++;
		end = p;
		if (*start == '[' && end - start > 2 && end[-1] == ']') {
			selected = true;
			start++;
			end--;
		}
		n = (size_t)(end - start);
		if (name && strlen(name) == n && strncmp(start, name, n) == 0)
			found = 1;
		if (selected && cur && n < len) {
			memcpy(cur, start, n);
			cur[n] = '\0';
		}
	}
	return found;
}

int zram_mm_stat_parse(const char *text, struct zram_mm_stat *st)
{
	unsigned long long v[3];
	int n = 0;

	if (sscanf(text, "%llu %llu %llu%n", &v[0], &v[1], &v[2], &n) != 3 ||
	    n == 0)
		return -EINVAL;
	st->orig_data_size = v[0];
	st->compr_data_size = v[1];
	st->mem_used_total = v[2];
	return 0;
}

/* zram ID's attribute, read or written through libudev. */
static int get_attr(struct rosnap_ctx *ctx, unsigned id, const char *attr,
		    char *buf, size_t len)
{
	char kname[32];

	snprintf(kname, sizeof(kname), "zram%u", id);
	return blkdev_attr(ctx, kname, attr, buf, len);
}

static int set_attr(struct rosnap_ctx *ctx, unsigned id, const char *attr,
		    const char *value)
{
	char kname[32];

	snprintf(kname, sizeof(kname), "zram%u", id);
	return blkdev_set_attr(ctx, kname, attr, value);
}

int zram_mm_stat(struct rosnap_ctx *ctx, unsigned id, struct zram_mm_stat *st)
{
	char buf[256];
	int r;

	r = get_attr(ctx, id, "mm_stat", buf, sizeof(buf));
	return r < 0 ? r : zram_mm_stat_parse(buf, st);
}

int zram_algorithm(struct rosnap_ctx *ctx, unsigned id, char *buf, size_t len)
{
	char text[256];
	int r;

	r = get_attr(ctx, id, "comp_algorithm", text, sizeof(text));
	if (r < 0)
		return r;
	zram_algorithms_parse(text, NULL, buf, len);
	return buf[0] ? 0 : -EINVAL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int zram_destroy(struct rosnap_ctx *ctx, unsigned id)
{
	char num[16];
	int r, tries;

	/* udev may still be probing the device: retry EBUSY for a while. */
	for (tries = 0; tries < 100; tries++) {
		r = set_attr(ctx, id, "reset", "1");
		if (r != -EBUSY)
			break;
		sleep_ms(50);
	}
	/* Gone already (-ENODEV): nothing to reset. */
	if (r < 0 && r != -ENODEV) {
		log_err(ctx, "cannot reset /dev/zram%u: %s", id, strerror(-r));
		return r;
	}
	snprintf(num, sizeof(num), "%u", id);
	for (tries = 0; tries < 100; tries++) {
		r = path_write(ctx, num, "/sys/class/zram-control/hot_remove");
		if (r != -EBUSY)
			break;
		sleep_ms(50);
	}
	if (r < 0 && r != -ENODEV) {
		log_err(ctx, "cannot remove /dev/zram%u: %s", id, strerror(-r));
		return r;
	}
	log_dbg(ctx, "removed /dev/zram%u", id);
	return 0;
}

/*
 * Set a device's algorithm, which the kernel must offer.  One asked for
 * (asked) is refused aloud; rosnap's own preference quietly (debug).
 * kdefault, if not NULL, gets the kernel's default, the one selected.
 */
static int set_algorithm(struct rosnap_ctx *ctx, unsigned id, const char *algo,
			 bool asked, char *kdefault, size_t len)
{
	char text[256];
	int r;

	r = get_attr(ctx, id, "comp_algorithm", text, sizeof(text));
	if (r < 0)
		return r;
	if (zram_algorithms_parse(text, algo, kdefault, len) != 1) {
		/* Show the list without the brackets marking the default. */
		char *p, *w;

		for (p = w = text; *p; p++)
			if (*p != '[' && *p != ']')
				*w++ = *p;
		*w = '\0';
		if (asked)
			log_err(ctx, "zram on this kernel has no compression "
				"algorithm \"%s\"; it offers: %s", algo, text);
		else
			log_dbg(ctx, "/dev/zram%u keeps the kernel's compression: "
				"%s is not offered", id, algo);
		return -EINVAL;
	}
	r = set_attr(ctx, id, "comp_algorithm", algo);
	if (r < 0 && asked)
		log_err(ctx, "cannot set zram compression to %s: %s", algo,
			strerror(-r));
	else if (r < 0)
		log_dbg(ctx, "/dev/zram%u keeps the kernel's compression: %s "
			"could not be set: %s", id, algo, strerror(-r));
	return r;
}

/*
 * Without a choice, zstd: make bench's tree of system files takes about a
 * fifth less RAM with it than with lzo-rle or lz4, and only zstd meets the
 * goal of 0.6 of their size; first writes cost more CPU.  A kernel without
 * zstd keeps its own default.  Some kernels take the name and fail only at
 * disksize, when the module cannot load: zram_create then goes back to
 * the kernel's default (kdefault, "" when zstd was not set).
 */
int zram_create(struct rosnap_ctx *ctx, uint64_t bytes, const char *algo,
		unsigned *id)
{
	char buf[32], kdefault[32] = "";
	uint64_t v;
	int r;

	r = module_ensure(ctx, &KMOD_ZRAM);
	if (r < 0)
		return r;
	/* Each read of hot_add creates a device: read it exactly once. */
	r = path_read(ctx, buf, sizeof(buf), "/sys/class/zram-control/hot_add");
	if (r < 0) {
		log_err(ctx, "cannot add a zram device: %s", strerror(-r));
		return r == -ENOENT ? -EOPNOTSUPP : r;
	}
	if (parse_u64(buf, &v) < 0 || v > UINT32_MAX) {
		log_err(ctx, "unexpected zram id \"%s\"", buf);
		return -EIO;
	}
	*id = (unsigned)v;
	if (algo) {
		r = set_algorithm(ctx, *id, algo, true, NULL, 0);
		if (r < 0)
			goto fail;
	} else if (set_algorithm(ctx, *id, ZRAM_DEFAULT_ALGORITHM, false, kdefault,
				 sizeof(kdefault)) < 0) {
		kdefault[0] = '\0';
	}
	snprintf(buf, sizeof(buf), "%" PRIu64, bytes);
	r = kdefault[0] ? fault_inject(ctx, "zram-preferred") : 0;
	if (r == 0)
		r = set_attr(ctx, *id, "disksize", buf);
	if (r < 0 && kdefault[0] &&
	    set_attr(ctx, *id, "comp_algorithm", kdefault) == 0) {
		log_dbg(ctx, "/dev/zram%u: %s failed at disksize (%s); back to "
			"the kernel's %s", *id, ZRAM_DEFAULT_ALGORITHM,
			strerror(-r), kdefault);
		r = set_attr(ctx, *id, "disksize", buf);
	}
	if (r < 0) {
		log_err(ctx, "cannot give /dev/zram%u a size of %" PRIu64
			" bytes: %s", *id, bytes, strerror(-r));
		goto fail;
	}
	log_dbg(ctx, "created /dev/zram%u, %" PRIu64 " bytes", *id, bytes);
	return 0;
fail:
	zram_destroy(ctx, *id);
	return r;
}
