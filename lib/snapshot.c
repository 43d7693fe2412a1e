/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Creating and removing rosnap devices.
 *
 *   /dev/mapper/NAME      snapshot ORIGIN NAME-cow PO CHUNK   ROSNAP-snap-...
 *   /dev/mapper/NAME-cow  linear over /dev/zramN or /dev/ramN ROSNAP-cow-...
 *
 * Create builds from the bottom up and undoes every step on failure, so a
 * failed create leaves the kernel as it found it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

static bool zeroed(const uint64_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i])
			return false;
	return true;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* The options' layout is ABI: store, restore and key_file took reserved
 * words, each 8 bytes wide. */
_Static_assert(offsetof(struct rosnap_create_opts, reserved) ==
		       offsetof(struct rosnap_create_opts, store) + 24 &&
	       sizeof(struct rosnap_create_opts) ==
		       offsetof(struct rosnap_create_opts, store) + 64,
	       "struct rosnap_create_opts changed size or layout");

static int check_opts(struct rosnap_ctx *ctx,
		      const struct rosnap_create_opts *o)
{
	const char *why;
	char a[32], b[32];
	uint64_t total;
	int r;

	if ((o->flags & ~(ROSNAP_CREATE_OVERWRITE | ROSNAP_CREATE_ENCRYPT)) ||
	    !zeroed(o->reserved, ARRAY_SIZE(o->reserved))) {
		log_err(ctx, "unknown create flags");
		return -EINVAL;
	}
	if ((o->flags & ROSNAP_CREATE_OVERWRITE) && !o->store) {
		log_err(ctx, "overwrite applies to a store on disk (--store)");
		return -EINVAL;
	}
	if (((o->flags & ROSNAP_CREATE_ENCRYPT) && !o->store) ||
	    (o->key_file && !o->store && !o->restore)) {
		log_err(ctx, "encryption applies to a store on disk (--store) or "
			"a saved one (--restore); a RAM store is gone at "
			"power-off anyway");
		return -EINVAL;
	}
	if ((o->flags & ROSNAP_CREATE_ENCRYPT) && o->key_file) {
		log_err(ctx, "a store is encrypted with a random key or with a key "
			"file, not both");
		return -EINVAL;
	}
	if (o->restore && (o->store || o->restore[0] != '/')) {
		log_err(ctx, o->store ? "a saved RAM store is restored into RAM, "
					"not into a store on disk" :
					"the saved store must be an absolute path");
		return -EINVAL;
	}
	if (o->store) {
		if (o->backend != ROSNAP_BACKEND_AUTO || o->compression) {
			log_err(ctx, "a store on disk (--store) takes no RAM backend "
				"or compression");
			return -EINVAL;
		}
		if (o->ram_bytes && o->ram_bytes < MIN_COW_BYTES) {
			log_err(ctx, "a store of less than 1M cannot hold a "
				"copy-on-write store");
			return -EINVAL;
		}
		if (o->ram_bytes > (UINT64_MAX >> 2)) {
			log_err(ctx, "that store size is too large");
			return -ERANGE;
		}
	}
	if (o->name && (r = rosnap_check_name(o->name, &why)) < 0) {
		log_err(ctx, "invalid name \"%s\": %s", o->name, why);
		return r;
	}
	if (o->backend != ROSNAP_BACKEND_AUTO && o->backend != ROSNAP_BACKEND_ZRAM &&
	    o->backend != ROSNAP_BACKEND_BRD) {
		log_err(ctx, "unknown backend; use zram or brd");
		return -EINVAL;
	}
	if (o->chunk_bytes && (!is_pow2(o->chunk_bytes) ||
			       o->chunk_bytes < MIN_CHUNK_BYTES ||
			       o->chunk_bytes > MAX_CHUNK_BYTES)) {
		log_err(ctx, "invalid chunk size %" PRIu32 ": it must be a power "
			"of two from 512 bytes to 1M", o->chunk_bytes);
		return -EINVAL;
	}
	if (o->compression) {
		if (o->backend == ROSNAP_BACKEND_BRD) {
			log_err(ctx, "compression applies to zram only, not brd");
			return -EINVAL;
		}
		if (!algorithm_name_ok(o->compression)) {
			log_err(ctx, "invalid compression algorithm name \"%s\"",
				o->compression);
			return -EINVAL;
		}
	}
	if (!o->ram_bytes || o->store)
		return 0;
	if (o->ram_bytes < MIN_COW_BYTES) {
		rosnap_format_size(o->ram_bytes, a, sizeof(a));
		log_err(ctx, "RAM size %s is too small; the copy-on-write store "
			"needs at least 1M", a);
		return -EINVAL;
	}
	r = rosnap_ram_total(ctx, &total);
	if (r < 0)
		return r;
	if (o->ram_bytes > total) {
		rosnap_format_size(o->ram_bytes, a, sizeof(a));
		rosnap_format_size(total, b, sizeof(b));
		log_err(ctx, "RAM size %s is more than this machine's memory (%s); "
			"ask for less, e.g. --ram 50%%", a, b);
		return -EINVAL;
	}
	return 0;
}

static int check_name_free(struct rosnap_ctx *ctx, const char *name)
{
	struct dm_info_ex info;
	char cowname[160];
	int r;

	r = dm_info(ctx, name, &info);
	if (r == 0) {
		log_err(ctx, "a device named %s already exists; choose another "
			"name with --name", name);
		return -EEXIST;
	}
	if (r != -ENXIO) {
		log_err(ctx, "cannot query device-mapper: %s", strerror(-r));
		return r;
	}
	snprintf(cowname, sizeof(cowname), "%s" COW_SUFFIX, name);
	if (dm_info(ctx, cowname, &info) == 0) {
		log_err(ctx, "a device named %s already exists (the name rosnap "
			"needs for %s's internal layer); choose another name, or "
			"run 'rosnap remove %s' if it was left behind", cowname,
			name, name);
		return -EEXIST;
	}
	return 0;
}

