/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A rosnap device as the kernel describes it: everything here is read
 * back from device-mapper tables, status lines, UUIDs and sysfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

int device_resolve_name(struct rosnap_ctx *ctx, const char *arg, char *name,
			size_t len)
{
	struct dm_info_ex info;
	struct stat st;
	int r;

	if (!arg || !*arg)
		return -EINVAL;
	if (arg[0] != '/') {
		if (strchr(arg, '/') || strlen(arg) >= len)
			return -EINVAL;
		snprintf(name, len, "%s", arg);
		return 0;
	}
	if (stat(arg, &st) < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENODEV;
	r = dm_info_devnum(ctx, st.st_rdev, &info);
	if (r < 0)
		return r == -ENXIO ? -ENODEV : r;
	if (strlen(info.name) >= len)
		return -EINVAL;
	snprintf(name, len, "%s", info.name);
	return 0;
}

static void origin_names(struct rosnap_ctx *ctx, struct rosnap_device *d)
{
	char kname[64];

	if (blkdev_kname(ctx, d->origin_devnum, kname, sizeof(kname)) < 0) {
		snprintf(d->origin, sizeof(d->origin), "%u:%u",
			 major(d->origin_devnum), minor(d->origin_devnum));
		return;
	}
	snprintf(d->origin, sizeof(d->origin), "/dev/%s", kname);
	if (strncmp(kname, "loop", 4) == 0)
		loop_backing_file(ctx, kname, d->origin_file,
				  sizeof(d->origin_file));
}

static int read_cow(struct rosnap_ctx *ctx, struct rosnap_device *d)
{
	struct dm_info_ex info;
	uint64_t ram, data;
	bool exact;
	int r;

	r = dm_info_devnum(ctx, d->cow.devnum, &info);
	if (r < 0)
		return r;
	r = cow_load(ctx, info.name, &d->cow);
	if (r < 0)
		return r;
	snprintf(d->cow_name, sizeof(d->cow_name), "%s", info.name);
	d->backend = d->cow.backend;
	if (d->cow.nparts)
		snprintf(d->cow_device, sizeof(d->cow_device), "/dev/%s",
			 d->cow.part[0].kname);
	/* A merge from a journal, or a store on disk: a loop over its
	 * file, or a device. */
	cow_journal(ctx, &d->cow, d->backend == ROSNAP_BACKEND_DISK ? &d->store :
								      &d->journal);
	if (d->backend == ROSNAP_BACKEND_ZRAM)
		zram_algorithm(ctx, d->cow.part[0].id, d->compression,
			       sizeof(d->compression));
	if (cow_ram_used(ctx, &d->cow, &ram, &data, &exact) == 0) {
		/* brd without debugfs: it holds at least what was written. */
		d->ram_used = exact ? ram : d->cow_used;
		d->data_bytes = exact ? data : d->cow_used;
	}
	return 0;
}

static int read_snapshot(struct rosnap_ctx *ctx, struct rosnap_device *d,
			 const struct dm_target *t)
{
	struct snap_table tbl;
	struct snap_status st;
	char type[32], status[256];
	int r;

	r = snapshot_table_parse(t->params, &tbl);
	if (r < 0)
		return r;
	d->origin_devnum = tbl.origin;
	d->cow.devnum = tbl.cow;
	d->chunk_bytes = tbl.chunk_sectors * SECTOR_SIZE;
	r = dm_status(ctx, d->name, type, sizeof(type), status, sizeof(status));
	if (r < 0)
		return r;
	r = snapshot_status_parse(status, &st);
	if (r < 0)
		return r;
	d->cow_size = st.total * SECTOR_SIZE;
	d->cow_used = st.allocated * SECTOR_SIZE;
	d->cow_meta = st.metadata * SECTOR_SIZE;
	d->merge_remaining = d->cow_used - d->cow_meta;
	if (st.invalid)
		d->state = ROSNAP_STATE_INVALID;
	else if (st.merge_failed)
		d->state = ROSNAP_STATE_MERGE_FAILED;
	else if (strcmp(t->type, "snapshot-merge") == 0)
		d->state = ROSNAP_STATE_MERGING;
	else if (st.overflow)
		d->state = ROSNAP_STATE_OVERFLOW;
	else
		d->state = ROSNAP_STATE_ACTIVE;
	r = read_cow(ctx, d);
	if (r == 0 && d->chunk_bytes && st.allocated > st.metadata)
		d->ram_used += (st.allocated - st.metadata) * SECTOR_SIZE /
			       d->chunk_bytes * DM_EXCEPTION_BYTES;
	/* "Invalid" and "Overflow" come without sizes: take the store's own. */
	if (r == 0 && !d->cow_size)
		d->cow_size = d->cow.bytes;
	if (st.overflow)
		d->cow_used = d->cow_size;
	return r;
}

static struct rosnap_device *device_new(struct rosnap_ctx *ctx,
					const char *name)
{
	struct rosnap_device *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->refcount = 1;
	d->ctx = rosnap_ref(ctx);
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->path, sizeof(d->path), "/dev/mapper/%s", name);
	return d;
}

