/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every change of a live device's table (merge start, finish and retry,
 * protect, discard, grow) goes through transition_run(), so that the
 * rules for a suspended device, which may hold the root filesystem, are
 * in one place:
 *
 * - It runs with the lock held, so catchable signals wait until the
 *   whole operation is done (lock.c): Ctrl-C, a dropped ssh session's
 *   SIGHUP or a SIGTERM never leave a device suspended.
 * - The new table is loaded into the inactive slot before the suspend
 *   wherever that is safe (a snapshot takes no exceptions for origin
 *   writes until it is resumed).  A merge's start cannot: snapshot-merge
 *   reads its store's metadata when it is loaded, from a layer of its own
 *   (no handover), so the store must be quiet first.  A merge's end loads
 *   its table while suspended too, the order verified when live merging
 *   was built (kernel-facts.md).  What runs while suspended (the frozen
 *   step) touches only RAM devices and the journal, never the frozen
 *   filesystem.
 * - Memory is locked and messages are held while suspended.
 * - A marker, /run/rosnap/transition, names the device in transition.
 *   SIGKILL cannot be blocked: the next command to take the lock finds
 *   the marker, resumes the device (into its new table if that was
 *   loaded whole, which the frozen steps do last; else into the old one)
 *   and transition_tidy() then puts the layers and the origin's read-only
 *   flag of every rosnap device in order, and finishes a merge that ended
 *   with nobody left to finish it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define MARKER "transition"

void memory_lock(struct rosnap_ctx *ctx)
{
	/* Without it a page fault on the frozen root can wait forever. */
	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		log_warn(ctx, "cannot lock rosnap in memory (%s): a page it "
			 "needs while the device is suspended could be on it",
			 strerror(errno));
	log_hold(ctx);
}

void memory_unlock(struct rosnap_ctx *ctx)
{
	log_release(ctx);
	munlockall();
}

int top_table(struct rosnap_ctx *ctx, const struct rosnap_device *d,
	      const char *type, dev_t cow, uint32_t chunk_bytes,
	      struct dm_target *t, char *params, size_t len)
{
	struct snap_table tbl = {
		.origin = d->origin_devnum,
		.cow = cow,
		.persistent = true,
		.overflow = true,
		.chunk_sectors = chunk_bytes / SECTOR_SIZE,
	};

	memset(t, 0, sizeof(*t));
	t->length = d->size / SECTOR_SIZE;
	snprintf(t->type, sizeof(t->type), "%s", type);
	t->params = params;
	if (strcmp(type, "linear") == 0)
		return linear_table(params, len, d->origin_devnum, 0);
	if (strcmp(type, "snapshot") == 0)
		tbl.features = snapshot_features(ctx);
	return snapshot_table(params, len, &tbl);
}

int reload_top(struct rosnap_ctx *ctx, const struct rosnap_device *d,
	       const char *type, dev_t cow, uint32_t chunk_bytes)
{
	struct dm_target t;
	char params[128];
	int r;

	r = top_table(ctx, d, type, cow, chunk_bytes, &t, params, sizeof(params));
	if (r == 0)
		r = dm_reload(ctx, d->name, &t, 1);
	if (r < 0)
		log_err(ctx, "the kernel refused the %s table for %s: %s (dmesg "
			"may say more)", type, d->name, strerror(-r));
	return r;
}

/* "NAME\n": the device suspended.  A RAM device only its new table uses
 * is recorded by cow.c until that table holds it. */
static int marker_set(struct rosnap_ctx *ctx, const struct transition *t)
{
	char buf[256];
	int n;

	n = snprintf(buf, sizeof(buf), "%s\n", t->name);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	return record_write(ctx, MARKER, "", buf);
}

static void marker_clear(struct rosnap_ctx *ctx)
{
	record_remove(ctx, MARKER, "");
}

