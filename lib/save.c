/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Saving a RAM store to disk, and restoring it into RAM at the next boot:
 * RAM speed, with the changes kept across a planned reboot.
 *
 * A saved store has the layout of a store on disk (store.c) with the
 * state "saved": the header, with the origin's identity and fingerprint,
 * then the kernel's store as it was at one instant.  The copy is made as
 * a journaled merge makes its journal: most of it while the device runs,
 * then, with the device suspended (its filesystem frozen), only the blocks
 * that changed since.  A file is written as PATH.new and renamed over
 * PATH, so that a save cut short leaves the previous one whole; a block
 * device gets its header last.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

struct save_frozen {
	const struct rosnap_device *d;
	struct journal *j;
	uint64_t written;
};

static int save_frozen(struct rosnap_ctx *ctx, void *data)
{
	struct save_frozen *sf = data;

	return journal_copy_store(ctx, sf->d, sf->j, NULL, NULL, &sf->written);
}

/*
 * May the save write PATH?  An earlier save of the same device and
 * origin is replaced; anything else only when told.  A file that a loop
 * device reads (a disk image, a store) never.
 */
static int check_target(struct rosnap_ctx *ctx, const char *path,
			const struct rosnap_device *d, const struct origin *o,
			uint64_t need, bool overwrite, bool *replace)
{
	unsigned char buf[STORE_HEADER_BYTES];
	struct store_header h;
	char loopname[64], why[256];
	struct stat st;
	uint64_t size;
	ssize_t n;
	int fd;

	*replace = false;
	if (lstat(path, &st) < 0)
		return 0;
	/* /dev/disk/by-... links lead to devices: follow those only. */
	if (S_ISLNK(st.st_mode) && (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))) {
		log_err(ctx, "%s is a symbolic link; give the file it leads to",
			path);
		return -EINVAL;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		log_err(ctx, "%s is not a file or a block device", path);
		return -EINVAL;
	}
	if (S_ISREG(st.st_mode) &&
	    image_in_loop(ctx, &st, loopname, sizeof(loopname))) {
		log_err(ctx, "%s is in use: /dev/%s reads it", path, loopname);
		return -EBUSY;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = pread(fd, buf, sizeof(buf), 0);
	/* A device too small is refused before anything is written to it. */
	if (S_ISBLK(st.st_mode) && blkdev_size(fd, &size) == 0 && size < need) {
		close(fd);
		rosnap_format_size(need, why, sizeof(why));
		log_err(ctx, "%s is too small for the store of %s: it needs %s",
			path, d->name, why);
		return -ENOSPC;
	}
	close(fd);
	if (n == (ssize_t)sizeof(buf) && store_decode(buf, &h, NULL) == 0 &&
	    h.state == STORE_SAVED && strcmp(h.name, d->name) == 0 &&
	    !origin_differs(o, &(const struct origin_id){ h.origin_size,
			h.origin_uuid, h.origin_ptuuid, h.origin_partuuid },
			"", why, sizeof(why))) {
		*replace = true;
		return 0;
	}
	if (!overwrite && (S_ISREG(st.st_mode) || store_has_magic(buf))) {
		log_err(ctx, "%s exists and is not a save of %s; --overwrite "
			"replaces it", path, d->name);
		return -EEXIST;
	}
	return 0;
}

/* What the copy went to: the store's file, or its crypt device. */
static void target_close(struct rosnap_ctx *ctx, struct journal *j,
			 const struct store *st, struct store_area *area)
{
	if (j->fd >= 0 && j->fd != st->fd)
		close(j->fd);
	j->fd = -1;
	store_area_close(ctx, area);
}