/*
 * zram unless the origin needs small sectors or the kernel cannot load
 * zram (an initramfs without it): then brd, rosnap's fallback, with a
 * notice.  A compression algorithm asks for zram as --backend zram does.
 */
static int choose_backend(struct rosnap_ctx *ctx, const char *spec,
			  const struct origin *o, enum rosnap_backend want,
			  bool compression, enum rosnap_backend *backend)
{
	char why[512];
	enum small_blocks small = origin_small_blocks(o, why, sizeof(why));
	int r;

	*backend = want;
	if (want == ROSNAP_BACKEND_AUTO) {
		*backend = ROSNAP_BACKEND_BRD;
		if (small != SMALL_NO) {
			log_notice(ctx, "using brd instead of zram for %s: %s, "
				   "and zram's sectors are 4096 bytes", spec, why);
			return 0;
		}
		r = module_try(ctx, &KMOD_ZRAM, why, sizeof(why));
		if (r == 0 || compression) {
			/* Without zram, making its device says why. */
			*backend = ROSNAP_BACKEND_ZRAM;
			return 0;
		}
		if (r == -ENOMEM) {
			log_err(ctx, "%s", why);
			return r;
		}
		log_notice(ctx, "using brd instead of zram for %s: %s", spec, why);
		return 0;
	}
	if (want == ROSNAP_BACKEND_ZRAM && small == SMALL_NEEDED) {
		log_err(ctx, "zram cannot hold the changes of %s: %s, but zram's "
			"sectors are 4096 bytes; use "
			"--backend brd, or leave --backend out", spec, why);
		return -EINVAL;
	}
	return 0;
}

static int check_chunk(struct rosnap_ctx *ctx, uint32_t chunk,
		       const struct origin *o, enum rosnap_backend backend)
{
	unsigned need = o->lbs > cow_block_size(backend) ? o->lbs :
							   cow_block_size(backend);

	if (chunk % need) {
		log_err(ctx, "chunk size %" PRIu32 " is not a multiple of %u, the "
			"logical block size of %s or of %s; use --chunk %u or "
			"more", chunk, need, o->path, rosnap_backend_name(backend),
			need);
		return -EINVAL;
	}
	return 0;
}

static int load_snapshot_as(struct rosnap_ctx *ctx, const char *name,
			    const char *type, const struct origin *o,
			    const struct cow *cow, uint32_t chunk, dev_t *devnum)
{
	struct snap_table tbl = {
		.origin = o->devnum,
		.cow = cow->devnum,
		.persistent = true,
		.overflow = true,
		.chunk_sectors = chunk / SECTOR_SIZE,
		.features = snapshot_features(ctx),
	};
	struct dm_target t = { .start = 0, .length = o->size / SECTOR_SIZE };
	struct rosnap_uuid u;
	char params[128], uuid[129];
	int r;

	r = snapshot_table(params, sizeof(params), &tbl);
	if (r < 0)
		return r;
	snprintf(t.type, sizeof(t.type), "%s", type);
	t.params = params;
	r = uuid_new(&u, UUID_SNAP, (o->was_ro ? UUID_F_ORIGIN_RO : 0) |
				  (o->loop ? UUID_F_LOOP : 0));
	if (r == 0)
		r = uuid_format(&u, uuid, sizeof(uuid));
	if (r == 0)
		r = fault_inject(ctx, "snapshot");
	if (r < 0)
		return r;
	r = dm_create(ctx, name, uuid, &t, 1, DM_PUBLIC, devnum);
	if (r == -EBUSY)
		log_err(ctx, "the kernel refused %s: %s is busy (in use by "
			"something that opened it exclusively)", name, o->path);
	else if (r < 0)
		log_err(ctx, "the kernel refused the snapshot %s over %s: %s "
			"(the kernel log, dmesg, may say more)", name, o->path,
			strerror(-r));
	return r;
}

static int load_snapshot(struct rosnap_ctx *ctx, const char *name,
			 const struct origin *o, const struct cow *cow,
			 uint32_t chunk, dev_t *devnum)
{
	return load_snapshot_as(ctx, name, "snapshot", o, cow, chunk, devnum);
}

/*
 * A create under way is recorded as RUN_DIR/create-NAME, with its origin
 * ("MAJ:MIN RO LOOP": the device, whether it was read-only before, and
 * whether it is a loop rosnap attached), from before it makes anything
 * until its device exists or all is undone.  A create killed (SIGKILL) in
 * between is undone by the next command (create_tidy).  o NULL: done.
 */
static int create_record(struct rosnap_ctx *ctx, const char *name,
			 const struct origin *o)
{
	char buf[64];

	if (!o) {
		record_remove(ctx, "create-", name);
		return 0;
	}
	snprintf(buf, sizeof(buf), "%u:%u %d %d\n", major(o->devnum),
		 minor(o->devnum), o->was_ro, o->loop);
	return record_write(ctx, "create-", name, buf);
}

static int remove_orphan(struct rosnap_ctx *ctx, struct rosnap_device *d);

