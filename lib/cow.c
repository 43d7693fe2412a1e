/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The copy-on-write store: one or more RAM devices (zram or brd) joined by
 * a hidden dm-linear device "NAME-cow".  The snapshot points at the linear
 * device, never at the RAM device, so that the store can be trimmed to the
 * size asked for (brd's devices are all one size), grown online by adding
 * a segment, and hidden from udev probing by its DM UUID.  A RAM device
 * is freed with the last layer that holds it.
 *
 * A merge reads from a layer of its own: an alias over the same RAM
 * devices, or a layer over a journal file.  The kernel then loads the
 * merge from the store's metadata on disk instead of handing over the old
 * snapshot's in-memory state, which keeps the merge's progress visible in
 * the status line even for a snapshot that had overflowed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "internal.h"

unsigned cow_block_size(enum rosnap_backend backend)
{
	return backend == ROSNAP_BACKEND_ZRAM ? ZRAM_BLOCK_SIZE : SECTOR_SIZE;
}

/*
 * A RAM device made for a store is recorded as RUN_DIR/new-KNAME until a
 * device-mapper table holds it or it is freed.  A command killed (SIGKILL)
 * in between leaves the record; the next command frees the device if
 * nothing holds it (cow_tidy).
 */
static void part_record(struct rosnap_ctx *ctx, const char *kname, bool made)
{
	if (made)
		record_write(ctx, "new-", kname, "");
	else
		record_remove(ctx, "new-", kname);
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
		return r;
	}
	part_record(ctx, part->kname, true);
	/* Made, in no table yet. */
	test_pause(ctx, "store", "made");
	return 0;
}

/*
 * The device a store's layer stands on: part's own, or the one under its
 * crypt device (*crypt then says how it is encrypted, else NULL).
 */
static int part_store(struct rosnap_ctx *ctx, const struct cow_part *part,
		      char *kname, size_t len, dev_t *dev, const char **crypt)
{
	dev_t below;
	int r;

	*crypt = NULL;
	*dev = part->dev;
	r = encrypt_below(ctx, part->dev, &below, crypt);
	if (r == -ENOENT) {
		snprintf(kname, len, "%s", part->kname);
		return 0;
	}
	if (r == 0)
		r = blkdev_kname(ctx, below, kname, len);
	if (r == 0)
		*dev = below;
	return r;
}

static void part_free(struct rosnap_ctx *ctx, enum rosnap_backend backend,
		      const struct cow_part *part)
{
	const char *crypt;
	char kname[32];
	dev_t dev;
	int r;

	if (backend == ROSNAP_BACKEND_ZRAM)
		zram_destroy(ctx, part->id);
	else if (backend == ROSNAP_BACKEND_BRD)
		brd_release(ctx, part->id);
	else if (backend == ROSNAP_BACKEND_FILE ||
		 backend == ROSNAP_BACKEND_DISK) {
		/* What stands under it, asked before it goes; a crypt device
		 * of rosnap's goes even if its store's disk is gone. */
		r = part_store(ctx, part, kname, sizeof(kname), &dev, &crypt);
		encrypt_close(ctx, part->dev);
		if (r == 0 && strncmp(kname, "loop", 4) == 0)
			loop_wait_detached(ctx, kname);
	}
	part_record(ctx, part->kname, false);
}

void cow_free_unheld(struct rosnap_ctx *ctx, const char *kname)
{
	unsigned id;

	if (blkdev_holders(ctx, kname, NULL, 0) != 0)
		return;
	if (sscanf(kname, "zram%u", &id) == 1 && id > 0)
		zram_destroy(ctx, id);
	else if (sscanf(kname, "ram%u", &id) == 1)
		brd_release(ctx, id);
	else
		return;
	log_notice(ctx, "freed %s, made by a killed rosnap command", kname);
}

/* A record's key is the RAM device's kernel name; it holds no text. */
static void cow_take(struct rosnap_ctx *ctx, const char *kname, const char *text)
{
	(void)text;
	cow_free_unheld(ctx, kname);
}

void cow_tidy(struct rosnap_ctx *ctx)
{
	records_take(ctx, "new-", cow_take);
}

/* The linear table joining cow->part[]; sets cow->bytes. */
static int layer_table(struct cow *cow, struct dm_target *t, char params[][48])
{
	uint64_t start = 0;
	unsigned i;
	int r;

	cow->bytes = 0;
	for (i = 0; i < cow->nparts; i++) {
		r = linear_table(params[i], 48, cow->part[i].dev,
				 cow->part[i].offset);
		if (r < 0)
			return r;
		t[i].start = start;
		t[i].length = cow->part[i].bytes / SECTOR_SIZE;
		snprintf(t[i].type, sizeof(t[i].type), "linear");
		t[i].params = params[i];
		start += t[i].length;
		cow->bytes += cow->part[i].bytes;
	}
	return 0;
}