/* A cow layer whose snapshot is gone: a create or remove cut short. */
static int read_orphan(struct rosnap_ctx *ctx, const char *name,
		       struct rosnap_device **dev)
{
	struct rosnap_device *d;
	char cowname[sizeof(d->cow_name)];
	struct dm_info_ex info;
	struct rosnap_uuid u;
	int n;

	n = snprintf(cowname, sizeof(cowname), "%s" COW_SUFFIX, name);
	if (n < 0 || (size_t)n >= sizeof(cowname) ||
	    dm_info(ctx, cowname, &info) < 0 || uuid_parse(info.uuid, &u) < 0 ||
	    u.role != UUID_COW)
		return -ENODEV;
	d = device_new(ctx, name);
	if (!d)
		return -ENOMEM;
	d->state = ROSNAP_STATE_INCOMPLETE;
	d->path[0] = '\0';
	if (cow_load(ctx, cowname, &d->cow) == 0) {
		d->backend = d->cow.backend;
		memcpy(d->cow_name, cowname, sizeof(d->cow_name));
		if (d->cow.nparts)
			snprintf(d->cow_device, sizeof(d->cow_device), "/dev/%s",
				 d->cow.part[0].kname);
	}
	*dev = d;
	return 0;
}

/* Where rosnap save last wrote (RUN_DIR/saved-NAME: "TIME PATH"). */
static void saved_names(struct rosnap_ctx *ctx, struct rosnap_device *d)
{
	char text[PATH_MAX + 32];
	unsigned long long when;
	int n = 0;

	record_read(ctx, "saved-", d->name, text, sizeof(text));
	if (sscanf(text, "%llu %n", &when, &n) != 1 || !n || text[n] != '/')
		return;
	text[strcspn(text, "\n")] = '\0';
	d->saved_at = when;
	snprintf(d->saved, sizeof(d->saved), "%s", text + n);
}

static int fill(struct rosnap_device *d)
{
	struct rosnap_ctx *ctx = d->ctx;
	struct dm_target *t = NULL;
	struct dm_info_ex info;
	uint64_t offset;
	int n, r;

	r = dm_info(ctx, d->name, &info);
	if (r < 0)
		return r == -ENXIO ? -ENODEV : r;
	if (uuid_parse(info.uuid, &d->id) < 0 || d->id.role != UUID_SNAP)
		return -ENODEV;
	snprintf(d->uuid, sizeof(d->uuid), "%s", info.uuid);
	d->devnum = info.devnum;
	d->open_count = info.open_count;
	n = dm_table(ctx, d->name, &t);
	if (n < 0)
		return n;
	if (n != 1) {
		d->state = ROSNAP_STATE_INCOMPLETE;
		dm_targets_free(t, n);
		return 0;
	}
	d->size = t[0].length * SECTOR_SIZE;
	if (strcmp(t[0].type, "snapshot") == 0 ||
	    strcmp(t[0].type, "snapshot-merge") == 0) {
		r = read_snapshot(ctx, d, &t[0]);
	} else if (strcmp(t[0].type, "linear") == 0) {
		r = linear_table_parse(t[0].params, &d->origin_devnum, &offset);
		d->state = ROSNAP_STATE_UNPROTECTED;
		d->backend = ROSNAP_BACKEND_NONE;
	} else {
		d->state = ROSNAP_STATE_INCOMPLETE;
	}
	dm_targets_free(t, n);
	if (r < 0) {
		log_dbg(ctx, "%s: cannot read its tables: %s", d->name,
			strerror(-r));
		d->state = ROSNAP_STATE_INCOMPLETE;
	}
	if (d->origin_devnum)
		origin_names(ctx, d);
	saved_names(ctx, d);
	return 0;
}