/* Undo one killed create: its store, and the origin's read-only flag. */
static void create_undo(struct rosnap_ctx *ctx, const char *name,
			const char *record)
{
	struct rosnap_device *d = NULL;
	struct dm_info_ex info;
	unsigned maj, min;
	int was_ro, loop, fd;
	char kname[64];
	bool ro;

	/* Its device exists: the create got to its end. */
	if (rosnap_check_name(name, NULL) < 0 || dm_info(ctx, name, &info) == 0)
		return;
	if (device_read(ctx, name, &d) == 0) {
		if (!d->path[0])
			remove_orphan(ctx, d);
		rosnap_device_unref(d);
	}
	/* A loop rosnap attached went with the killed command's descriptor. */
	if (sscanf(record, "%u:%u %d %d", &maj, &min, &was_ro, &loop) == 4 &&
	    !was_ro && !loop) {
		fd = blkdev_open(ctx, makedev(maj, min), O_RDONLY);
		if (fd >= 0 && blkdev_get_ro(fd, &ro) == 0 && ro &&
		    blkdev_set_ro(fd, false) == 0) {
			if (blkdev_kname(ctx, makedev(maj, min), kname,
					 sizeof(kname)) < 0)
				snprintf(kname, sizeof(kname), "%u:%u", maj, min);
			log_notice(ctx, "made /dev/%s writable again", kname);
		}
		if (fd >= 0)
			close(fd);
	}
	log_notice(ctx, "undid the creation of %s, which a killed rosnap "
		   "command had begun", name);
}

void create_tidy(struct rosnap_ctx *ctx)
{
	records_take(ctx, "create-", create_undo);
}

/* A store on disk sets the device's logical block size like any part. */
static int check_store_blocks(struct rosnap_ctx *ctx, const struct store *st,
			      const struct origin *o, uint32_t chunk)
{
	unsigned lbs = SECTOR_SIZE;
	char why[512];

	if (st->blkdev && blkdev_lbs(st->fd, &lbs) < 0)
		return -EIO;
	if (lbs > SECTOR_SIZE && origin_small_blocks(o, why, sizeof(why)) ==
					 SMALL_NEEDED) {
		log_err(ctx, "%s cannot hold the changes of %s: %s, but its "
			"sectors are %u bytes; use a file as the store", st->path,
			o->path, why, lbs);
		return -EINVAL;
	}
	if (chunk % lbs) {
		log_err(ctx, "chunk size %" PRIu32 " is not a multiple of %u, the "
			"logical block size of %s", chunk, lbs, st->path);
		return -EINVAL;
	}
	return 0;
}

/*
 * The store's layer, the origin read-only, the header, the snapshot: for
 * create (fresh, the header first) and attach (the header last, once the
 * snapshot shows the changes: a failed attach leaves it as it was).  The
 * origin is fingerprinted read-only, so nothing changes it in between.
 */
static int load_on_disk(struct rosnap_ctx *ctx, struct origin *o,
			struct store *st, const char *name, bool fresh,
			bool force)
{
	char cowname[160];
	struct rosnap_uuid u;
	struct cow cow;
	dev_t devnum;
	int r;

	snprintf(cowname, sizeof(cowname), "%s" COW_SUFFIX, name);
	r = create_record(ctx, name, o);
	if (r < 0)
		return r;
	r = uuid_new(&u, UUID_COW, UUID_F_DISK);
	if (r == 0)
		r = store_layer(ctx, st, cowname, &u, &cow);
	if (r < 0)
		goto fail_record;
	test_pause(ctx, "create", "store");
	r = origin_protect(ctx, o);
	if (r == 0 && !fresh)
		r = store_check_fingerprint(ctx, st, o, force);
	snprintf(st->h.name, sizeof(st->h.name), "%s", name);
	if (r == 0 && fresh)
		r = store_set_state(ctx, st, STORE_ATTACHED, o->devnum);
	if (r < 0)
		goto fail_cow;
	test_pause(ctx, "create", "protected");
	r = load_snapshot(ctx, name, o, &cow, st->h.chunk_sectors * SECTOR_SIZE,
			  &devnum);
	if (r < 0)
		goto fail_cow;
	create_record(ctx, name, NULL);
	/* Forced: the store belongs to the origin as it is now. */
	if (!fresh)
		store_set_identity(st, o);
	if (!fresh && store_set_state(ctx, st, STORE_ATTACHED, o->devnum) < 0)
		log_warn(ctx, "the header of %s still says \"%s\"", st->path,
			 store_state_name(st->h.state));
	origin_close(ctx, o, false);
	return 0;
fail_cow:
	cow_destroy(ctx, &cow);
fail_record:
	create_record(ctx, name, NULL);
	return r;
}

static int create_on_disk(struct rosnap_ctx *ctx, struct origin *o,
			  const struct rosnap_create_opts *opts, uint32_t chunk,
			  const char *name)
{
	struct store st = { .fd = -1 };
	char size[32];
	int r;

	/* Before anything is written. */
	if (opts->key_file && ((r = encrypt_check_name(ctx, name)) < 0 ||
			       (r = encrypt_check_key_file(ctx, opts->key_file)) < 0))
		goto out;
	/* A new file: --size is the capacity, LUKS2's header comes on top. */
	r = store_make(ctx, opts->store, opts->ram_bytes && opts->key_file ?
		       opts->ram_bytes + STORE_LUKS2_BYTES : opts->ram_bytes,
		       opts->flags & ROSNAP_CREATE_OVERWRITE, o, chunk, name, &st);
	if (r < 0)
		goto out;
	if (opts->flags & ROSNAP_CREATE_ENCRYPT)
		r = store_encrypt(ctx, &st, STORE_F_RANDOM_KEY, NULL);
	else if (opts->key_file)
		r = store_encrypt(ctx, &st, STORE_F_LUKS2, opts->key_file);
	if (r == 0)
		r = check_store_blocks(ctx, &st, o, chunk);
	if (r == 0)
		r = load_on_disk(ctx, o, &st, name, true, false);
	if (r < 0) {
		store_unmake(ctx, &st);
		goto out;
	}
	rosnap_format_size(st.h.store_bytes, size, sizeof(size));
	log_info(ctx, "created /dev/mapper/%s: %s protected, changes in up to "
		 "%s of %s, %s", name, o->file[0] ? o->file : o->path, size,
		 opts->store, st.h.flags & STORE_F_RANDOM_KEY ?
		 "encrypted with a random key (unreadable once removed)" :
		 st.h.flags & STORE_F_LUKS2 ? "encrypted (LUKS2), kept across "
		 "reboots" : "kept across reboots");
	store_close(&st);
	return 0;
out:
	origin_close(ctx, o, true);
	return r;
}