/* Create the linear device joining cow->part[]; uuid from u or new. */
static int make_layer(struct rosnap_ctx *ctx, struct cow *cow,
		      const struct rosnap_uuid *u)
{
	struct dm_target t[COW_MAX_PARTS];
	char params[COW_MAX_PARTS][48];
	unsigned i;
	int r;

	if (u)
		cow->id = *u;
	else if ((r = uuid_new(&cow->id, UUID_COW, 0)) < 0)
		return r;
	r = uuid_format(&cow->id, cow->uuid, sizeof(cow->uuid));
	if (r == 0)
		r = layer_table(cow, t, params);
	if (r < 0)
		return r;
	r = dm_create(ctx, cow->name, cow->uuid, t, cow->nparts, DM_HIDDEN,
		      &cow->devnum);
	if (r < 0) {
		log_err(ctx, "cannot create the copy-on-write layer %s: %s",
			cow->name, strerror(-r));
		return r;
	}
	cow->have_dm = true;
	for (i = 0; i < cow->nparts; i++)
		part_record(ctx, cow->part[i].kname, false);
	log_dbg(ctx, "created %s (%s) over /dev/%s", cow->name, cow->uuid,
		cow->part[0].kname);
	return 0;
}

static void cow_init(struct cow *cow, const char *name,
		     enum rosnap_backend backend)
{
	memset(cow, 0, sizeof(*cow));
	cow->backend = backend;
	snprintf(cow->name, sizeof(cow->name), "%s", name);
}

int cow_create(struct rosnap_ctx *ctx, const char *name,
	       enum rosnap_backend backend, uint64_t bytes, const char *algo,
	       struct cow *cow)
{
	int r;

	cow_init(cow, name, backend);
	r = part_new(ctx, backend, bytes, algo, &cow->part[0]);
	if (r < 0)
		return r;
	cow->nparts = 1;
	r = make_layer(ctx, cow, NULL);
	if (r < 0) {
		part_free(ctx, backend, &cow->part[0]);
		cow->nparts = 0;
	}
	return r;
}

/* The kernel's store header, in its first chunk: one page covers it. */
#define HEAD_BYTES 4096
/*
 * What loading a fresh store writes: the header chunk, and the first
 * metadata area after it, zeroed; two chunks of the largest size.
 */
#define UNDO_BYTES ((size_t)(2 * MAX_CHUNK_BYTES))

/*
 * A fresh store on the disk a store is on: a second layer over the same
 * area, whose kernel header is zeroed so that the kernel starts it empty.
 * Only for a store no table writes any more (closed, or fully merged).
 */
static int disk_fresh(struct rosnap_ctx *ctx, const char *name,
		      const struct cow *model, struct cow *cow)
{
	struct rosnap_uuid u;
	void *zero = NULL, *old = NULL;
	int fd, r;

	r = uuid_new(&u, UUID_COW, UUID_F_DISK);
	if (r == 0)
		r = cow_alias(ctx, name, model, &u, cow);
	if (r < 0)
		return r;
	if (posix_memalign(&zero, HEAD_BYTES, HEAD_BYTES) != 0 ||
	    posix_memalign(&old, HEAD_BYTES, UNDO_BYTES) != 0) {
		free(zero);
		cow_destroy(ctx, cow);
		return -ENOMEM;
	}
	memset(zero, 0, HEAD_BYTES);
	/*
	 * Through the layer, past every cache: what the kernel will read.
	 * The old header and first metadata area are kept: should the fresh
	 * store never go live, the old one (still live) must find them again
	 * (loading the fresh one zeroes that area).
	 */
	cow->undo_bytes = cow->bytes < UNDO_BYTES ? (size_t)cow->bytes : UNDO_BYTES;
	fd = blkdev_open(ctx, cow->devnum, O_RDWR | O_DIRECT);
	r = fd < 0 ? fd : 0;
	errno = 0;
	if (r == 0 && pread(fd, old, cow->undo_bytes, 0) != (ssize_t)cow->undo_bytes)
		r = errno ? -errno : -EIO;
	if (r == 0) {
		cow->undo_head = old;
		old = NULL;
		if (pwrite(fd, zero, HEAD_BYTES, 0) != (ssize_t)HEAD_BYTES ||
		    fdatasync(fd) < 0)
			r = errno ? -errno : -EIO;
	}
	if (fd >= 0)
		close(fd);
	free(zero);
	free(old);
	if (r < 0) {
		log_err(ctx, "cannot empty the store %s: %s", name, strerror(-r));
		cow_destroy(ctx, cow);
	}
	return r;
}