static bool still_suspended(struct rosnap_ctx *ctx, const char *name)
{
	struct dm_info_ex info;

	return dm_info(ctx, name, &info) == 0 && info.suspended;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int fault_loaded(struct rosnap_ctx *ctx, const struct transition *t)
{
	char point[64];

	snprintf(point, sizeof(point), "%s-loaded", t->what);
	return fault_inject(ctx, point);
}

int transition_run(struct rosnap_ctx *ctx, const struct transition *t)
{
	uint64_t frozen;
	int r;

	if (ctx->lock_depth == 0) {
		log_err(ctx, "internal error: %s changes %s without the lock",
			t->what, t->name);
		return -EINVAL;
	}
	r = marker_set(ctx, t);
	if (r < 0)
		return r;
	if (t->table) {
		r = dm_reload(ctx, t->name, t->table, t->count);
		if (r < 0) {
			log_err(ctx, "the kernel refused the %s table for %s: %s "
				"(dmesg may say more)", t->table[0].type, t->name,
				strerror(-r));
			marker_clear(ctx);
			return r;
		}
	}
	test_pause(ctx, t->what, "loaded");
	/* Test builds: a failure before the suspend (ROSNAP_TEST_FAIL_AT=
	 * WHAT-loaded), as when the suspend is refused. */
	r = fault_loaded(ctx, t);
	if (r < 0) {
		if (t->table)
			dm_clear(ctx, t->name);
		marker_clear(ctx);
		return r;
	}
	memory_lock(ctx);
	r = dm_suspend(ctx, t->name, t->nolockfs);
	if (r < 0) {
		memory_unlock(ctx);
		log_err(ctx, "cannot suspend %s: %s", t->name, strerror(-r));
		if (t->table)
			dm_clear(ctx, t->name);
		marker_clear(ctx);
		return r;
	}
	frozen = now_us();
	test_pause(ctx, t->what, "suspended");
	if (t->frozen)
		r = t->frozen(ctx, t->data);
	if (r == 0) {
		r = dm_resume(ctx, t->name, t->vis);
		/* Test builds: as when a target fails its resume after the
		 * kernel made the new table live. */
		if (r == 0)
			r = fault_inject(ctx, "resume");
		if (r < 0)
			log_err(ctx, "cannot resume %s with its new table: %s",
				t->name, strerror(-r));
	}
	if (r < 0) {
		/* Back to the table it had. */
		dm_clear(ctx, t->name);
		dm_resume(ctx, t->name, t->vis);
	}
	frozen = now_us() - frozen;
	log_info(ctx, "%s: %s was suspended for %" PRIu64 ".%03" PRIu64 " s",
		 t->what, t->name, frozen / 1000000, frozen / 1000 % 1000);
	/*
	 * Before the held messages go out (the application may block on
	 * them): a marker must not outlive the transition it names.  One
	 * whose device is still suspended stays, for the next command.
	 */
	if (still_suspended(ctx, t->name))
		log_err(ctx, "%s is still suspended: the next rosnap command "
			"tries to resume it again", t->name);
	else
		marker_clear(ctx);
	memory_unlock(ctx);
	test_pause(ctx, t->what, "resumed");
	return r;
}

/*
 * Resume the device a killed command left suspended: into its new table
 * if that was loaded (a frozen step loads it last), else the old one.
 */
static void resume_left(struct rosnap_ctx *ctx, const char *name)
{
	struct dm_info_ex info;
	struct rosnap_uuid u;
	enum dm_visibility vis;
	bool forward;

	if (dm_info(ctx, name, &info) < 0 || uuid_parse(info.uuid, &u) < 0)
		return;
	vis = u.role == UUID_SNAP ? DM_PUBLIC : DM_HIDDEN;
	if (!info.suspended) {
		/* Killed before its suspend: the change never began. */
		if (info.inactive_table) {
			dm_clear(ctx, name);
			log_notice(ctx, "dropped the table a killed rosnap command "
				   "had loaded for %s", name);
		}
		return;
	}
	forward = info.inactive_table;
	if (dm_resume(ctx, name, vis) < 0) {
		forward = false;
		dm_clear(ctx, name);
		dm_resume(ctx, name, vis);
	}
	log_notice(ctx, "resumed %s, which a killed rosnap command had left "
		   "suspended%s", name,
		   forward ? ", into the table it had loaded" : "");
}

/* Set the origin's read-only flag as the device's state needs it. */
static void origin_flag(struct rosnap_ctx *ctx, const struct rosnap_device *d,
			bool want)
{
	bool ro;
	int fd;

	fd = blkdev_open(ctx, d->origin_devnum, O_RDONLY);
	if (fd < 0)
		return;
	if (blkdev_get_ro(fd, &ro) == 0 && ro != want &&
	    blkdev_set_ro(fd, want) == 0)
		log_notice(ctx, "made %s %s again, as %s needs", device_origin_label(d),
			   want ? "read-only" : "writable", d->name);
	close(fd);
}

/* Remove NAME+suffix unless it is the store the device uses. */
static void drop_layer(struct rosnap_ctx *ctx, const struct rosnap_device *d,
		       const char *suffix)
{
	struct dm_info_ex info;
	char name[160];
	struct cow c;

	struct journal_ref journal = { .path = "" };

	snprintf(name, sizeof(name), "%s%s", d->name, suffix);
	if (cow_load(ctx, name, &c) < 0 || c.devnum == d->cow.devnum ||
	    dm_info(ctx, name, &info) < 0 || info.open_count > 0)
		return;
	/*
	 * An unused merge layer over a journal: the merge never went live
	 * (or finished, and its journal is gone already).  Its journal says
	 * "merging" and must not be replayed into the origin later.
	 */
	if (c.backend == ROSNAP_BACKEND_FILE)
		cow_journal(ctx, &c, &journal);
	if (cow_destroy(ctx, &c) == 0)
		log_notice(ctx, "removed %s, left over by a killed rosnap command",
			   name);
	if (journal.path[0] && journal_has_magic(journal.path) &&
	    merge_journal_remove(ctx, &journal) == 0)
		log_notice(ctx, "removed the journal %s of a merge that never "
			   "started", journal.path);
}

/*
 * A store on disk marked "merging" by a merge killed before it began: the
 * origin is unchanged, its fingerprint can be taken again.
 */
static void store_not_merging(struct rosnap_ctx *ctx,
			      const struct rosnap_device *d)
{
	struct store st;

	if (store_of(ctx, d, &st) < 0)
		return;
	if (st.h.state == STORE_MERGING &&
	    store_set_state(ctx, &st, STORE_ATTACHED, d->origin_devnum) == 0)
		log_notice(ctx, "the store %s of %s was marked as merging by a "
			   "killed rosnap command; it is not", st.path, d->name);
	store_close(&st);
}

/* Is the device's live store a merge layer ("NAME-cow.merge")? */
static bool store_is_merge_layer(const struct rosnap_device *d)
{
	size_t n = strlen(d->cow.name), m = strlen(MERGE_SUFFIX);

	return d->cow.have_dm && n > m &&
	       strcmp(d->cow.name + n - m, MERGE_SUFFIX) == 0;
}

static void tidy_device(struct rosnap_ctx *ctx, struct rosnap_device *d)
{
	char want[160];

	switch (d->state) {
	case ROSNAP_STATE_ACTIVE:
	case ROSNAP_STATE_OVERFLOW:
	case ROSNAP_STATE_INVALID:
		/*
		 * A plain snapshot over a merge layer: a merge retry cut
		 * between its two swaps.  The origin is partly merged; merge
		 * on (the same store: the kernel hands it over), never treat
		 * it as a store of changes to keep or discard.
		 */
		if (store_is_merge_layer(d)) {
			if (d->state != ROSNAP_STATE_INVALID) {
				log_notice(ctx, "the retried merge of %s was cut "
					   "short: merging on", d->name);
				merge_rearm(ctx, d);
			}
			break;
		}
		origin_flag(ctx, d, true);
		store_not_merging(ctx, d);
		drop_layer(ctx, d, MERGE_SUFFIX);
		drop_layer(ctx, d, COW_NEW_SUFFIX);
		drop_layer(ctx, d, COW_SUFFIX);
		snprintf(want, sizeof(want), "%s" COW_SUFFIX, d->name);
		if (d->cow.have_dm && strcmp(d->cow.name, want) != 0 &&
		    cow_rename(ctx, &d->cow, want) == 0)
			log_notice(ctx, "renamed the store of %s to %s", d->name,
				   want);
		break;
	case ROSNAP_STATE_MERGING:
	case ROSNAP_STATE_MERGE_FAILED:
		/* The kernel writes the origin; the old store stays for the end. */
		origin_flag(ctx, d, false);
		drop_layer(ctx, d, COW_NEW_SUFFIX);
		if (d->state == ROSNAP_STATE_MERGING && d->merge_remaining == 0 &&
		    !merge_has_waiter(ctx, d->name)) {
			log_notice(ctx, "the merge of %s ended with nobody to "
				   "finish it: protecting it again", d->name);
			merge_finish(ctx, d);
		}
		break;
	case ROSNAP_STATE_UNPROTECTED:
		if (!(d->id.flags & UUID_F_ORIGIN_RO))
			origin_flag(ctx, d, false);
		drop_layer(ctx, d, MERGE_SUFFIX);
		drop_layer(ctx, d, COW_NEW_SUFFIX);
		drop_layer(ctx, d, COW_SUFFIX);
		break;
	default:
		break;
	}
}

void transition_tidy(struct rosnap_ctx *ctx)
{
	char name[160] = "";
	struct rosnap_device *d;
	struct rosnap_uuid u;
	struct dm_info_ex info;
	char **names = NULL;
	int n, i;

	record_read(ctx, MARKER, "", name, sizeof(name));
	name[strcspn(name, "\n")] = '\0';
	if (name[0])
		resume_left(ctx, name);
	if (!name[0] || !still_suspended(ctx, name))
		marker_clear(ctx);
	create_tidy(ctx);
	/* A RAM device a killed grow made goes now, unless its table took it. */
	cow_tidy(ctx);
	encrypt_tidy(ctx);
	n = dm_list_uuid(ctx, UUID_PREFIX, &names);
	for (i = 0; i < n; i++) {
		if (dm_info(ctx, names[i], &info) < 0 ||
		    uuid_parse(info.uuid, &u) < 0 || u.role != UUID_SNAP)
			continue;
		/* Someone else's suspend (dmsetup) is none of rosnap's business. */
		if (info.suspended)
			continue;
		if (device_read(ctx, names[i], &d) < 0)
			continue;
		tidy_device(ctx, d);
		rosnap_device_unref(d);
	}
	if (n >= 0)
		strv_free(names);
}