static int create_locked(struct rosnap_ctx *ctx, const char *spec,
			 const struct rosnap_create_opts *opts,
			 char *name, size_t name_len)
{
	enum rosnap_backend backend = ROSNAP_BACKEND_AUTO;
	uint32_t chunk = opts->chunk_bytes ? opts->chunk_bytes :
					     DEFAULT_CHUNK_BYTES;
	char cowname[160], size[32];
	uint64_t ram = opts->ram_bytes;
	struct saved saved = { .st.fd = -1, .fd = -1, .area.lfd = -1 };
	struct origin o;
	struct cow cow;
	dev_t devnum;
	const char *why;
	int r;

	r = module_ensure(ctx, &KMOD_DM_SNAPSHOT);
	if (r < 0)
		return r;
	r = origin_open(ctx, spec, &o);
	if (r < 0)
		return r;
	r = fault_inject(ctx, "origin");
	if (r < 0)
		goto fail_origin;
	if (opts->name)
		snprintf(name, name_len, "%s", opts->name);
	else
		snprintf(name, name_len, "rosnap-%s", o.kname);
	r = rosnap_check_name(name, &why);
	if (r < 0) {
		log_err(ctx, "cannot use the default name %s: %s; give one with "
			"--name", name, why);
		goto fail_origin;
	}
	r = check_name_free(ctx, name);
	if (r == 0 && opts->store)
		backend = ROSNAP_BACKEND_DISK;
	else if (r == 0)
		r = choose_backend(ctx, spec, &o, opts->backend,
				   opts->compression != NULL, &backend);
	if (r == 0 && opts->restore) {
		snprintf(cowname, sizeof(cowname), "%s" COW_SUFFIX, name);
		if (opts->key_file)
			r = encrypt_check_name(ctx, name);
		if (r == 0)
			r = saved_open(ctx, opts->restore, &o, opts->key_file,
				       cowname, &saved);
		if (r == 0 && opts->chunk_bytes &&
		    opts->chunk_bytes != saved.st.h.chunk_sectors * SECTOR_SIZE) {
			log_err(ctx, "%s was saved with chunks of %u bytes; leave "
				"--chunk and --profile out", opts->restore,
				saved.st.h.chunk_sectors * SECTOR_SIZE);
			r = -EINVAL;
		}
		chunk = saved.st.h.chunk_sectors * SECTOR_SIZE;
	}
	if (r == 0 && opts->compression && backend != ROSNAP_BACKEND_ZRAM) {
		log_err(ctx, "--compression applies to zram, but %s needs brd",
			spec);
		r = -EINVAL;
	}
	if (r == 0)
		r = check_chunk(ctx, chunk, &o, backend);
	if (r == 0 && !ram && !opts->store)
		r = ram_percent(ctx, backend == ROSNAP_BACKEND_ZRAM ?
					     ROSNAP_DEFAULT_RAM_PERCENT_ZRAM :
					     ROSNAP_DEFAULT_RAM_PERCENT_BRD,
				&ram);
	/* As large as the saved store, at least: it must fit. */
	if (r == 0 && opts->restore && ram < saved.st.h.store_bytes)
		ram = saved.st.h.store_bytes;
	if (r < 0)
		goto fail_origin;
	if (opts->store)
		return create_on_disk(ctx, &o, opts, chunk, name);
	/* Checked, nothing made yet: where a second create must wait. */
	test_pause(ctx, "create", "checked");
	/* Whole chunks: the store allocates in chunks. */
	ram = (ram + chunk - 1) / chunk * chunk;
	snprintf(cowname, sizeof(cowname), "%s" COW_SUFFIX, name);
	r = create_record(ctx, name, &o);
	if (r < 0)
		goto fail_origin;
	r = cow_create(ctx, cowname, backend, ram, opts->compression, &cow);
	if (r < 0)
		goto fail_record;
	test_pause(ctx, "create", "store");
	r = fault_inject(ctx, "cow");
	if (r == 0 && opts->restore)
		r = saved_load(ctx, &saved, &cow);
	if (r == 0)
		r = origin_protect(ctx, &o);
	if (r == 0)
		r = fault_inject(ctx, "protect");
	/* Read-only now: the origin is as its fingerprint is taken. */
	if (r == 0 && opts->restore)
		r = store_check_fingerprint(ctx, &saved.st, &o, false);
	if (r < 0)
		goto fail_cow;
	test_pause(ctx, "create", "protected");
	r = load_snapshot(ctx, name, &o, &cow, chunk, &devnum);
	if (r < 0)
		goto fail_cow;
	create_record(ctx, name, NULL);
	rosnap_format_size(ram, size, sizeof(size));
	log_info(ctx, "created /dev/mapper/%s: %s protected, changes in up to "
		 "%s of %s%s%s", name, o.file[0] ? o.file : o.path, size,
		 rosnap_backend_name(backend), opts->restore ? ", restored from " : "",
		 opts->restore ? opts->restore : "");
	saved_close(ctx, &saved);
	/* The snapshot holds the origin (and our loop) open from now on. */
	origin_close(ctx, &o, false);
	return 0;
fail_cow:
	cow_destroy(ctx, &cow);
fail_record:
	saved_close(ctx, &saved);
	origin_close(ctx, &o, true);
	create_record(ctx, name, NULL);
	return r;
fail_origin:
	saved_close(ctx, &saved);
	origin_close(ctx, &o, true);
	return r;
}

_public_ int rosnap_create(struct rosnap_ctx *ctx, const char *origin,
			   const struct rosnap_create_opts *opts,
			   struct rosnap_device **dev)
{
	static const struct rosnap_create_opts defaults;
	char name[128];
	int r;