void cow_keep_fresh(struct cow *cow)
{
	free(cow->undo_head);
	cow->undo_head = NULL;
}

/* Give a fresh store that never went live its old header back. */
static void undo_fresh(struct rosnap_ctx *ctx, struct cow *cow)
{
	struct dm_info_ex info;
	int fd, r;

	if (cow->have_dm && dm_info(ctx, cow->name, &info) == 0 &&
	    info.open_count == 0) {
		fd = blkdev_open(ctx, cow->devnum, O_WRONLY | O_DIRECT);
		r = fd < 0 ? fd : 0;
		errno = 0;
		if (r == 0 && (pwrite(fd, cow->undo_head, cow->undo_bytes, 0) !=
				       (ssize_t)cow->undo_bytes ||
			       fdatasync(fd) < 0))
			r = errno ? -errno : -EIO;
		if (fd >= 0)
			close(fd);
		if (r < 0)
			log_err(ctx, "cannot give the store under %s its header "
				"back: %s; its changes may be lost", cow->name,
				strerror(-r));
	}
	cow_keep_fresh(cow);
}

int cow_create_like(struct rosnap_ctx *ctx, const char *name,
		    const struct cow *model, struct cow *cow)
{
	char algo[32] = "";

	if (model->backend == ROSNAP_BACKEND_DISK)
		return disk_fresh(ctx, name, model, cow);

	if (model->backend == ROSNAP_BACKEND_ZRAM && model->nparts)
		zram_algorithm(ctx, model->part[0].id, algo, sizeof(algo));
	return cow_create(ctx, name, model->backend, model->bytes,
			  algo[0] ? algo : NULL, cow);
}

int cow_alias(struct rosnap_ctx *ctx, const char *name, const struct cow *src,
	      const struct rosnap_uuid *u, struct cow *cow)
{
	cow_init(cow, name, src->backend);
	memcpy(cow->part, src->part, sizeof(cow->part));
	cow->nparts = src->nparts;
	return make_layer(ctx, cow, u);
}

int cow_create_on(struct rosnap_ctx *ctx, const char *name,
		  enum rosnap_backend backend, dev_t dev, uint64_t offset,
		  uint64_t bytes, const struct rosnap_uuid *u, struct cow *cow)
{
	struct cow_part *p = &cow->part[0];
	int r;

	cow_init(cow, name, backend);
	p->dev = dev;
	p->offset = offset;
	p->bytes = bytes;
	r = blkdev_kname(ctx, dev, p->kname, sizeof(p->kname));
	if (r < 0)
		return r;
	cow->nparts = 1;
	return make_layer(ctx, cow, u);
}

int cow_destroy(struct rosnap_ctx *ctx, struct cow *cow)
{
	unsigned i;
	int r;

	if (cow->undo_head)
		undo_fresh(ctx, cow);
	if (cow->have_dm) {
		r = dm_remove(ctx, cow->name);
		if (r < 0 && r != -ENXIO) {
			log_err(ctx, "cannot remove %s: %s", cow->name, strerror(-r));
			return r;
		}
		cow->have_dm = false;
	}
	/* A device another layer still holds (a merge's alias) stays. */
	for (i = 0; i < cow->nparts; i++)
		if (blkdev_holders(ctx, cow->part[i].kname, NULL, 0) <= 0)
			part_free(ctx, cow->backend, &cow->part[i]);
	cow->nparts = 0;
	return 0;
}

