/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The copy-on-write store: one or more RAM devices (zram or brd) joined by
 * a hidden dm-linear device "NAME-cow".  The snapshot points at the linear
 * device, never at the RAM device, so that the store can be trimmed to the
 * size asked for (brd's devices are all one size), grown online by adding
 * a segment, and hidden from udev probing by its DM UUID.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "internal.h"

unsigned cow_block_size(enum rosnap_backend backend)
{
	return backend == ROSNAP_BACKEND_ZRAM ? ZRAM_BLOCK_SIZE : SECTOR_SIZE;
}

static int part_new(struct rosnap_ctx *ctx, enum rosnap_backend backend,
		    uint64_t bytes, const char *algo, struct cow_part *part)
{
	int r;

	memset(part, 0, sizeof(*part));
	if (backend == ROSNAP_BACKEND_ZRAM)
		r = zram_create(ctx, bytes, algo, &part->id);
	else
		r = brd_create(ctx, bytes, &part->id);
	if (r < 0)
		return r;
	snprintf(part->kname, sizeof(part->kname), "%s%u",
		 backend == ROSNAP_BACKEND_ZRAM ? "zram" : "ram", part->id);
	part->bytes = bytes;
	r = blkdev_devnum(ctx, part->kname, &part->dev);
	if (r < 0) {
		log_err(ctx, "%s vanished after it was made", part->kname);
		if (backend == ROSNAP_BACKEND_ZRAM)
			zram_destroy(ctx, part->id);
		else
			brd_release(ctx, part->id);
	}
	return r;
}

static void part_free(struct rosnap_ctx *ctx, enum rosnap_backend backend,
		      const struct cow_part *part)
{
	if (backend == ROSNAP_BACKEND_ZRAM)
		zram_destroy(ctx, part->id);
	else if (backend == ROSNAP_BACKEND_BRD)
		brd_release(ctx, part->id);
	else if (backend == ROSNAP_BACKEND_FILE)
		loop_wait_detached(ctx, part->kname);
}

/* The linear table joining all parts. */
static int cow_targets(const struct cow *cow, struct dm_target *t,
		       char params[][48])
{
	uint64_t start = 0;
	unsigned i;
	int r;

	for (i = 0; i < cow->nparts; i++) {
		r = linear_table(params[i], 48, cow->part[i].dev, 0);
		if (r < 0)
			return r;
		t[i].start = start;
		t[i].length = cow->part[i].bytes / SECTOR_SIZE;
		snprintf(t[i].type, sizeof(t[i].type), "linear");
		t[i].params = params[i];
		start += t[i].length;
	}
	return 0;
}

int cow_create(struct rosnap_ctx *ctx, const char *name,
	       enum rosnap_backend backend, uint64_t bytes, const char *algo,
	       struct cow *cow)
{
	struct dm_target t[1];
	char params[1][48];
	char uuid[129];
	struct rosnap_uuid u;
	int r;

	memset(cow, 0, sizeof(*cow));
	cow->backend = backend;
	cow->bytes = bytes;
	snprintf(cow->name, sizeof(cow->name), "%s", name);
	r = part_new(ctx, backend, bytes, algo, &cow->part[0]);
	if (r < 0)
		return r;
	cow->nparts = 1;
	r = uuid_new(&u, UUID_COW, 0);
	if (r == 0)
		r = uuid_format(&u, uuid, sizeof(uuid));
	if (r == 0)
		r = cow_targets(cow, t, params);
	if (r == 0) {
		r = dm_create(ctx, name, uuid, t, 1, DM_HIDDEN, &cow->devnum);
		if (r < 0)
			log_err(ctx, "cannot create the copy-on-write layer %s: %s",
				name, strerror(-r));
	}
	if (r < 0) {
		part_free(ctx, backend, &cow->part[0]);
		cow->nparts = 0;
		return r;
	}
	cow->have_dm = true;
	log_dbg(ctx, "created %s over /dev/%s", name, cow->part[0].kname);
	return 0;
}

int cow_destroy(struct rosnap_ctx *ctx, struct cow *cow)
{
	unsigned i;
	int r = 0;

	if (cow->have_dm) {
		r = dm_remove(ctx, cow->name);
		if (r < 0 && r != -ENXIO) {
			log_err(ctx, "cannot remove %s: %s", cow->name, strerror(-r));
			return r;
		}
		cow->have_dm = false;
	}
	for (i = 0; i < cow->nparts; i++)
		part_free(ctx, cow->backend, &cow->part[i]);
	cow->nparts = 0;
	return 0;
}

static enum rosnap_backend backend_of(const char *kname, unsigned *id)
{
	if (sscanf(kname, "zram%u", id) == 1)
		return ROSNAP_BACKEND_ZRAM;
	if (sscanf(kname, "ram%u", id) == 1)
		return ROSNAP_BACKEND_BRD;
	if (sscanf(kname, "loop%u", id) == 1)
		return ROSNAP_BACKEND_FILE;
	return ROSNAP_BACKEND_NONE;
}

int cow_load(struct rosnap_ctx *ctx, const char *name, struct cow *cow)
{
	struct dm_target *t = NULL;
	struct dm_info_ex info;
	uint64_t offset;
	int n, i, r;

	memset(cow, 0, sizeof(*cow));
	snprintf(cow->name, sizeof(cow->name), "%s", name);
	r = dm_info(ctx, name, &info);
	if (r < 0)
		return r;
	cow->devnum = info.devnum;
	cow->have_dm = true;
	n = dm_table(ctx, name, &t);
	if (n < 0)
		return n;
	r = 0;
	for (i = 0; i < n && i < COW_MAX_PARTS; i++) {
		struct cow_part *p = &cow->part[i];
		enum rosnap_backend b;

		if (strcmp(t[i].type, "linear") != 0 ||
		    linear_table_parse(t[i].params, &p->dev, &offset) < 0 ||
		    blkdev_kname(ctx, p->dev, p->kname, sizeof(p->kname)) < 0) {
			r = -EINVAL;
			break;
		}
		b = backend_of(p->kname, &p->id);
		if (i == 0)
			cow->backend = b;
		else if (b != cow->backend)
			r = -EINVAL;
		p->bytes = t[i].length * SECTOR_SIZE;
		cow->bytes += p->bytes;
		cow->nparts++;
	}
	dm_targets_free(t, n);
	if (r == 0 && (n > COW_MAX_PARTS || cow->backend == ROSNAP_BACKEND_NONE))
		r = -EINVAL;
	if (r < 0)
		log_dbg(ctx, "%s does not look like a rosnap COW layer", name);
	return r;
}

int cow_ram_used(struct rosnap_ctx *ctx, const struct cow *cow,
		 uint64_t *ram, uint64_t *data, bool *exact)
{
	struct zram_mm_stat st;
	uint64_t pages;
	unsigned i;

	*ram = *data = 0;
	*exact = true;
	for (i = 0; i < cow->nparts; i++) {
		switch (cow->backend) {
		case ROSNAP_BACKEND_ZRAM:
			if (zram_mm_stat(ctx, cow->part[i].id, &st) < 0)
				return -EIO;
			*ram += st.mem_used_total;
			*data += st.orig_data_size;
			break;
		case ROSNAP_BACKEND_BRD:
			/* debugfs has brd's page count; without it, estimate. */
			if (brd_pages(ctx, cow->part[i].id, &pages) < 0) {
				*exact = false;
				return 0;
			}
			*ram += pages * 4096;
			*data += pages * 4096;
			break;
		default:
			break;
		}
	}
	return 0;
}