	if (!opts)
		opts = &defaults;
	r = check_opts(ctx, opts);
	if (r < 0)
		return r;
	r = lock_acquire(ctx);
	if (r < 0)
		return r;
	r = create_locked(ctx, origin, opts, name, sizeof(name));
	lock_release(ctx);
	if (r == 0 && dev)
		r = device_read(ctx, name, dev);
	return r;
}

/*
 * A merge from the store was cut short (a power cut): part of the changes
 * are in the origin, the rest in the store, and the two together are
 * the device's contents.  Load the merge again, as it was: the origin
 * writable, the store read through a merge layer; the kernel merges the
 * rest, and merge_finish() protects the origin again.
 */
static int resume_merge(struct rosnap_ctx *ctx, struct origin *o,
			struct store *st, const char *name, bool force)
{
	char cowname[160], mname[160];
	struct rosnap_uuid u, mu;
	struct cow cow, m = { 0 };
	bool ro = false, cleared = false;
	dev_t devnum;
	int r;

	/*
	 * Size alone does not tell one disk from another: the rest of the
	 * merge would go into whatever disk is there now.
	 */
	if (!st->h.origin_uuid[0] && !st->h.origin_ptuuid[0] &&
	    !st->h.origin_partuuid[0] && !force) {
		log_err(ctx, "a merge from %s was cut short, and it records nothing "
			"that identifies its origin (no filesystem or partition "
			"UUID), only its size; finishing it into %s is a guess: "
			"'rosnap attach --force' does it", st->path, o->path);
		return -EINVAL;
	}
	snprintf(cowname, sizeof(cowname), "%s" COW_SUFFIX, name);
	snprintf(mname, sizeof(mname), "%s" MERGE_SUFFIX, name);
	r = create_record(ctx, name, o);
	if (r < 0)
		return r;
	r = uuid_new(&u, UUID_COW, UUID_F_DISK);
	if (r == 0)
		r = uuid_new(&mu, UUID_COW, UUID_F_DISK);
	if (r == 0)
		r = store_layer(ctx, st, cowname, &u, &cow);
	if (r < 0)
		goto fail_record;
	/*
	 * Writable for the merge only once its store is there: opening an
	 * encrypted one derives its key, for seconds, with nothing over the
	 * origin to keep writers off.
	 */
	if (blkdev_get_ro(o->fd, &ro) == 0 && ro) {
		cleared = blkdev_set_ro(o->fd, false) == 0;
		if (!cleared || blkdev_get_ro(o->fd, &ro) < 0 || ro) {
			log_err(ctx, "%s cannot be written, so the merge cut short "
				"cannot be finished; nothing was done", o->path);
			r = -EROFS;
			goto fail_cow;
		}
	}
	r = cow_alias(ctx, mname, &cow, &mu, &m);
	if (r == 0)
		r = load_snapshot_as(ctx, name, "snapshot-merge", o, &m,
				     st->h.chunk_sectors * SECTOR_SIZE, &devnum);
	if (r < 0)
		goto fail_cow;
	create_record(ctx, name, NULL);
	log_notice(ctx, "finishing the merge of %s into %s that was cut short",
		   st->path, o->path);
	origin_close(ctx, o, false);
	return 0;
fail_cow:
	cow_destroy(ctx, &m);
	cow_destroy(ctx, &cow);
fail_record:
	create_record(ctx, name, NULL);
	if (cleared)
		blkdev_set_ro(o->fd, true);
	return r;
}

static int attach_locked(struct rosnap_ctx *ctx, const char *spec,
			 const char *path, const char *want, uint32_t flags,
			 const char *key_file, char *name, size_t name_len,
			 bool *merging)
{
	bool force = flags & ROSNAP_ATTACH_FORCE;
	struct store st = { .fd = -1 };
	struct origin o;
	const char *why;
	int r;

	r = module_ensure(ctx, &KMOD_DM_SNAPSHOT);
	if (r < 0)
		return r;
	/* The store first: a disk image origin gets a loop device. */
	r = store_open(ctx, path, &st);
	if (r < 0)
		return r;
	r = origin_open(ctx, spec, &o);
	if (r < 0) {
		store_close(&st);
		return r;
	}
	if (st.h.state == STORE_SAVED) {
		log_err(ctx, "%s is a saved RAM store: 'rosnap create %s --restore "
			"%s' starts from it", path, spec, path);
		r = -EINVAL;
		goto out;
	}
	/* Even --force: there is nothing it could read. */
	if (st.h.flags & STORE_F_RANDOM_KEY) {
		log_err(ctx, "%s was encrypted with a random key, which went with "
			"its device: its changes can never be read%s; 'rosnap "
			"create %s --store %s --overwrite --encrypt' makes a new "
			"store there",
			path, st.h.state == STORE_MERGING ? ", and the merge "
			"that was cut short left the origin half merged" : "",
			spec, path);
		r = -EINVAL;
		goto out;
	}
	r = store_use_key(ctx, &st, key_file);
	if (r < 0)
		goto out;
	snprintf(name, name_len, "%s", want ? want : st.h.name[0] ? st.h.name :
								"");
	if (!name[0])
		snprintf(name, name_len, "rosnap-%s", o.kname);
	r = rosnap_check_name(name, &why);
	if (r < 0) {
		log_err(ctx, "cannot use the name %s: %s; give one with --name",
			name, why);
		goto out;
	}
	r = check_name_free(ctx, name);
	if (r == 0 && key_file)
		r = encrypt_check_name(ctx, name);
	if (r == 0)
		r = place_check(ctx, "store", path, o.devnum, 0, name);
	if (r == 0)
		r = store_check_identity(ctx, &st, &o, force);
	if (r == 0)
		r = store_kernel_check(ctx, &st);
	if (r == 0)
		r = check_store_blocks(ctx, &st, &o,
				       st.h.chunk_sectors * SECTOR_SIZE);
	/* Half merged: the fingerprint cannot hold, the UUIDs decide. */
	if (r == 0 && st.h.state == STORE_MERGING) {
		*merging = true;
		r = resume_merge(ctx, &o, &st, name, force);
		store_close(&st);
		if (r == 0)
			return 0;
		goto out;
	}
	if (r == 0)
		r = load_on_disk(ctx, &o, &st, name, false, force);
	if (r == 0) {
		log_info(ctx, "attached %s: %s protected, with the changes kept "
			 "in %s", name, o.file[0] ? o.file : o.path, path);
		store_close(&st);
		return 0;
	}
out:
	store_close(&st);
	origin_close(ctx, &o, true);
	return r;
}