const char *device_origin_label(const struct rosnap_device *d)
{
	return d->origin_file[0] ? d->origin_file : d->origin;
}

int device_read(struct rosnap_ctx *ctx, const char *name,
		struct rosnap_device **dev)
{
	struct rosnap_device *d;
	int r;

	d = device_new(ctx, name);
	if (!d)
		return -ENOMEM;
	r = fill(d);
	if (r < 0) {
		rosnap_device_unref(d);
		if (r == -ENODEV)
			return read_orphan(ctx, name, dev);
		return r;
	}
	*dev = d;
	return 0;
}

_public_ int rosnap_device_open(struct rosnap_ctx *ctx, const char *arg,
				struct rosnap_device **dev)
{
	char name[128];
	int r;

	lock_tidy(ctx);
	r = device_resolve_name(ctx, arg, name, sizeof(name));
	if (r == 0)
		r = device_read(ctx, name, dev);
	if (r == -ENODEV || r == -EINVAL) {
		log_err(ctx, "%s is not a rosnap device; 'rosnap list' shows "
			"them", arg);
		return -ENODEV;
	}
	if (r == -EPERM || r == -EACCES)
		log_err(ctx, "not permitted to query device-mapper; run as root");
	else if (r < 0)
		log_err(ctx, "cannot read %s: %s", arg, strerror(-r));
	return r;
}

_public_ int rosnap_wait_event(struct rosnap_ctx *ctx, const char *name,
			       uint32_t *event_nr)
{
	struct dm_info_ex info;
	int r;

	r = dm_info(ctx, name, &info);
	if (r < 0)
		return -ENODEV;
	if (info.event_nr == *event_nr) {
		r = dm_wait_event(ctx, name, *event_nr);
		if (r < 0)
			return r == -ENXIO ? -ENODEV : r;
		r = dm_info(ctx, name, &info);
		if (r < 0)
			return -ENODEV;
	}
	*event_nr = info.event_nr;
	return 0;
}

_public_ int rosnap_device_refresh(struct rosnap_device *dev)
{
	struct rosnap_device *fresh;
	int r;

	r = device_read(dev->ctx, dev->name, &fresh);
	if (r < 0)
		return r;
	/* Keep the caller's object: copy the new state into it. */
	fresh->refcount = dev->refcount;
	rosnap_unref(fresh->ctx);
	fresh->ctx = dev->ctx;
	*dev = *fresh;
	free(fresh);
	return 0;
}

_public_ struct rosnap_device *rosnap_device_ref(struct rosnap_device *dev)
{
	if (dev)
		dev->refcount++;
	return dev;
}

_public_ struct rosnap_device *rosnap_device_unref(struct rosnap_device *dev)
{
	if (!dev || --dev->refcount > 0)
		return NULL;
	rosnap_unref(dev->ctx);
	free(dev);
	return NULL;
}

static int by_name(const void *a, const void *b)
{
	const struct rosnap_device *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static bool listed(struct rosnap_device **v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i]->name, name) == 0)
			return true;
	return false;
}

_public_ int rosnap_list(struct rosnap_ctx *ctx, struct rosnap_device ***devs)
{
	struct rosnap_device **v = NULL, **nv, *d;
	struct rosnap_uuid u;
	struct dm_info_ex info;
	char **names = NULL, base[160];
	size_t n = 0, len;
	int count, i, r;

	lock_tidy(ctx);
	count = fault_inject(ctx, "list");
	if (count == 0)
		count = dm_list_uuid(ctx, UUID_PREFIX, &names);
	if (count < 0) {
		if (count == -EPERM || count == -EACCES)
			log_err(ctx, "not permitted to list device-mapper "
				"devices; run as root");
		return count;
	}
	v = calloc((size_t)count + 1, sizeof(*v));
	if (!v) {
		strv_free(names);
		return -ENOMEM;
	}
	for (i = 0; i < count; i++) {
		/* Devices can vanish while we look: skip those. */
		if (dm_info(ctx, names[i], &info) < 0 ||
		    uuid_parse(info.uuid, &u) < 0)
			continue;
		if (u.role == UUID_SNAP) {
			r = device_read(ctx, names[i], &d);
		} else if (u.role == UUID_COW) {
			/* Listed only when no rosnap device owns it. */
			len = strlen(names[i]);
			if (len <= strlen(COW_SUFFIX) ||
			    strcmp(names[i] + len - strlen(COW_SUFFIX), COW_SUFFIX) != 0)
				continue;
			snprintf(base, sizeof(base), "%.*s",
				 (int)(len - strlen(COW_SUFFIX)), names[i]);
			if (dm_info(ctx, base, &info) == 0)
				continue;
			r = read_orphan(ctx, base, &d);
		} else {
			continue;
		}
		if (r < 0 || listed(v, n, d->name)) {
			if (r == 0)
				rosnap_device_unref(d);
			continue;
		}
		v[n++] = d;
	}
	strv_free(names);
	qsort(v, n, sizeof(*v), by_name);
	nv = realloc(v, (n + 1) * sizeof(*v));
	if (nv)
		v = nv;
	v[n] = NULL;
	*devs = v;
	return (int)n;
}

