/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Finishing a journaled merge after a power cut: the journal holds the
 * store as the kernel left it on persistent storage, so loading
 * "snapshot-merge" over it again resumes the merge where it stopped.
 * Nothing is written to the origin before the journal and the origin are
 * verified to belong together.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* The origin of a journal: named by the caller, or by UUID and size. */
static int find_origin(struct rosnap_ctx *ctx, const struct journal *j,
		       const char *spec, struct origin *o)
{
	char tag[96];
	int r;

	if (spec)
		return origin_open(ctx, spec, o);
	if (j->h.origin_uuid[0]) {
		snprintf(tag, sizeof(tag), "UUID=%s", j->h.origin_uuid);
		r = origin_open(ctx, tag, o);
		if (r == 0 && o->size == j->h.origin_size)
			return 0;
		if (r == 0)
			origin_close(ctx, o, true);
		else if (r != -ENODEV)
			return r;
	}
	/*
	 * Size and path alone do not tell one disk from another (swapped
	 * USB sticks): without a UUID to check, the user names the origin.
	 */
	if (!j->h.origin_uuid[0] && !j->h.origin_ptuuid[0] &&
	    !j->h.origin_partuuid[0]) {
		log_err(ctx, "%s records nothing that identifies its origin (no "
			"filesystem or partition table UUID), only its size, "
			"%llu bytes, and where it was, %s; another disk could be "
			"there now: name the origin with --origin; nothing was "
			"written", j->path, (unsigned long long)j->h.origin_size,
			j->h.origin_path);
		return -EINVAL;
	}
	if (j->h.origin_path[0] && access(j->h.origin_path, F_OK) == 0)
		return origin_open(ctx, j->h.origin_path, o);
	log_err(ctx, "cannot find the origin of %s (UUID %s, %llu bytes, once "
		"%s); name it with --origin", j->path,
		j->h.origin_uuid[0] ? j->h.origin_uuid : "none",
		(unsigned long long)j->h.origin_size, j->h.origin_path);
	return -ENODEV;
}

/* What tells the origin from the journal's record of it, or NULL. */
static const char *origin_mismatch(const struct journal *j,
				   const struct origin *o, char *buf,
				   size_t len)
{
	const struct origin_id id = {
		j->h.origin_size, j->h.origin_uuid, j->h.origin_ptuuid,
		j->h.origin_partuuid,
	};

	return origin_differs(o, &id, "the journal's origin", buf, len);
}

int journal_is_of(struct rosnap_ctx *ctx, const char *path, const char *root)
{
	struct journal j;
	struct origin o;
	char why[256];
	int r;

	r = journal_open(ctx, path, &j);
	if (r < 0)
		return r;
	r = origin_open(ctx, root, &o);
	if (r == 0) {
		r = !origin_mismatch(&j, &o, why, sizeof(why));
		origin_close(ctx, &o, true);
	}
	journal_close(&j);
	return r;
}

static int check_origin(struct rosnap_ctx *ctx, const struct journal *j,
			const struct origin *o)
{
	char why[256];

	if (!origin_mismatch(j, o, why, sizeof(why)))
		return 0;
	log_err(ctx, "%s is not the origin of %s: %s; nothing was written",
		o->path, j->path, why);
	return -EINVAL;
}

/* The merge device over the journal; remove what was made on failure. */
static int merge_device(struct rosnap_ctx *ctx, struct journal *j,
			struct origin *o, char *name, size_t len,
			struct cow *c)
{
	struct snap_table tbl = { .origin = o->devnum, .persistent = true,
				  .overflow = true };
	struct dm_target t = { .start = 0, .length = o->size / SECTOR_SIZE,
			       .type = "snapshot-merge" };
	struct rosnap_uuid u;
	char params[128], uuid[129], cowname[128];
	struct stat st;
	int lfd = -1, r;
	dev_t dev;