_public_ int rosnap_attach(struct rosnap_ctx *ctx, const char *origin,
			   const char *store, const char *name, uint32_t flags,
			   struct rosnap_device **dev)
{
	return rosnap_attach_key(ctx, origin, store, name, flags, NULL, dev);
}

_public_ int rosnap_attach_key(struct rosnap_ctx *ctx, const char *origin,
			       const char *store, const char *name,
			       uint32_t flags, const char *key_file,
			       struct rosnap_device **dev)
{
	bool merging = false;
	char buf[128];
	const char *why;
	int r;

	if (flags & ~ROSNAP_ATTACH_FORCE) {
		log_err(ctx, "unknown attach flags");
		return -EINVAL;
	}
	if (!origin || !store) {
		log_err(ctx, "attach needs an origin and a store");
		return -EINVAL;
	}
	if (name && (r = rosnap_check_name(name, &why)) < 0) {
		log_err(ctx, "invalid name \"%s\": %s", name, why);
		return r;
	}
	r = lock_acquire(ctx);
	if (r < 0)
		return r;
	r = attach_locked(ctx, origin, store, name, flags, key_file, buf,
			  sizeof(buf), &merging);
	lock_release(ctx);
	/* Finished as 'rosnap merge' would: then it protects the origin. */
	if (r == 0 && merging)
		r = rosnap_merge_wait(ctx, buf, NULL, NULL);
	if (r == 0 && dev)
		r = device_read(ctx, buf, dev);
	return r;
}

/* Explain why an open device can't be removed. */
static void explain_busy(struct rosnap_ctx *ctx, const struct rosnap_device *d,
			 const char *verb)
{
	struct mount_hit hit;
	char kname[64], holder[64];

	if (mount_find(ctx, &d->devnum, 1, &hit) > 0) {
		log_err(ctx, "cannot %s %s: it is mounted on %s; unmount it first",
			verb, d->name, hit.target);
		return;
	}
	if (blkdev_kname(ctx, d->devnum, kname, sizeof(kname)) == 0 &&
	    blkdev_holders(ctx, kname, holder, sizeof(holder)) > 0) {
		log_err(ctx, "cannot %s %s: %s is built on it; remove that first",
			verb, d->name, holder);
		return;
	}
	log_err(ctx, "cannot %s %s: it is open (%d users); close what uses it "
		"first", verb, d->name, d->open_count);
}

#define ORIGIN_SUFFIX "-origin"

static int view_name(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s" ORIGIN_SUFFIX, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Remove NAME's origin view, if there is one. */
static int view_remove(struct rosnap_ctx *ctx, const char *name)
{
	struct dm_info_ex info;
	struct rosnap_uuid u;
	char view[160];
	int r;

	if (view_name(view, sizeof(view), name) < 0 ||
	    dm_info(ctx, view, &info) < 0 || uuid_parse(info.uuid, &u) < 0 ||
	    u.role != UUID_ORIGIN)
		return 0;
	if (info.open_count > 0) {
		log_err(ctx, "the origin view %s is in use; unmount it first", view);
		return -EBUSY;
	}
	r = dm_remove(ctx, view);
	if (r < 0)
		log_err(ctx, "cannot remove %s: %s", view, strerror(-r));
	return r;
}

static int view_create(struct rosnap_ctx *ctx, const struct rosnap_device *d)
{
	struct dm_target t = { .start = 0, .length = d->size / SECTOR_SIZE,
			       .type = "linear" };
	char view[160], params[48], uuid[129];
	struct rosnap_uuid u;
	dev_t dev;
	int r;

	if (!d->origin_devnum || !d->size) {
		log_err(ctx, "%s has no origin to show", d->name);
		return -EINVAL;
	}
	r = view_name(view, sizeof(view), d->name);
	if (r == 0)
		r = linear_table(params, sizeof(params), d->origin_devnum, 0);
	if (r == 0)
		r = uuid_new(&u, UUID_ORIGIN, 0);
	if (r == 0)
		r = uuid_format(&u, uuid, sizeof(uuid));
	if (r < 0)
		return r;
	t.params = params;
	/* Hidden: the writable device keeps the filesystem's UUID links. */
	r = dm_create(ctx, view, uuid, &t, 1, DM_HIDDEN | DM_READONLY, &dev);
	if (r == -EBUSY || r == -EEXIST)
		log_err(ctx, "a device named %s exists already", view);
	else if (r < 0)
		log_err(ctx, "cannot create the origin view %s: %s", view,
			strerror(-r));
	return r;
}

_public_ int rosnap_origin_view(struct rosnap_ctx *ctx, const char *name,
				bool open)
{
	struct rosnap_device *d = NULL;
	int r;

	r = lock_acquire(ctx);
	if (r < 0)
		return r;
	r = rosnap_device_open(ctx, name, &d);
	if (r == 0)
		r = open ? view_create(ctx, d) : view_remove(ctx, d->name);
	rosnap_device_unref(d);
	lock_release(ctx);
	return r;
}

/* Layers of NAME that no table uses any more (a command cut short). */
static void remove_layers(struct rosnap_ctx *ctx, const char *name)
{
	static const char *const suffixes[] = { COW_SUFFIX, COW_NEW_SUFFIX,
						"-cow.merge" };
	struct dm_info_ex info;
	char layer[160];
	struct cow c;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(suffixes); i++) {
		snprintf(layer, sizeof(layer), "%s%s", name, suffixes[i]);
		if (dm_info(ctx, layer, &info) < 0 || info.open_count > 0 ||
		    cow_load(ctx, layer, &c) < 0)
			continue;
		if (cow_destroy(ctx, &c) == 0)
			log_info(ctx, "removed the leftover layer %s", layer);
	}
}