_public_ void rosnap_list_free(struct rosnap_device **devs)
{
	struct rosnap_device **p;

	for (p = devs; p && *p; p++)
		rosnap_device_unref(*p);
	free(devs);
}

_public_ const char *rosnap_device_get_name(const struct rosnap_device *dev)
{
	return dev->name;
}

_public_ const char *rosnap_device_get_path(const struct rosnap_device *dev)
{
	return dev->path[0] ? dev->path : NULL;
}

_public_ const char *rosnap_device_get_origin(const struct rosnap_device *dev)
{
	return dev->origin[0] ? dev->origin : NULL;
}

_public_ const char *rosnap_device_get_origin_file(const struct rosnap_device *dev)
{
	return dev->origin_file[0] ? dev->origin_file : NULL;
}

_public_ const char *rosnap_device_get_cow_device(const struct rosnap_device *dev)
{
	return dev->cow_device[0] ? dev->cow_device : NULL;
}

_public_ const char *rosnap_device_get_store(const struct rosnap_device *dev)
{
	return dev->store.path[0] ? dev->store.path : NULL;
}

_public_ const char *rosnap_device_get_encryption(const struct rosnap_device *dev)
{
	return dev->store.path[0] ? dev->store.crypt : NULL;
}

_public_ const char *rosnap_device_get_saved(const struct rosnap_device *dev,
					     uint64_t *when)
{
	if (when)
		*when = dev->saved_at;
	return dev->saved[0] ? dev->saved : NULL;
}

_public_ enum rosnap_backend rosnap_device_get_backend(const struct rosnap_device *dev)
{
	return dev->backend;
}

_public_ enum rosnap_state rosnap_device_get_state(const struct rosnap_device *dev)
{
	return dev->state;
}

/*
 * The last message dm-snapshot logged about MATCH ("Invalidating snapshot",
 * "shutting down merge"), from the kernel's log.  It does not name the
 * device; it is the kernel's word on the most recent such event.
 */
static void kernel_said(struct rosnap_ctx *ctx, const char *match, char *buf,
			size_t len)
{
	char rec[1024], *msg, *nl;
	ssize_t n;
	int fd;

	buf[0] = '\0';
	fd = path_open(ctx, O_RDONLY | O_NONBLOCK, "/dev/kmsg");
	if (fd < 0)
		return;
	/* Each read returns one record: "prio,seq,time,flags;text\n". */
	while ((n = read(fd, rec, sizeof(rec) - 1)) != 0) {
		if (n < 0) {
			if (errno == EPIPE || errno == EINTR)
				continue; /* a record overwritten as we read */
			break;        /* EAGAIN: the end */
		}
		rec[n] = '\0';
		msg = strchr(rec, ';');
		if (!msg || !strstr(msg, "snapshots: ") || !strstr(msg, match))
			continue;
		msg = strstr(msg, "snapshots: ") + strlen("snapshots: ");
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		snprintf(buf, len, "%s", msg);
	}
	close(fd);
}