int cow_grow(struct rosnap_ctx *ctx, struct cow *cow, uint64_t bytes)
{
	struct dm_target t[COW_MAX_PARTS];
	char params[COW_MAX_PARTS][48];
	char algo[32] = "";
	struct cow_part *p;
	int r;

	if (cow->backend != ROSNAP_BACKEND_ZRAM &&
	    cow->backend != ROSNAP_BACKEND_BRD) {
		log_err(ctx, "%s cannot grow: it is not a RAM store", cow->name);
		return -EINVAL;
	}
	if (cow->nparts >= COW_MAX_PARTS) {
		log_err(ctx, "%s cannot grow: it has %d parts already", cow->name,
			COW_MAX_PARTS);
		return -ENOSPC;
	}
	if (cow->backend == ROSNAP_BACKEND_ZRAM)
		zram_algorithm(ctx, cow->part[0].id, algo, sizeof(algo));
	p = &cow->part[cow->nparts];
	r = part_new(ctx, cow->backend, bytes, algo[0] ? algo : NULL, p);
	if (r < 0)
		return r;
	cow->nparts++;
	/*
	 * The snapshot above keeps its I/O queued meanwhile; there is no
	 * filesystem on the store to freeze.  The kernel's persistent store
	 * sees the new size at its next allocation (kernel-facts.md).
	 */
	r = layer_table(cow, t, params);
	if (r == 0)
		r = transition_run(ctx, &(struct transition){
			.what = "grow", .name = cow->name, .table = t,
			.count = cow->nparts, .nolockfs = true, .vis = DM_HIDDEN,
		});
	if (r == 0) {
		part_record(ctx, p->kname, false);
		return 0;
	}
	log_err(ctx, "cannot grow %s: %s", cow->name, strerror(-r));
	cow->nparts--;
	part_free(ctx, cow->backend, p);
	layer_table(cow, t, params);
	return r;
}

int cow_rename(struct rosnap_ctx *ctx, struct cow *cow, const char *name)
{
	int r = dm_rename(ctx, cow->name, name, DM_HIDDEN);

	if (r < 0) {
		log_warn(ctx, "cannot rename %s to %s: %s", cow->name, name,
			 strerror(-r));
		return r;
	}
	snprintf(cow->name, sizeof(cow->name), "%s", name);
	return 0;
}

static enum rosnap_backend backend_of(const char *kname, unsigned *id)
{
	if (sscanf(kname, "zram%u", id) == 1)
		return ROSNAP_BACKEND_ZRAM;
	if (sscanf(kname, "ram%u", id) == 1)
		return ROSNAP_BACKEND_BRD;
	/* A journal: a loop over a file, or a block device of its own. */
	return ROSNAP_BACKEND_FILE;
}

int cow_journal(struct rosnap_ctx *ctx, const struct cow *cow,
		struct journal_ref *ref)
{
	const char *crypt;
	char kname[32];
	dev_t dev;
	int r;

	memset(ref, 0, sizeof(*ref));
	if ((cow->backend != ROSNAP_BACKEND_FILE &&
	     cow->backend != ROSNAP_BACKEND_DISK) || !cow->nparts)
		return -ENOENT;
	r = part_store(ctx, &cow->part[0], kname, sizeof(kname), &dev, &crypt);
	if (r < 0)
		return r;
	ref->crypt = crypt;
	if (loop_backing_file(ctx, kname, ref->path, sizeof(ref->path)) == 0)
		return loop_backing_id(ctx, kname, &ref->dev, &ref->ino);
	ref->blkdev = true;
	ref->dev = dev;
	snprintf(ref->path, sizeof(ref->path), "/dev/%s", kname);
	return 0;
}

bool store_key_random(const struct journal_ref *ref)
{
	return ref->crypt && strcmp(ref->crypt, "random") == 0;
}

int cow_load(struct rosnap_ctx *ctx, const char *name, struct cow *cow)
{
	struct dm_target *t = NULL;
	struct dm_info_ex info;
	int n, i, r;

	memset(cow, 0, sizeof(*cow));
	snprintf(cow->name, sizeof(cow->name), "%s", name);
	r = dm_info(ctx, name, &info);
	if (r < 0)
		return r;
	if (uuid_parse(info.uuid, &cow->id) < 0 || cow->id.role != UUID_COW)
		return -EINVAL;
	snprintf(cow->uuid, sizeof(cow->uuid), "%s", info.uuid);
	cow->devnum = info.devnum;
	cow->have_dm = true;
	n = dm_table(ctx, name, &t);
	if (n < 0)
		return n;
	for (i = 0; i < n && i < COW_MAX_PARTS; i++) {
		struct cow_part *p = &cow->part[i];
		enum rosnap_backend b;

		if (strcmp(t[i].type, "linear") != 0 ||
		    linear_table_parse(t[i].params, &p->dev, &p->offset) < 0 ||
		    blkdev_kname(ctx, p->dev, p->kname, sizeof(p->kname)) < 0) {
			r = -EINVAL;
			break;
		}
		b = cow->id.flags & UUID_F_DISK ? ROSNAP_BACKEND_DISK :
						  backend_of(p->kname, &p->id);
		if (i == 0)
			cow->backend = b;
		else if (b != cow->backend)
			r = -EINVAL;
		p->bytes = t[i].length * SECTOR_SIZE;
		cow->bytes += p->bytes;
		cow->nparts++;
	}
	dm_targets_free(t, n);
	if (r == 0 && (n > COW_MAX_PARTS || n == 0))
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