/* Remove the leftovers of a device whose snapshot is gone. */
static int remove_orphan(struct rosnap_ctx *ctx, struct rosnap_device *d)
{
	remove_layers(ctx, d->name);
	return view_remove(ctx, d->name);
}

static int remove_locked(struct rosnap_ctx *ctx, struct rosnap_device *d,
			 bool keep)
{
	struct store st = { .fd = -1 };
	char kname[64];
	bool loop = d->id.flags & UUID_F_LOOP;
	int ofd = -1, r;

	if (!d->path[0])
		return remove_orphan(ctx, d);
	if (d->state == ROSNAP_STATE_MERGING ||
	    d->state == ROSNAP_STATE_MERGE_FAILED) {
		log_err(ctx, "cannot remove %s: it is merging, and removing it now "
			"would leave %s half merged; wait for the merge ('rosnap "
			"merge %s' waits and retries a failed one)", d->name,
			device_origin_label(d), d->name);
		return -EBUSY;
	}
	if (d->open_count > 0) {
		explain_busy(ctx, d, "remove");
		return -EBUSY;
	}
	if (keep && d->backend != ROSNAP_BACKEND_DISK) {
		log_err(ctx, "%s keeps its changes in RAM: they cannot be kept "
			"past its removal (a store on disk can: 'rosnap create "
			"--store')", d->name);
		return -EINVAL;
	}
	if (keep && store_key_random(&d->store)) {
		log_err(ctx, "the store of %s is encrypted with a random key that "
			"goes with the device: its changes cannot be kept past "
			"its removal ('rosnap merge %s' puts them into %s)", d->name,
			d->name, device_origin_label(d));
		return -EINVAL;
	}
	if (keep && d->state == ROSNAP_STATE_INVALID) {
		log_err(ctx, "%s is invalid: the kernel dropped its changes after "
			"an I/O error on its store, there is nothing to keep; 'rosnap "
			"remove %s' removes it", d->name, d->name);
		return -EINVAL;
	}
	/*
	 * The store's header, before anything goes: kept, with the origin's
	 * identity and fingerprint while it is still read-only and held; or
	 * wiped, as its changes go with the device (before: a power cut
	 * must not bring back what was removed).  Put back if the removal
	 * fails.
	 */
	if (d->backend == ROSNAP_BACKEND_DISK) {
		r = store_of(ctx, d, &st);
		if (r == 0 && keep)
			r = store_detach(ctx, &st, d->origin_devnum);
		else if (r == 0)
			r = store_wipe(ctx, &st);
		if (r < 0 && keep)
			goto out;
		if (r < 0)
			store_close(&st);
	}
	r = view_remove(ctx, d->name);
	if (r < 0)
		goto out;
	/* Keep a handle on the origin to give back its read-only flag. */
	if (d->origin_devnum)
		ofd = blkdev_open(ctx, d->origin_devnum, O_RDONLY);
	r = dm_remove(ctx, d->name);
	if (r == -EBUSY) {
		explain_busy(ctx, d, "remove");
		goto out;
	}
	if (r < 0 && r != -ENXIO) {
		log_err(ctx, "cannot remove %s: %s", d->name, strerror(-r));
		goto out;
	}
	r = 0;
	if (ofd >= 0 && !(d->id.flags & UUID_F_ORIGIN_RO) &&
	    blkdev_set_ro(ofd, false) < 0)
		log_warn(ctx, "cannot make %s writable again", device_origin_label(d));
	if (d->cow.have_dm)
		r = cow_destroy(ctx, &d->cow);
	remove_layers(ctx, d->name);
	record_remove(ctx, "saved-", d->name);
	if (st.fd >= 0 && keep)
		log_info(ctx, "removed %s; its changes are kept in %s ('rosnap "
			 "attach %s --store %s' brings them back)", d->name,
			 st.path, device_origin_label(d), st.path);
	else if (st.fd >= 0)
		log_info(ctx, "removed %s; %s holds no changes any more", d->name,
			 st.path);
	else
		log_info(ctx, "removed %s", d->name);
out:
	/* Not removed: the store is still attached, its header as it was. */
	if (r < 0 && st.fd >= 0) {
		st.h.state = STORE_ATTACHED;
		store_write_header(ctx, &st);
	}
	store_close(&st);
	if (ofd >= 0)
		close(ofd);
	if (r == 0 && loop &&
	    blkdev_kname(ctx, d->origin_devnum, kname, sizeof(kname)) == 0)
		loop_wait_detached(ctx, kname);
	return r;
}

static int remove_named(struct rosnap_ctx *ctx, const char *arg, bool keep)
{
	struct rosnap_device *d = NULL;
	int r;

	r = lock_acquire(ctx);
	if (r < 0)
		return r;
	r = rosnap_device_open(ctx, arg, &d);
	if (r == 0)
		r = remove_locked(ctx, d, keep);
	rosnap_device_unref(d);
	lock_release(ctx);
	return r;
}

_public_ int rosnap_remove(struct rosnap_ctx *ctx, const char *arg)
{
	return remove_named(ctx, arg, false);
}

_public_ int rosnap_detach(struct rosnap_ctx *ctx, const char *arg)
{
	return remove_named(ctx, arg, true);
}