	r = uuid_new(&u, UUID_RECOVER, 0);
	if (r < 0)
		return r;
	snprintf(name, len, "rosnap-recover-%s", u.id);
	snprintf(cowname, sizeof(cowname), "rosnap-recover-%s" COW_SUFFIX, u.id);
	if (j->blkdev) {
		if (fstat(j->fd, &st) < 0)
			return -errno;
		dev = st.st_rdev;
	} else {
		r = loop_attach(ctx, j->path, false, 0, &dev, &lfd);
		if (r < 0)
			return r;
	}
	r = cow_create_on(ctx, cowname, ROSNAP_BACKEND_FILE, dev,
			  JOURNAL_HEADER_BYTES / SECTOR_SIZE, j->size, NULL, c);
	if (lfd >= 0)
		close(lfd);
	if (r < 0)
		return r;
	tbl.cow = c->devnum;
	tbl.chunk_sectors = j->h.chunk_sectors;
	r = snapshot_table(params, sizeof(params), &tbl);
	if (r == 0)
		r = uuid_format(&u, uuid, sizeof(uuid));
	if (r == 0) {
		t.params = params;
		r = dm_create(ctx, name, uuid, &t, 1, DM_HIDDEN, &dev);
		if (r < 0)
			log_err(ctx, "the kernel refused to merge %s into %s: %s "
				"(dmesg may say more)", j->path, o->path,
				strerror(-r));
	}
	if (r < 0)
		cow_destroy(ctx, c);
	return r;
}

static int recover_locked(struct rosnap_ctx *ctx, struct journal *j,
			  const char *spec, rosnap_progress_fn progress,
			  void *userdata)
{
	char name[128];
	struct origin o;
	struct cow c;
	bool ro;
	int r;

	/* Early in boot nothing may have loaded device-mapper yet. */
	r = module_ensure(ctx, &KMOD_DM_SNAPSHOT);
	if (r < 0)
		return r;
	r = find_origin(ctx, j, spec, &o);
	if (r < 0)
		return r;
	r = check_origin(ctx, j, &o);
	if (r == 0) {
		r = blkdev_set_ro(o.fd, false);
		if (r == 0)
			r = blkdev_get_ro(o.fd, &ro);
		if (r == 0 && ro) {
			log_err(ctx, "%s is write-protected; cannot finish the merge",
				o.path);
			r = -EROFS;
		}
	}
	if (r == 0)
		r = merge_device(ctx, j, &o, name, sizeof(name), &c);
	if (r < 0)
		goto out;
	log_info(ctx, "finishing the merge of %s into %s", j->path, o.path);
	r = wait_merged(ctx, name, 0, progress, userdata);
	/*
	 * The journal goes only once the kernel reports the merge complete:
	 * a wait stopped early, or a device someone else reloaded, leaves
	 * the origin half merged, and the journal is what finishes it.
	 */
	if (r == 2) {
		log_notice(ctx, "stopped before the merge from %s ended: %s is "
			   "half merged; 'rosnap recover %s' finishes it", j->path,
			   o.path, j->path);
		r = -EINTR;
	} else if (r == 1) {
		log_err(ctx, "the merge device %s was changed by someone else; "
			"%s is kept: 'rosnap recover %s' finishes the merge",
			name, j->path, j->path);
		r = -EIO;
	} else if (r < 0) {
		log_err(ctx, "%s is kept: once the fault is gone, 'rosnap recover "
			"%s' finishes the merge", j->path, j->path);
	}
	if (dm_remove(ctx, name) < 0)
		log_warn(ctx, "cannot remove %s", name);
	cow_destroy(ctx, &c);
	if (r == 0) {
		journal_remove(ctx, j);
		log_notice(ctx, "finished the merge from %s: %s holds every change",
			   j->path, o.path);
	}
out:
	/* Leave the origin's flag as it was found. */
	if (o.was_ro)
		blkdev_set_ro(o.fd, true);
	origin_close(ctx, &o, false);
	return r;
}

_public_ int rosnap_recover(struct rosnap_ctx *ctx, const char *path,
			    const char *origin, rosnap_progress_fn progress,
			    void *userdata)
{
	struct journal j;
	int r;

	r = lock_acquire(ctx);
	if (r < 0)
		return r;
	r = journal_open(ctx, path, &j);
	if (r < 0)
		goto out;
	if (j.h.state == JOURNAL_COPYING) {
		log_notice(ctx, "the merge recorded in %s never started: %s was not "
			   "changed; removing the journal", path, j.h.origin_path);
		r = journal_remove(ctx, &j);
	} else {
		r = recover_locked(ctx, &j, origin, progress, userdata);
	}
	journal_close(&j);
out:
	lock_release(ctx);
	return r;
}
