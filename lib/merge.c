/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Merging, discarding and protecting again, live.
 *
 * A merge reloads the device's own table as "snapshot-merge" over a layer
 * of its own (an alias of the RAM store, or a journal copy of it): the
 * kernel reads the store from disk and writes every changed chunk into
 * the origin while the device stays mounted.  When it is done the device
 * is reloaded directly as a "snapshot" over a fresh store, so the origin
 * is never exposed to writes outside a merge (or as a plain "linear"
 * mapping, with ROSNAP_MERGE_UNPROTECT).
 *
 * While a device that may hold the root filesystem is suspended, nothing
 * may wait for it: memory is locked so rosnap's own code needs no reads,
 * and the journal is synced with fdatasync(), never sync() (which waits
 * for the frozen filesystem).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int layer_name(char *buf, size_t len, const char *name,
		      const char *suffix)
{
	int n = snprintf(buf, len, "%s%s", name, suffix);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Open the origin and clear its read-only flag; it must then be writable. */
static int origin_make_writable(struct rosnap_ctx *ctx,
				const struct rosnap_device *d, int *fd)
{
	bool ro;
	int r;

	*fd = blkdev_open(ctx, d->origin_devnum, O_RDONLY);
	if (*fd < 0)
		return *fd;
	r = blkdev_set_ro(*fd, false);
	if (r == 0)
		r = blkdev_get_ro(*fd, &ro);
	if (r == 0 && ro) {
		log_err(ctx, "%s cannot be written: it is read-only below rosnap "
			"(%s); nothing was merged", device_origin_label(d),
			d->origin_file[0] ? "a disk image attached read-only" :
					    "write-protected hardware or driver");
		r = -EROFS;
	}
	if (r < 0) {
		blkdev_set_ro(*fd, true);
		close(*fd);
		*fd = -1;
	}
	return r;
}

/* The store a device had before a merge began ("NAME-cow"), if any. */
static int old_layer(struct rosnap_ctx *ctx, const struct rosnap_device *d,
		     struct cow *old)
{
	char name[128];
	int r;

	r = layer_name(name, sizeof(name), d->name, COW_SUFFIX);
	if (r == 0)
		r = cow_load(ctx, name, old);
	if (r == 0 && old->devnum == d->cow.devnum)
		r = -ENOENT;
	return r;
}

/* Free the RAM an old store holds: zram gives pages back on discard. */
static void cow_free_ram(struct rosnap_ctx *ctx, const struct cow *c)
{
	uint64_t range[2] = { 0, c->bytes };
	int fd;

	if (c->backend != ROSNAP_BACKEND_ZRAM)
		return;
	fd = blkdev_open(ctx, c->devnum, O_WRONLY);
	if (fd < 0)
		return;
	if (ioctl(fd, BLKDISCARD, range) < 0)
		log_dbg(ctx, "discard of %s: %s", c->name, strerror(errno));
	close(fd);
}

static int journal_header_for(struct rosnap_ctx *ctx,
			      const struct rosnap_device *d, uint32_t flags,
			      struct journal_header *h)
{
	struct origin o;
	int r;

	memset(h, 0, sizeof(*h));
	h->data_bytes = d->cow_used;
	h->chunk_sectors = d->chunk_bytes / SECTOR_SIZE;
	h->flags = flags & ROSNAP_MERGE_UNPROTECT ? JOURNAL_F_UNPROTECT : 0;
	h->origin_size = d->size;
	h->created = (uint64_t)time(NULL);
	/* A hint for recover: a long path is cut, the UUID decides. */
	snprintf(h->origin_path, sizeof(h->origin_path), "%.*s",
		 (int)sizeof(h->origin_path) - 1, d->origin);
	snprintf(h->name, sizeof(h->name), "%s", d->name);
	r = origin_open_devnum(ctx, d->origin_devnum, &o);
	if (r < 0)
		return r;
	snprintf(h->origin_uuid, sizeof(h->origin_uuid), "%s", o.fsuuid);
	snprintf(h->origin_ptuuid, sizeof(h->origin_ptuuid), "%s", o.ptuuid);
	snprintf(h->origin_partuuid, sizeof(h->origin_partuuid), "%s",
		 o.partuuid);
	origin_close(ctx, &o, false);
	return 0;
}

/*
 * Before suspending: the layer a merge will read, over the journal.  No
 * device is made while a device is suspended (udev would have to work
 * with a frozen root filesystem).
 */
static int journal_layer(struct rosnap_ctx *ctx, struct journal *j,
			 const char *name, const struct rosnap_uuid *u,
			 struct cow *m)
{
	struct stat sb;
	dev_t dev;
	int lfd = -1, r;

	if (j->blkdev) {
		if (fstat(j->fd, &sb) < 0)
			return -errno;
		dev = sb.st_rdev;
	} else {
		r = loop_attach(ctx, j->path, false, 0, &dev, &lfd);
		if (r < 0)
			return r;
	}
	r = cow_create_on(ctx, name, ROSNAP_BACKEND_FILE, dev,
			  JOURNAL_HEADER_BYTES / SECTOR_SIZE, j->size, u, m);
	/* The layer holds the loop now; it detaches when the layer goes. */
	if (lfd >= 0)
		close(lfd);
	return r;
}

/*
 * Copy the store into the journal: live (the merge's options, for its
 * copy_progress), a first copy while the device runs; then (NULL), with
 * the device suspended and its store complete, only what changed since
 * (the root stays frozen for that alone).
 */
static int journal_copy(struct rosnap_ctx *ctx, const struct rosnap_device *d,
			struct journal *j, const struct rosnap_merge_opts *live)
{
	uint64_t written;
	char size[32];
	int r;

	if (live)
		return journal_copy_store(ctx, d, j, live->copy_progress,
					  live->copy_userdata, NULL);
	r = journal_copy_store(ctx, d, j, NULL, NULL, &written);
	if (r < 0)
		return r;
	rosnap_format_size(written, size, sizeof(size));
	log_info(ctx, "copied into the journal, suspended: %s of the store "
		 "(what changed since the first copy)", size);
	return journal_set_state(ctx, j, JOURNAL_MERGING);
}

struct merge_start {
	const struct rosnap_device *d;
	struct journal *j;      /* or NULL */
	const struct cow *m;    /* the layer the merge reads */
};

/*
 * Suspended, the store is complete: copy it into the journal, then load
 * the merging table (it reads the store's metadata as it loads).
 */
static int merge_start_frozen(struct rosnap_ctx *ctx, void *data)
{
	const struct merge_start *ms = data;
	int r = 0;

	if (ms->j)
		r = journal_copy(ctx, ms->d, ms->j, NULL);
	if (r == 0)
		r = reload_top(ctx, ms->d, "snapshot-merge", ms->m->devnum,
			       ms->d->chunk_bytes);
	return r;
}

/*
 * Does name's live table use the layer c (merging from it, if merging)?
 * After a failed transition: the kernel may have switched all the same.
 */
static bool store_is_live(struct rosnap_ctx *ctx, const char *name,
			  const struct cow *c, bool merging)
{
	struct rosnap_device *cur;
	bool live;

	if (!c->have_dm || device_read(ctx, name, &cur) < 0)
		return false;
	live = cur->cow.devnum == c->devnum &&
	       (!merging || cur->state == ROSNAP_STATE_MERGING);
	rosnap_device_unref(cur);
	return live;
}

static int merge_start(struct rosnap_ctx *ctx, struct rosnap_device *d,
		       const struct rosnap_merge_opts *opts)
{
	struct journal j = { .fd = -1 };
	struct store st = { .fd = -1 };
	struct journal_header h;
	struct rosnap_uuid u;
	char mname[128];
	struct cow m = { 0 };
	int ofd = -1, r;
	bool live;

	switch (d->state) {
	case ROSNAP_STATE_ACTIVE:
	case ROSNAP_STATE_OVERFLOW:
		break;
	case ROSNAP_STATE_INVALID:
		log_err(ctx, "%s is invalid: the kernel dropped its changes after "
			"an I/O error on its store (see dmesg), so there is nothing "
			"to merge; 'rosnap discard %s' starts afresh, 'rosnap remove "
			"%s' removes it", d->name, d->name, d->name);
		return -EINVAL;
	case ROSNAP_STATE_UNPROTECTED:
		log_err(ctx, "%s is unprotected: writes already go to %s, there "
			"is nothing to merge ('rosnap protect %s' protects it again)",
			d->name, device_origin_label(d), d->name);
		return -EINVAL;
	default:
		log_err(ctx, "%s is %s; it cannot be merged", d->name,
			rosnap_state_name(d->state));
		return -EINVAL;
	}
	if (opts->journal && d->store.crypt) {
		log_err(ctx, "the store of %s is encrypted: a journal would hold "
			"its changes in plaintext; leave --journal out", d->name);
		return -EINVAL;
	}
	if (opts->journal && d->backend == ROSNAP_BACKEND_DISK) {
		log_err(ctx, "the store of %s is on disk already, so a merge from "
			"it needs no journal; leave --journal out", d->name);
		return -EINVAL;
	}
	if (opts->journal) {
		r = journal_check_place(ctx, opts->journal, d->origin_devnum,
					d->devnum, d->name);
		if (r < 0)
			return r;
	}
	/* Say so rather than swap tables for nothing (and keep the store). */
	if (d->state == ROSNAP_STATE_ACTIVE && d->cow_used == d->cow_meta &&
	    !(opts->flags & ROSNAP_MERGE_UNPROTECT)) {
		log_info(ctx, "%s has no changes: nothing to merge", d->name);
		return 0;
	}
	r = layer_name(mname, sizeof(mname), d->name, MERGE_SUFFIX);
	if (r == 0)
		r = uuid_new(&u, UUID_COW,
			     (opts->flags & ROSNAP_MERGE_UNPROTECT ? UUID_F_UNPROTECT : 0) |
			     (d->backend == ROSNAP_BACKEND_DISK ? UUID_F_DISK : 0));
	if (r < 0)
		return r;
	u.merge_total = (d->cow_used - d->cow_meta) / SECTOR_SIZE;
	if (opts->journal) {
		r = journal_header_for(ctx, d, opts->flags, &h);
		/* Room for the whole store and the chunk that ends it. */
		if (r == 0)
			r = journal_create(ctx, opts->journal, &h,
					   d->cow.bytes + d->chunk_bytes, &j);
		if (r < 0)
			return r;
		/* Most of the copy, while the device runs. */
		r = journal_copy(ctx, d, &j, opts);
		if (r == 0)
			r = journal_layer(ctx, &j, mname, &u, &m);
		if (r < 0)
			goto fail;
	} else if (d->backend == ROSNAP_BACKEND_DISK) {
		if (store_key_random(&d->store))
			log_warn(ctx, "merging %s from a store whose key dies with "
				 "it: if the power fails before the merge ends, %s "
				 "is left half merged, for good", d->name,
				 device_origin_label(d));
		/* Says the origin is changing: its fingerprint cannot hold. */
		r = store_of(ctx, d, &st);
		if (r == 0)
			r = store_set_state(ctx, &st, STORE_MERGING, 0);
		if (r == 0)
			r = cow_alias(ctx, mname, &d->cow, &u, &m);
		if (r < 0)
			goto fail;
	} else {
		log_warn(ctx, "merging %s from RAM: if the power fails before the "
			 "merge ends, %s is left half merged; --journal PATH (on "
			 "another disk) makes the merge power-loss-safe", d->name,
			 device_origin_label(d));
		r = cow_alias(ctx, mname, &d->cow, &u, &m);
		if (r < 0)
			return r;
	}
	r = origin_make_writable(ctx, d, &ofd);
	if (r < 0)
		goto fail;
	r = transition_run(ctx, &(struct transition){
		.what = "merge-start", .name = d->name, .vis = DM_PUBLIC,
		.frozen = merge_start_frozen,
		.data = &(struct merge_start){ d, opts->journal ? &j : NULL, &m },
	});
	if (r < 0)
		goto fail;
	close(ofd);
	/* The journal holds the changes now: give the RAM back already. */
	if (opts->journal)
		cow_free_ram(ctx, &d->cow);
	journal_close(&j);
	store_close(&st);
	log_info(ctx, "merging %s into %s%s%s", d->name, device_origin_label(d),
		 opts->journal ? " from the journal " : "",
		 opts->journal ? opts->journal : "");
	return 0;
fail:
	/*
	 * If the kernel swapped the merging table in and then failed the
	 * resume, that merge goes on: the origin stays writable, and the
	 * journal and the layer over it stay.  Otherwise the journal goes,
	 * marked "copying" first so that, should removing it fail, nothing
	 * ever replays it.
	 */
	live = store_is_live(ctx, d->name, &m, true);
	if (!live)
		cow_destroy(ctx, &m);
	if (ofd >= 0) {
		if (!live)
			blkdev_set_ro(ofd, true);
		close(ofd);
	}
	if (j.fd >= 0) {
		if (!live && journal_set_state(ctx, &j, JOURNAL_COPYING) == 0)
			journal_remove(ctx, &j);
		journal_close(&j);
	}
	/* Nothing merged: the origin is as its fingerprint says. */
	if (st.fd >= 0 && !live && st.h.state == STORE_MERGING)
		store_set_state(ctx, &st, STORE_ATTACHED, d->origin_devnum);
	store_close(&st);
	if (live)
		log_err(ctx, "%s is merging nonetheless%s%s; 'rosnap merge %s' "
			"waits for it", d->name, opts->journal ? ", from the journal " : "",
			opts->journal ? opts->journal : "", d->name);
	return r;
}

static void log_merge_failed(struct rosnap_ctx *ctx, const char *name)
{
	log_err(ctx, "the kernel stopped merging %s after an I/O error (see "
		"dmesg); what was merged is on the origin, the rest still in "
		"the store; run 'rosnap merge %s' to try again", name, name);
}

int wait_merged(struct rosnap_ctx *ctx, const char *name, uint64_t total,
		rosnap_progress_fn progress, void *userdata)
{
	char type[32], status[256];
	struct snap_status st;
	uint64_t left;
	long delay = 20;
	int r;

	for (;;) {
		r = dm_status(ctx, name, type, sizeof(type), status, sizeof(status));
		if (r == -ENXIO)
			return -ENODEV;
		if (r < 0)
			return r;
		if (strcmp(type, "snapshot-merge") != 0)
			return 1;
		r = snapshot_status_parse(status, &st);
		if (r < 0)
			return r;
		switch (merge_verdict(&st, &left)) {
		case MERGE_FAILED:
			log_merge_failed(ctx, name);
			return -EIO;
		case MERGE_INVALID:
			log_err(ctx, "the kernel invalidated %s during its merge "
				"after an I/O error on its store (see dmesg); the "
				"merge did not finish", name);
			return -EIO;
		default:
			break;
		}
		if (total < left)
			total = left;
		if (progress && progress(ctx, total - left, total, userdata))
			return 2;
		if (left == 0)
			return 0;
		/*
		 * A status is one cheap ioctl; a long nap would be added to
		 * every merge's time (make bench: merge_ratio).
		 */
		sleep_ms(delay);
		if (delay < 100)
			delay += 20;
	}
}

int merge_journal_remove(struct rosnap_ctx *ctx, const struct journal_ref *ref)
{
	struct journal j;
	struct stat st;
	int r;

	r = journal_open(ctx, ref->path, &j);
	if (r < 0)
		return r;
	if (fstat(j.fd, &st) < 0 ||
	    (ref->blkdev ? st.st_rdev != ref->dev :
			   st.st_dev != ref->dev || st.st_ino != ref->ino)) {
		log_err(ctx, "%s is no longer the journal the merge read (moved "
			"or replaced since); left in place", ref->path);
		r = -ESTALE;
	} else {
		r = journal_remove(ctx, &j);
	}
	journal_close(&j);
	return r;
}

struct merge_end {
	const struct rosnap_device *d;
	int ofd;                /* the origin, or -1 */
	bool unprotect;
	dev_t fresh;
	struct store *st;       /* a store on disk, or NULL */
};

/*
 * Suspended: the filesystem's last writes reached the origin.  Protect
 * it, then load the table (not before: see transition.c).  A store on
 * disk says "merging" until here: from now on its changes are new ones,
 * which a merge resumed after a power cut must never write into the
 * origin; so its header changes before the new table goes live, or the
 * table does not.  (The store and the origin are not under the device.)
 */
static int merge_end_frozen(struct rosnap_ctx *ctx, void *data)
{
	const struct merge_end *me = data;
	int r;

	if (!me->unprotect && me->ofd >= 0)
		blkdev_set_ro(me->ofd, true);
	if (me->st) {
		r = me->unprotect ? store_wipe(ctx, me->st) :
				    store_set_state(ctx, me->st, STORE_ATTACHED,
						    me->d->origin_devnum);
		if (r < 0)
			return r;
	}
	test_pause(ctx, "merge", "header");
	return reload_top(ctx, me->d, me->unprotect ? "linear" : "snapshot",
			  me->fresh, me->d->chunk_bytes);
}

int merge_finish(struct rosnap_ctx *ctx, struct rosnap_device *d)
{
	bool unprotect = d->cow.id.flags & UUID_F_UNPROTECT;
	char fresh_name[128], cow_name[128];
	struct journal_ref journal = d->journal;
	struct store st = { .fd = -1 };
	struct cow old, fresh = { 0 };
	bool have_old;
	int ofd = -1, r;

	if (d->state != ROSNAP_STATE_MERGING || d->merge_remaining)
		return -EAGAIN;
	have_old = old_layer(ctx, d, &old) == 0;
	r = layer_name(fresh_name, sizeof(fresh_name), d->name, COW_NEW_SUFFIX);
	if (r == 0)
		r = layer_name(cow_name, sizeof(cow_name), d->name, COW_SUFFIX);
	if (r < 0)
		return r;
	if (!unprotect) {
		if (!have_old) {
			log_err(ctx, "cannot protect %s again: its store %s is gone; "
				"'rosnap merge %s --unprotect' then 'rosnap protect "
				"%s'", d->name, cow_name, d->name, d->name);
			return -ENOENT;
		}
		r = cow_create_like(ctx, fresh_name, &old, &fresh);
		if (r < 0)
			return r;
	}
	/*
	 * The kernel has merged everything: the journal is no longer needed
	 * even if the power fails now.  Remove it before the switch, so that
	 * "active" never shows beside a leftover journal.
	 */
	if (journal.path[0])
		merge_journal_remove(ctx, &journal);
	/* Its header is written while suspended: all made ready now. */
	if (d->backend == ROSNAP_BACKEND_DISK) {
		r = store_prepare_merged(ctx, d, &st);
		if (r < 0) {
			log_err(ctx, "cannot finish the merge of %s: the header of "
				"its store cannot be written; 'rosnap merge %s' tries "
				"again", d->name, d->name);
			cow_destroy(ctx, &fresh);
			return r;
		}
	}
	ofd = blkdev_open(ctx, d->origin_devnum, O_RDONLY);
	/* Writes after the check above went to the origin: still done. */
	r = transition_run(ctx, &(struct transition){
		.what = "merge-finish", .name = d->name, .vis = DM_PUBLIC,
		.frozen = merge_end_frozen,
		.data = &(struct merge_end){ d, ofd, unprotect, fresh.devnum,
					     st.fd >= 0 ? &st : NULL },
	});
	if (r < 0 && store_is_live(ctx, d->name, &fresh, false)) {
		/* The kernel switched and then failed its resume: done. */
		log_warn(ctx, "%s switched to its new table nonetheless",
			 d->name);
		r = 0;
	}
	if (r < 0) {
		if (ofd >= 0)
			blkdev_set_ro(ofd, false);
		/* Still merging (done, but not switched): say so again. */
		if (st.fd >= 0 && (unprotect || st.h.state != STORE_MERGING)) {
			st.h.state = STORE_MERGING;
			store_write_header(ctx, &st);
		}
		cow_destroy(ctx, &fresh);
		goto out;
	}
	cow_destroy(ctx, &d->cow);
	if (have_old)
		cow_destroy(ctx, &old);
	if (!unprotect)
		cow_rename(ctx, &fresh, cow_name);
	cow_keep_fresh(&fresh);
	if (st.fd >= 0 && unprotect)
		log_info(ctx, "%s holds no changes any more", st.path);
	if (unprotect)
		log_info(ctx, "merged %s into %s; it is unprotected now: writes "
			 "go to %s", d->name, device_origin_label(d), device_origin_label(d));
	else
		log_info(ctx, "merged %s into %s; it protects %s again", d->name,
			 device_origin_label(d), device_origin_label(d));
out:
	store_close(&st);
	if (ofd >= 0)
		close(ofd);
	return r;
}

static int merge_wait_finish(struct rosnap_ctx *ctx, const char *dmname,
			     rosnap_progress_fn progress, void *userdata);

_public_ int rosnap_merge_wait(struct rosnap_ctx *ctx, const char *name,
			       rosnap_progress_fn progress, void *userdata)
{
	char dmname[128];
	int waiter, r;

	r = device_resolve_name(ctx, name, dmname, sizeof(dmname));
	if (r < 0) {
		log_err(ctx, "%s is not a rosnap device", name);
		return -ENODEV;
	}
	/* Tells repair (transition_tidy) that the merge is ours to finish. */
	waiter = merge_waiter_lock(ctx, dmname);
	r = merge_wait_finish(ctx, dmname, progress, userdata);
	merge_waiter_unlock(ctx, dmname, waiter);
	return r;
}

static int merge_wait_finish(struct rosnap_ctx *ctx, const char *dmname,
			     rosnap_progress_fn progress, void *userdata)
{
	struct rosnap_device *d = NULL;
	int r;

	for (;;) {
		r = device_read(ctx, dmname, &d);
		if (r < 0)
			return r == -ENODEV ? -ENODEV : r;
		if (d->state != ROSNAP_STATE_MERGING) {
			/* Someone else finished it, or it failed. */
			r = 0;
			if (d->state == ROSNAP_STATE_MERGE_FAILED) {
				log_merge_failed(ctx, dmname);
				r = -EIO;
			} else if (d->state == ROSNAP_STATE_INVALID) {
				log_err(ctx, "%s is invalid: the kernel gave up its "
					"merge after an I/O error on its store (see "
					"dmesg)", dmname);
				r = -EIO;
			}
			rosnap_device_unref(d);
			return r;
		}
		r = wait_merged(ctx, dmname, d->cow.id.merge_total * SECTOR_SIZE,
				progress, userdata);
		rosnap_device_unref(d);
		d = NULL;
		if (r != 0)
			return r == 1 || r == 2 ? 0 : r;
		r = lock_acquire(ctx);
		if (r < 0)
			return r;
		r = device_read(ctx, dmname, &d);
		if (r == 0)
			r = merge_finish(ctx, d);
		lock_release(ctx);
		rosnap_device_unref(d);
		d = NULL;
		if (r != -EAGAIN)
			return r;
	}
}

/* Swap in TYPE over the store COW: suspended, so the frozen fs waits. */
static int swap_top(struct rosnap_ctx *ctx, const struct rosnap_device *d,
		    const char *type, dev_t cow)
{
	struct dm_target t;
	char params[128];
	int r;

	r = top_table(ctx, d, type, cow, d->chunk_bytes, &t, params,
		      sizeof(params));
	if (r < 0)
		return r;
	/* The same store: the kernel hands the exceptions over at resume. */
	return transition_run(ctx, &(struct transition){
		.what = "merge-retry", .name = d->name, .table = &t, .count = 1,
		.vis = DM_PUBLIC,
	});
}

/*
 * Restart a merge the kernel stopped after an I/O error.  Its "Merge
 * failed" flag is cleared only when a table is constructed, and the
 * kernel refuses a second merging table of the same store: hand the
 * store's exceptions (what was merged already is gone from them) to a
 * plain snapshot, then to a new snapshot-merge, which merges the rest.
 */
static int merge_retry(struct rosnap_ctx *ctx, const struct rosnap_device *d)
{
	char type[32], params[256];
	struct snap_table t;
	int r;

	r = dm_table_line(ctx, d->name, type, sizeof(type), params,
			  sizeof(params));
	if (r < 0)
		return r;
	r = snapshot_table_parse(params, &t);
	if (r < 0)
		return r;
	r = swap_top(ctx, d, "snapshot", t.cow);
	if (r == 0)
		r = swap_top(ctx, d, "snapshot-merge", t.cow);
	return r;
}

int merge_rearm(struct rosnap_ctx *ctx, const struct rosnap_device *d)
{
	return swap_top(ctx, d, "snapshot-merge", d->cow.devnum);
}

/*
 * The options' layout is ABI: the two pointers took two reserved words,
 * and each stays 8 bytes wide on 32-bit systems too.
 */
_Static_assert(offsetof(struct rosnap_merge_opts, reserved) ==
		       offsetof(struct rosnap_merge_opts, copy_progress) + 16 &&
	       sizeof(struct rosnap_merge_opts) ==
		       offsetof(struct rosnap_merge_opts, copy_progress) + 64,
	       "struct rosnap_merge_opts changed size or layout");

static int check_flags(struct rosnap_ctx *ctx, uint32_t flags, uint32_t known,
		       const uint64_t *reserved, size_t n)
{
	size_t i;

	for (i = 0; reserved && i < n; i++)
		if (reserved[i])
			flags |= 0x80000000u;
	if (flags & ~known) {
		log_err(ctx, "unknown flags");
		return -EINVAL;
	}
	return 0;
}

_public_ int rosnap_merge(struct rosnap_ctx *ctx, const char *name,
			  const struct rosnap_merge_opts *opts,
			  rosnap_progress_fn progress, void *userdata)
{
	static const struct rosnap_merge_opts defaults;
	struct rosnap_device *d = NULL;
	char dmname[128];
	int waiter = -1, r;

	if (!opts)
		opts = &defaults;
	r = check_flags(ctx, opts->flags,
			ROSNAP_MERGE_NO_WAIT | ROSNAP_MERGE_UNPROTECT,
			opts->reserved, ARRAY_SIZE(opts->reserved));
	if (r < 0)
		return r;
	r = lock_acquire(ctx);
	if (r < 0)
		return r;
	r = rosnap_device_open(ctx, name, &d);
	if (r < 0)
		goto out;
	snprintf(dmname, sizeof(dmname), "%s", d->name);
	/* From before the merge starts: it is ours to finish, not repair's. */
	if (!(opts->flags & ROSNAP_MERGE_NO_WAIT))
		waiter = merge_waiter_lock(ctx, dmname);
	if (d->state == ROSNAP_STATE_MERGE_FAILED) {
		log_info(ctx, "retrying the merge of %s", d->name);
		r = merge_retry(ctx, d);
	} else if (d->state == ROSNAP_STATE_MERGING) {
		if (opts->journal)
			log_warn(ctx, "%s is merging already; --journal ignored",
				 d->name);
	} else {
		r = merge_start(ctx, d, opts);
	}
out:
	rosnap_device_unref(d);
	lock_release(ctx);
	if (r == 0 && !(opts->flags & ROSNAP_MERGE_NO_WAIT))
		r = rosnap_merge_wait(ctx, dmname, progress, userdata);
	merge_waiter_unlock(ctx, dmname, waiter);
	return r;
}

/* Explain that a device in use cannot be discarded. */
static void explain_open(struct rosnap_ctx *ctx, const struct rosnap_device *d)
{
	struct mount_hit hit;

	if (mount_find(ctx, &d->devnum, 1, &hit) > 0) {
		if (strcmp(hit.target, "/") == 0)
			log_err(ctx, "%s is the root filesystem and cannot be "
				"discarded while mounted; restarting the machine "
				"discards all its changes", d->name);
		else
			log_err(ctx, "%s is mounted on %s; unmount it first, then "
				"discard", d->name, hit.target);
		return;
	}
	log_err(ctx, "%s is open (%d users); close what uses it, then discard",
		d->name, d->open_count);
}

/* Replace the store of a closed device with a fresh one like it. */
static int fresh_store(struct rosnap_ctx *ctx, struct rosnap_device *d)
{
	char fresh_name[128], cow_name[128], params[128];
	struct dm_target t;
	struct cow fresh;
	int r;

	r = layer_name(fresh_name, sizeof(fresh_name), d->name, COW_NEW_SUFFIX);
	if (r == 0)
		r = layer_name(cow_name, sizeof(cow_name), d->name, COW_SUFFIX);
	if (r == 0)
		r = cow_create_like(ctx, fresh_name, &d->cow, &fresh);
	if (r < 0)
		return r;
	/* Closed, so nothing writes the origin: safe to load first. */
	r = top_table(ctx, d, "snapshot", fresh.devnum, d->chunk_bytes, &t,
		      params, sizeof(params));
	if (r == 0)
		r = transition_run(ctx, &(struct transition){
			.what = "discard", .name = d->name, .table = &t,
			.count = 1, .nolockfs = true, .vis = DM_PUBLIC,
		});
	if (r < 0) {
		cow_destroy(ctx, &fresh);
		return r;
	}
	cow_keep_fresh(&fresh);
	cow_destroy(ctx, &d->cow);
	cow_rename(ctx, &fresh, cow_name);
	return 0;
}

_public_ int rosnap_discard(struct rosnap_ctx *ctx, const char *name,
			    uint32_t flags)
{
	struct rosnap_device *d = NULL;
	int excl, r;

	r = check_flags(ctx, flags, ROSNAP_DISCARD_REMOVE, NULL, 0);
	if (r < 0)
		return r;
	r = lock_acquire(ctx);
	if (r < 0)
		return r;
	r = rosnap_device_open(ctx, name, &d);
	if (r < 0)
		goto out;
	switch (d->state) {
	case ROSNAP_STATE_ACTIVE:
	case ROSNAP_STATE_OVERFLOW:
	case ROSNAP_STATE_INVALID:
		break;
	case ROSNAP_STATE_MERGING:
	case ROSNAP_STATE_MERGE_FAILED:
		log_err(ctx, "%s is merging: part of its changes are in %s "
			"already, so they cannot be discarded; wait for the merge "
			"('rosnap merge %s')", d->name, device_origin_label(d), d->name);
		r = -EBUSY;
		goto out;
	case ROSNAP_STATE_UNPROTECTED:
		log_err(ctx, "%s is unprotected: its writes went to %s, there is "
			"nothing to discard", d->name, device_origin_label(d));
		r = -EINVAL;
		goto out;
	default:
		log_err(ctx, "%s is %s; 'rosnap remove %s' cleans it up", d->name,
			rosnap_state_name(d->state), d->name);
		r = -EINVAL;
		goto out;
	}
	if (d->open_count > 0) {
		explain_open(ctx, d);
		r = -EBUSY;
		goto out;
	}
	if (flags & ROSNAP_DISCARD_REMOVE) {
		/* The lock nests: the device cannot change in between. */
		r = rosnap_remove(ctx, d->name);
		goto out;
	}
	/*
	 * Held exclusively from the check to the swap: a mount meanwhile
	 * would see its device change under it (the suspend does not
	 * freeze a filesystem that was not there when it was checked).
	 */
	excl = blkdev_open(ctx, d->devnum, O_RDONLY | O_EXCL);
	if (excl < 0) {
		if (excl == -EBUSY)
			explain_open(ctx, d);
		r = excl;
		goto out;
	}
	r = fresh_store(ctx, d);
	close(excl);
	if (r == 0)
		log_info(ctx, "discarded the changes of %s: it shows %s as it is",
			 d->name, device_origin_label(d));
out:
	rosnap_device_unref(d);
	lock_release(ctx);
	return r;
}