static int origin_set_ro(struct rosnap_ctx *ctx, void *data)
{
	const struct origin *o = data;
	int r = blkdev_set_ro(o->fd, true);

	if (r < 0)
		log_err(ctx, "cannot make %s read-only: %s", o->path, strerror(-r));
	return r;
}

static int protect_locked(struct rosnap_ctx *ctx, struct rosnap_device *d,
			  uint64_t ram)
{
	enum rosnap_backend backend = ROSNAP_BACKEND_AUTO;
	char cowname[128], params[128];
	struct dm_target t;
	struct origin o;
	struct cow cow = { 0 };
	int r;

	if (d->state != ROSNAP_STATE_UNPROTECTED) {
		log_err(ctx, "%s is %s, not unprotected; protect applies after "
			"'rosnap merge %s --unprotect'", d->name,
			rosnap_state_name(d->state), d->name);
		return -EINVAL;
	}
	r = origin_open_devnum(ctx, d->origin_devnum, &o);
	if (r < 0)
		return r;
	r = choose_backend(ctx, device_origin_label(d), &o, ROSNAP_BACKEND_AUTO,
			   false, &backend);
	if (r == 0)
		r = check_chunk(ctx, DEFAULT_CHUNK_BYTES, &o, backend);
	if (r == 0 && !ram)
		r = ram_percent(ctx, backend == ROSNAP_BACKEND_ZRAM ?
					     ROSNAP_DEFAULT_RAM_PERCENT_ZRAM :
					     ROSNAP_DEFAULT_RAM_PERCENT_BRD,
				&ram);
	if (r == 0 && (size_t)snprintf(cowname, sizeof(cowname), "%s" COW_SUFFIX,
				       d->name) >= sizeof(cowname))
		r = -ENAMETOOLONG;
	if (r == 0)
		r = cow_create(ctx, cowname, backend,
			       (ram + DEFAULT_CHUNK_BYTES - 1) / DEFAULT_CHUNK_BYTES *
				       DEFAULT_CHUNK_BYTES, NULL, &cow);
	if (r < 0)
		goto out;
	/*
	 * Writes to a linear device never reach dm-snapshot, so the empty
	 * snapshot may load first; suspending flushes the filesystem's
	 * writes to the origin, then it becomes read-only.
	 */
	r = top_table(ctx, d, "snapshot", cow.devnum, DEFAULT_CHUNK_BYTES, &t,
		      params, sizeof(params));
	if (r == 0)
		r = transition_run(ctx, &(struct transition){
			.what = "protect", .name = d->name, .table = &t,
			.count = 1, .vis = DM_PUBLIC, .frozen = origin_set_ro,
			.data = &o,
		});
	if (r < 0) {
		blkdev_set_ro(o.fd, false);
		cow_destroy(ctx, &cow);
		goto out;
	}
	log_info(ctx, "%s protects %s again", d->name, device_origin_label(d));
out:
	origin_close(ctx, &o, false);
	return r;
}

_public_ int rosnap_grow(struct rosnap_ctx *ctx, const char *name,
			 uint64_t bytes)
{
	struct rosnap_device *d = NULL;
	char a[32], b[32];
	int r;

	uint64_t total;

	if (bytes < ROSNAP_MIN_GROW_BYTES) {
		log_err(ctx, "growing by less than 1M is not worth it");
		return -EINVAL;
	}
	/* Before rounding up, which would wrap near 2^64. */
	r = rosnap_ram_total(ctx, &total);
	if (r < 0)
		return r;
	if (bytes > total) {
		rosnap_format_size(bytes, a, sizeof(a));
		rosnap_format_size(total, b, sizeof(b));
		log_err(ctx, "growing by %s is more than this machine's memory "
			"(%s); grow by less", a, b);
		return -EINVAL;
	}
	bytes = (bytes + 4095) & ~4095ULL;
	r = lock_acquire(ctx);
	if (r < 0)
		return r;
	r = rosnap_device_open(ctx, name, &d);
	if (r < 0)
		goto out;
	if (d->state != ROSNAP_STATE_ACTIVE && d->state != ROSNAP_STATE_OVERFLOW) {
		log_err(ctx, "%s is %s; only an active store grows", d->name,
			rosnap_state_name(d->state));
		r = d->state == ROSNAP_STATE_MERGING ? -EBUSY : -EINVAL;
		goto out;
	}
	if (d->cow.bytes > total - bytes) {
		rosnap_format_size(d->cow.bytes + bytes, a, sizeof(a));
		rosnap_format_size(total, b, sizeof(b));
		log_err(ctx, "the store of %s would grow to %s, more than this "
			"machine's memory (%s); grow by less", d->name, a, b);
		r = -EINVAL;
		goto out;
	}
	if (d->state == ROSNAP_STATE_OVERFLOW)
		log_warn(ctx, "%s has overflowed already: the kernel keeps "
			 "refusing its writes even with a larger store", d->name);
	r = cow_grow(ctx, &d->cow, bytes);
	if (r == 0) {
		rosnap_format_size(bytes, a, sizeof(a));
		rosnap_format_size(d->cow.bytes, b, sizeof(b));
		log_info(ctx, "grew the store of %s by %s to %s", d->name, a, b);
	}
out:
	rosnap_device_unref(d);
	lock_release(ctx);
	return r;
}

_public_ int rosnap_protect(struct rosnap_ctx *ctx, const char *name,
			    uint64_t ram_bytes)
{
	struct rosnap_create_opts opts = { .ram_bytes = ram_bytes };
	struct rosnap_device *d = NULL;
	int r;

	r = check_opts(ctx, &opts);
	if (r < 0)
		return r;
	r = lock_acquire(ctx);
	if (r < 0)
		return r;
	r = rosnap_device_open(ctx, name, &d);
	if (r == 0)
		r = protect_locked(ctx, d, ram_bytes);
	rosnap_device_unref(d);
	lock_release(ctx);
	return r;
}