static int save_locked(struct rosnap_ctx *ctx, struct rosnap_device *d,
		       const char *path, bool overwrite, const char *key_file)
{
	struct journal j = { .fd = -1 };
	struct store st = { .fd = -1 };
	struct store_area area = { .lfd = -1 };
	char tmp[PATH_MAX], size[32], rec[PATH_MAX + 32], cowname[160];
	uint32_t chunk = d->chunk_bytes;
	/* LUKS2's header comes on top of what the store needs. */
	uint64_t need, luks2 = key_file ? STORE_LUKS2_BYTES : 0;
	struct save_frozen sf = { d, &j, 0 };
	bool replace = false, file;
	struct origin o;
	struct stat sb;
	int r;

	switch (d->state) {
	case ROSNAP_STATE_ACTIVE:
	case ROSNAP_STATE_OVERFLOW:
		break;
	default:
		log_err(ctx, "%s is %s; only an active store can be saved", d->name,
			rosnap_state_name(d->state));
		return d->state == ROSNAP_STATE_MERGING ? -EBUSY : -EINVAL;
	}
	if (store_key_random(&d->store)) {
		log_err(ctx, "the store of %s is on disk (%s), encrypted with a key "
			"that goes with the device: its changes cannot be saved; "
			"'rosnap merge %s' puts them into %s", d->name, d->store.path,
			d->name, device_origin_label(d));
		return -EINVAL;
	}
	if (d->backend != ROSNAP_BACKEND_ZRAM && d->backend != ROSNAP_BACKEND_BRD) {
		log_err(ctx, "the store of %s is on disk already (%s): it needs no "
			"saving", d->name, d->store.path);
		return -EINVAL;
	}
	snprintf(cowname, sizeof(cowname), "%s" COW_SUFFIX, d->name);
	r = place_check(ctx, "saved store", path, d->origin_devnum, d->devnum,
			d->name);
	/* Before anything is written: a device's save is gone once it is. */
	if (r == 0 && key_file && (r = encrypt_check_name(ctx, d->name)) == 0 &&
	    (r = encrypt_check_key_file(ctx, key_file)) == 0)
		r = module_ensure(ctx, &KMOD_DM_CRYPT);
	if (r < 0)
		return r;
	r = origin_open_devnum(ctx, d->origin_devnum, &o);
	if (r < 0)
		return r;
	/* A file is sparse; a device needs room for what the store holds
	 * now (its capacity is recorded, not copied).  What it holds may
	 * grow during the copy: the copy checks as it goes. */
	r = check_target(ctx, path, d, &o,
			 STORE_HEADER_BYTES + luks2 + d->cow_used + chunk, overwrite,
			 &replace);
	if (r < 0)
		goto out;
	file = !(stat(path, &sb) == 0 && S_ISBLK(sb.st_mode));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp)) {
		r = -ENAMETOOLONG;
		goto out;
	}
	if (file && lstat(tmp, &sb) == 0) {
		log_err(ctx, "%s exists: a save cut short left it; remove it, then "
			"save again", tmp);
		r = -EEXIST;
		goto out;
	}
	/* A file gets room for the whole store, a device must hold what the
	 * store holds now; both end with a zeroed chunk. */
	need = (file ? d->cow.bytes : d->cow_used) + chunk;
	r = store_make(ctx, file ? tmp : path, file ? need + luks2 : 0,
		       overwrite || replace, &o, chunk, d->name, &st);
	if (r < 0)
		goto out;
	/* A device: no header while the copy is under way. */
	if (!file && (r = store_wipe(ctx, &st)) < 0)
		goto fail;
	if (key_file && (r = store_encrypt(ctx, &st, STORE_F_LUKS2, key_file)) < 0)
		goto fail;
	if (st.h.store_bytes < need) {
		rosnap_format_size(STORE_HEADER_BYTES + luks2 + need, size,
				   sizeof(size));
		log_err(ctx, "%s is too small for the store of %s: it needs %s",
			path, d->name, size);
		r = -ENOSPC;
		goto fail;
	}
	/* The copy goes as a journal's does, into the store's area (in the
	 * clear through its crypt device). */
	j.fd = st.fd;
	j.data_at = STORE_HEADER_BYTES;
	if (key_file) {
		r = store_area_open(ctx, &st, cowname, &area);
		if (r < 0)
			goto fail;
		j.data_at = area.at;
		j.fd = blkdev_open(ctx, area.dev, O_RDWR);
		if (j.fd < 0) {
			r = j.fd;
			goto fail;
		}
	}
	j.size = d->cow.bytes + chunk;
	if (j.size > st.h.store_bytes)
		j.size = st.h.store_bytes;
	st.h.store_bytes = d->cow.bytes;
	j.h.chunk_sectors = chunk / SECTOR_SIZE;
	snprintf(j.path, sizeof(j.path), "%s", st.path);
	r = journal_copy_store(ctx, d, &j, NULL, NULL, NULL);
	if (r < 0)
		goto fail;
	r = transition_run(ctx, &(struct transition){
		.what = "save", .name = d->name, .vis = DM_PUBLIC,
		.frozen = save_frozen, .data = &sf,
	});
	if (r < 0)
		goto fail;
	/* On the disk (journal_fill() synced it): the crypt device goes. */
	target_close(ctx, &j, &st, &area);
	/* The origin is read-only and held all along: it is as copied. */
	st.h.saved_bytes = j.h.data_bytes;
	r = store_set_state(ctx, &st, STORE_SAVED, d->origin_devnum);
	if (r == 0 && file && rename(tmp, path) < 0) {
		r = -errno;
		log_err(ctx, "cannot rename %s to %s: %s", tmp, path, strerror(-r));
	}
	if (r == 0 && file)
		r = fsync_parent(path);
	if (r < 0)
		goto fail;
	snprintf(rec, sizeof(rec), "%" PRIu64 " %s\n", st.h.changed, path);
	record_write(ctx, "saved-", d->name, rec);
	rosnap_format_size(j.h.data_bytes, size, sizeof(size));
	log_info(ctx, "saved the store of %s to %s (%s)", d->name, path, size);
	goto out;