_public_ const char *rosnap_device_get_reason(const struct rosnap_device *dev)
{
	struct rosnap_device *d = (struct rosnap_device *)dev;
	const char *why, *match;
	char said[256];

	switch (dev->state) {
	case ROSNAP_STATE_OVERFLOW:
		return "its store is full: writes fail, reads work, and it can "
		       "still be merged or discarded";
	case ROSNAP_STATE_INVALID:
		why = "the kernel dropped its changes after an I/O error on its "
		      "store";
		match = "Invalidating snapshot";
		break;
	case ROSNAP_STATE_MERGE_FAILED:
		why = "the kernel stopped the merge after an I/O error; 'rosnap "
		      "merge' retries it";
		match = "shutting down merge";
		break;
	case ROSNAP_STATE_INCOMPLETE:
		return "it was left half-made; 'rosnap remove' cleans it up";
	default:
		return NULL;
	}
	if (!d->reason[0]) {
		kernel_said(d->ctx, match, said, sizeof(said));
		snprintf(d->reason, sizeof(d->reason), "%s%s%s%s", why,
			 said[0] ? " (the kernel: \"" : "", said,
			 said[0] ? "\")" : "");
	}
	return d->reason;
}

_public_ const char *rosnap_device_get_compression(const struct rosnap_device *dev)
{
	return dev->compression[0] ? dev->compression : NULL;
}

_public_ uint32_t rosnap_device_get_chunk_bytes(const struct rosnap_device *dev)
{
	return dev->chunk_bytes;
}

_public_ uint64_t rosnap_device_get_size(const struct rosnap_device *dev)
{
	return dev->size;
}

_public_ uint64_t rosnap_device_get_cow_size(const struct rosnap_device *dev)
{
	return dev->cow_size;
}

_public_ uint64_t rosnap_device_get_cow_used(const struct rosnap_device *dev)
{
	return dev->cow_used;
}

_public_ uint64_t rosnap_device_get_data_bytes(const struct rosnap_device *dev)
{
	return dev->data_bytes;
}

_public_ uint64_t rosnap_device_get_ram_used(const struct rosnap_device *dev)
{
	return dev->ram_used;
}

_public_ bool rosnap_device_origin_was_ro(const struct rosnap_device *dev)
{
	return (dev->id.flags & UUID_F_ORIGIN_RO) != 0;
}

_public_ unsigned rosnap_device_get_cow_parts(const struct rosnap_device *dev)
{
	return dev->cow.nparts;
}

_public_ double rosnap_device_get_merge_progress(const struct rosnap_device *dev)
{
	uint64_t total = dev->cow.id.merge_total * SECTOR_SIZE;

	/* "Merge failed" comes without figures. */
	if (dev->state != ROSNAP_STATE_MERGING)
		return -1.0;
	if (!total || dev->merge_remaining >= total)
		return dev->merge_remaining ? 0.0 : 1.0;
	return (double)(total - dev->merge_remaining) / (double)total;
}

_public_ enum rosnap_level
rosnap_device_get_level(const struct rosnap_device *dev,
			const struct rosnap_monitor_settings *s, unsigned *percent)
{
	unsigned pct = dev->cow_size ?
			       (unsigned)(dev->cow_used * 100 / dev->cow_size) : 0;

	if (percent)
		*percent = pct;
	switch (dev->state) {
	case ROSNAP_STATE_INVALID:
		return ROSNAP_LEVEL_INVALID;
	case ROSNAP_STATE_OVERFLOW:
		return ROSNAP_LEVEL_OVERFLOW;
	case ROSNAP_STATE_ACTIVE:
		break;
	default:
		return ROSNAP_LEVEL_OK;
	}
	if (pct >= s->critical_percent)
		return ROSNAP_LEVEL_CRITICAL;
	return pct >= s->warn_percent ? ROSNAP_LEVEL_WARN : ROSNAP_LEVEL_OK;
}

_public_ const char *rosnap_level_name(enum rosnap_level level)
{
	static const char *const names[] = {
		[ROSNAP_LEVEL_OK] = "ok", [ROSNAP_LEVEL_WARN] = "warn",
		[ROSNAP_LEVEL_CRITICAL] = "critical",
		[ROSNAP_LEVEL_OVERFLOW] = "overflow",
		[ROSNAP_LEVEL_INVALID] = "invalid",
	};

	if ((unsigned)level >= ARRAY_SIZE(names))
		return "unknown";
	return names[level];
}

_public_ const char *rosnap_device_get_journal(const struct rosnap_device *dev)
{
	return dev->journal.path[0] ? dev->journal.path : NULL;
}