fail:
	target_close(ctx, &j, &st, &area);
	/* The file made is removed; a device keeps no header. */
	if (!file && st.fd >= 0)
		store_wipe(ctx, &st);
	store_unmake(ctx, &st);
out:
	journal_close(&j);
	store_close(&st);
	origin_close(ctx, &o, false);
	return r;
}

_public_ int rosnap_save(struct rosnap_ctx *ctx, const char *name,
			 const char *path, uint32_t flags)
{
	return rosnap_save_key(ctx, name, path, flags, NULL);
}

_public_ int rosnap_save_key(struct rosnap_ctx *ctx, const char *name,
			     const char *path, uint32_t flags,
			     const char *key_file)
{
	struct rosnap_device *d = NULL;
	int r;

	if (flags & ~ROSNAP_SAVE_OVERWRITE) {
		log_err(ctx, "unknown save flags");
		return -EINVAL;
	}
	if (!path || path[0] != '/') {
		log_err(ctx, "the saved store must be an absolute path");
		return -EINVAL;
	}
	r = lock_acquire(ctx);
	if (r < 0)
		return r;
	r = rosnap_device_open(ctx, name, &d);
	if (r == 0)
		r = save_locked(ctx, d, path, flags & ROSNAP_SAVE_OVERWRITE,
				key_file);
	rosnap_device_unref(d);
	lock_release(ctx);
	return r;
}

int saved_open(struct rosnap_ctx *ctx, const char *path,
	       const struct origin *o, const char *key_file,
	       const char *cowname, struct saved *sv)
{
	struct store *st = &sv->st;
	int r;

	sv->fd = -1;
	sv->area.lfd = -1;
	sv->area.crypt[0] = '\0';
	r = store_open(ctx, path, st);
	if (r < 0)
		return r;
	if (st->h.state != STORE_SAVED) {
		log_err(ctx, "%s is a store on disk, not a saved RAM store: 'rosnap "
			"attach %s --store %s' uses it", path, o->path, path);
		r = -EINVAL;
	}
	if (r == 0)
		r = store_check_identity(ctx, st, o, false);
	if (r == 0)
		r = store_use_key(ctx, st, key_file);
	if (r == 0)
		r = store_kernel_check(ctx, st);
	if (r < 0)
		goto fail;
	sv->fd = st->fd;
	sv->at = STORE_HEADER_BYTES;
	if (!(st->h.flags & STORE_F_ENCRYPTED))
		return 0;
	/* Read in the clear through its crypt device (which checks the
	 * kernel's header there). */
	r = store_area_open(ctx, st, cowname, &sv->area);
	if (r < 0)
		goto fail;
	sv->at = sv->area.at;
	sv->fd = blkdev_open(ctx, sv->area.dev, O_RDONLY);
	if (sv->fd >= 0)
		return 0;
	r = sv->fd;
fail:
	saved_close(ctx, sv);
	return r;
}

void saved_close(struct rosnap_ctx *ctx, struct saved *sv)
{
	if (sv->fd >= 0 && sv->fd != sv->st.fd)
		close(sv->fd);
	sv->fd = -1;
	store_area_close(ctx, &sv->area);
	store_close(&sv->st);
}

int saved_load(struct rosnap_ctx *ctx, const struct saved *sv,
	       const struct cow *cow)
{
	const struct store *st = &sv->st;
	const size_t block = (size_t)1 << 16;
	uint64_t off = 0, end;
	char *buf = NULL;
	ssize_t n;
	size_t want;
	int fd, r = 0;

	if (cow->bytes < st->h.store_bytes) {
		log_err(ctx, "internal error: the RAM store is smaller than the "
			"saved one");
		return -EINVAL;
	}
	/*
	 * With the zeroed chunk the save wrote after the store: the kernel
	 * reads metadata areas until one is not full, and a reused RAM
	 * device (brd) may hold old bytes there.
	 */
	end = st->h.saved_bytes + (uint64_t)st->h.chunk_sectors * SECTOR_SIZE;
	if (end > st->size - store_area_at(&st->h))
		end = st->size - store_area_at(&st->h);
	if (end > cow->bytes)
		end = cow->bytes;
	fd = blkdev_open(ctx, cow->devnum, O_WRONLY | O_DIRECT);
	if (fd < 0)
		return fd;
	if (posix_memalign((void **)&buf, 4096, block) != 0) {
		close(fd);
		return -ENOMEM;
	}
	while (r == 0 && off < end) {
		want = end - off < block ? (size_t)(end - off) : block;
		n = pread(sv->fd, buf, want, (off_t)(sv->at + off));
		if (n != (ssize_t)want) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		errno = 0;
		if (pwrite(fd, buf, want, (off_t)off) != (ssize_t)want) {
			r = errno ? -errno : -EIO;
			break;
		}
		off += want;
	}
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	if (r < 0)
		log_err(ctx, "cannot load the saved store %s into RAM: %s", st->path,
			strerror(-r));
	free(buf);
	close(fd);
	return r;
}
