/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * All of rosnap's use of libdevmapper.  libdevmapper returns 1/0 and keeps
 * global state; this file converts to negative errno at the boundary and
 * nothing of libdevmapper leaks out of it.
 *
 * udev: with udev running, libdevmapper's cookies make each call wait
 * until udev has processed the device (its /dev/mapper link exists).
 * Without udev (a busybox initramfs) libdevmapper creates /dev/mapper/NAME
 * itself, which it only does when DM_UDEV_DISABLE_LIBRARY_FALLBACK is not
 * set, so that flag goes with udev only.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include <libdevmapper.h>

#include "internal.h"

static struct rosnap_ctx *log_ctx;

__attribute__((format(printf, 5, 6)))
static void dm_log(int level, const char *file, int line, int dm_errno,
		   const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	(void)file;
	(void)line;
	(void)dm_errno;
	/* libdevmapper's own words are for debugging; rosnap explains. */
	if (!log_ctx || level > 7 || log_ctx->log_priority < LOG_DEBUG)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_dbg(log_ctx, "libdevmapper: %s", msg);
}

int dm_init(struct rosnap_ctx *ctx)
{
	log_ctx = ctx;
	dm_log_with_errno_init(dm_log);
	dm_udev_set_sync_support(1);
	return 0;
}

bool dm_udev_running(struct rosnap_ctx *ctx)
{
	dm_init(ctx);
	return dm_udev_get_sync_support() != 0;
}

static uint16_t udev_flags(struct rosnap_ctx *ctx, enum dm_visibility vis)
{
	uint16_t flags = 0;

	if (vis & DM_HIDDEN)
		flags |= DM_UDEV_DISABLE_SUBSYSTEM_RULES_FLAG |
			 DM_UDEV_DISABLE_DISK_RULES_FLAG |
			 DM_UDEV_DISABLE_OTHER_RULES_FLAG;
	if (dm_udev_running(ctx))
		flags |= DM_UDEV_DISABLE_LIBRARY_FALLBACK;
	return flags;
}

/*
 * A kernel without device-mapper (or with dm-mod not loaded yet) has no
 * devices: lookups answer "no such device" instead of failing.
 */
static bool dm_present(struct rosnap_ctx *ctx)
{
	return path_exists(ctx, "/sys/class/misc/device-mapper") ||
	       path_exists(ctx, "/sys/module/dm_mod");
}

static int task_new(struct rosnap_ctx *ctx, int type, const char *name,
		    struct dm_task **dmt)
{
	dm_init(ctx);
	if (!dm_present(ctx))
		return -ENXIO;
	*dmt = dm_task_create(type);
	if (!*dmt)
		return -ENOMEM;
	if (name && !dm_task_set_name(*dmt, name)) {
		dm_task_destroy(*dmt);
		return -EINVAL;
	}
	return 0;
}

/* Run a task; on failure return the kernel's errno (or -EIO). */
static int task_run(struct dm_task *dmt)
{
	int e;

	if (dm_task_run(dmt))
		return 0;
	e = dm_task_get_errno(dmt);
	return e > 0 ? -e : -EIO;
}

static int add_targets(struct dm_task *dmt, const struct dm_target *t,
		       unsigned count)
{
	unsigned i;

	for (i = 0; i < count; i++)
		if (!dm_task_add_target(dmt, t[i].start, t[i].length, t[i].type,
					t[i].params))
			return -ENOMEM;
	return 0;
}

static void fill_info(struct dm_task *dmt, const struct dm_info *di,
		      struct dm_info_ex *info)
{
	const char *s;

	memset(info, 0, sizeof(*info));
	info->devnum = makedev((unsigned)di->major, (unsigned)di->minor);
	info->open_count = di->open_count;
	info->suspended = di->suspended;
	info->live_table = di->live_table;
	info->inactive_table = di->inactive_table;
	info->event_nr = di->event_nr;
	info->target_count = (uint32_t)di->target_count;
	s = dm_task_get_name(dmt);
	if (s)
		snprintf(info->name, sizeof(info->name), "%s", s);
	s = dm_task_get_uuid(dmt);
	if (s)
		snprintf(info->uuid, sizeof(info->uuid), "%s", s);
}

static int info_task(struct rosnap_ctx *ctx, struct dm_task *dmt,
		     struct dm_info_ex *info)
{
	struct dm_info di;
	int r;

	(void)ctx;
	r = task_run(dmt);
	if (r == 0 && !dm_task_get_info(dmt, &di))
		r = -EIO;
	if (r == 0 && !di.exists)
		r = -ENXIO;
	if (r == 0)
		fill_info(dmt, &di, info);
	dm_task_destroy(dmt);
	return r;
}

int dm_info(struct rosnap_ctx *ctx, const char *name, struct dm_info_ex *info)
{
	struct dm_task *dmt;
	int r;

	r = task_new(ctx, DM_DEVICE_INFO, name, &dmt);
	if (r < 0)
		return r;
	return info_task(ctx, dmt, info);
}

int dm_info_devnum(struct rosnap_ctx *ctx, dev_t dev, struct dm_info_ex *info)
{
	struct dm_task *dmt;
	int r;

	r = task_new(ctx, DM_DEVICE_INFO, NULL, &dmt);
	if (r < 0)
		return r;
	if (!dm_task_set_major(dmt, (int)major(dev)) ||
	    !dm_task_set_minor(dmt, (int)minor(dev))) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	return info_task(ctx, dmt, info);
}

/* Run a task that makes udev events, and wait for udev (or make nodes). */
static int run_with_cookie(struct rosnap_ctx *ctx, struct dm_task *dmt,
			   enum dm_visibility vis, dev_t *devnum)
{
	uint32_t cookie = 0;
	struct dm_info di;
	int r;

	if (!dm_task_set_cookie(dmt, &cookie, udev_flags(ctx, vis))) {
		dm_task_destroy(dmt);
		return -EIO;
	}
	r = task_run(dmt);
	if (r == 0 && devnum) {
		if (dm_task_get_info(dmt, &di) && di.exists)
			*devnum = makedev((unsigned)di.major, (unsigned)di.minor);
		else
			r = -EIO;
	}
	dm_task_destroy(dmt);
	/* Also on failure: the cookie's semaphore must be released. */
	if (!dm_udev_wait(cookie) && r == 0)
		log_warn(ctx, "udev did not confirm processing the device");
	return r;
}

int dm_create(struct rosnap_ctx *ctx, const char *name, const char *uuid,
	      const struct dm_target *targets, unsigned count,
	      enum dm_visibility vis, dev_t *devnum)
{
	struct dm_task *dmt;
	int r;

	r = task_new(ctx, DM_DEVICE_CREATE, name, &dmt);
	if (r < 0)
		return r;
	if (!dm_task_set_uuid(dmt, uuid) ||
	    ((vis & DM_READONLY) && !dm_task_set_ro(dmt)) ||
	    add_targets(dmt, targets, count) < 0) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	return run_with_cookie(ctx, dmt, vis, devnum);
}

int dm_reload(struct rosnap_ctx *ctx, const char *name,
	      const struct dm_target *targets, unsigned count)
{
	struct dm_task *dmt;
	int r;

	r = task_new(ctx, DM_DEVICE_RELOAD, name, &dmt);
	if (r < 0)
		return r;
	r = add_targets(dmt, targets, count);
	if (r == 0)
		r = task_run(dmt);
	dm_task_destroy(dmt);
	return r;
}

static int simple_task(struct rosnap_ctx *ctx, int type, const char *name,
		       bool nolockfs)
{
	struct dm_task *dmt;
	int r;

	r = task_new(ctx, type, name, &dmt);
	if (r < 0)
		return r;
	if (nolockfs && !dm_task_skip_lockfs(dmt)) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	r = task_run(dmt);
	dm_task_destroy(dmt);
	return r;
}

int dm_suspend(struct rosnap_ctx *ctx, const char *name, bool nolockfs)
{
	return simple_task(ctx, DM_DEVICE_SUSPEND, name, nolockfs);
}

int dm_clear(struct rosnap_ctx *ctx, const char *name)
{
	return simple_task(ctx, DM_DEVICE_CLEAR, name, false);
}

int dm_resume(struct rosnap_ctx *ctx, const char *name, enum dm_visibility vis)
{
	struct dm_task *dmt;
	int r;

	r = task_new(ctx, DM_DEVICE_RESUME, name, &dmt);
	if (r < 0)
		return r;
	return run_with_cookie(ctx, dmt, vis, NULL);
}

int dm_remove(struct rosnap_ctx *ctx, const char *name)
{
	struct dm_task *dmt;
	int r;

	r = task_new(ctx, DM_DEVICE_REMOVE, name, &dmt);
	if (r < 0)
		return r;
	/* udev's probing may hold the device open for a moment. */
	if (!dm_task_retry_remove(dmt)) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	return run_with_cookie(ctx, dmt, DM_PUBLIC, NULL);
}

int dm_rename(struct rosnap_ctx *ctx, const char *name, const char *newname,
	      enum dm_visibility vis)
{
	struct dm_task *dmt;
	int r;

	r = task_new(ctx, DM_DEVICE_RENAME, name, &dmt);
	if (r < 0)
		return r;
	if (!dm_task_set_newname(dmt, newname)) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	return run_with_cookie(ctx, dmt, vis, NULL);
}

int dm_wait_event(struct rosnap_ctx *ctx, const char *name, uint32_t event_nr)
{
	struct dm_task *dmt;
	int r;

	r = task_new(ctx, DM_DEVICE_WAITEVENT, name, &dmt);
	if (r < 0)
		return r;
	if (!dm_task_set_event_nr(dmt, event_nr)) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	r = task_run(dmt);
	dm_task_destroy(dmt);
	return r;
}

void dm_targets_free(struct dm_target *targets, int count)
{
	int i;

	if (!targets)
		return;
	for (i = 0; i < count; i++)
		free(targets[i].params);
	free(targets);
}

/* Collect the targets of a TABLE or STATUS task. */
static int get_targets(struct dm_task *dmt, struct dm_target **out)
{
	struct dm_target *t = NULL, *n;
	uint64_t start, length;
	char *type, *params;
	void *next = NULL;
	int count = 0;

	do {
		next = dm_get_next_target(dmt, next, &start, &length, &type,
					  &params);
		if (!type)
			break;
		n = realloc(t, sizeof(*t) * (size_t)(count + 1));
		if (!n)
			goto nomem;
		t = n;
		t[count].start = start;
		t[count].length = length;
		snprintf(t[count].type, sizeof(t[count].type), "%s", type);
		t[count].params = strdup(params ? params : "");
		if (!t[count].params)
			goto nomem;
		count++;
	} while (next);
	*out = t;
	return count;
nomem:
	dm_targets_free(t, count);
	return -ENOMEM;
}

static int targets_task(struct rosnap_ctx *ctx, int type, const char *name,
			struct dm_target **targets)
{
	struct dm_task *dmt;
	struct dm_info di;
	int r;

	r = task_new(ctx, type, name, &dmt);
	if (r < 0)
		return r;
	r = task_run(dmt);
	if (r == 0 && (!dm_task_get_info(dmt, &di) || !di.exists))
		r = -ENXIO;
	if (r == 0)
		r = get_targets(dmt, targets);
	dm_task_destroy(dmt);
	return r;
}

int dm_table(struct rosnap_ctx *ctx, const char *name,
	     struct dm_target **targets)
{
	return targets_task(ctx, DM_DEVICE_TABLE, name, targets);
}

/* The one target of a device: its type and its status or table line. */
static int one_target(struct rosnap_ctx *ctx, int task, const char *name,
		      char *type, size_t type_len, char *buf, size_t len)
{
	struct dm_target *t = NULL;
	int n;

	n = targets_task(ctx, task, name, &t);
	if (n < 0)
		return n;
	if (n != 1 || !t) {
		dm_targets_free(t, n);
		return -EINVAL;
	}
	snprintf(type, type_len, "%s", t[0].type);
	snprintf(buf, len, "%s", t[0].params);
	dm_targets_free(t, n);
	return 0;
}

int dm_status(struct rosnap_ctx *ctx, const char *name, char *type,
	      size_t type_len, char *buf, size_t len)
{
	return one_target(ctx, DM_DEVICE_STATUS, name, type, type_len, buf, len);
}

int dm_table_line(struct rosnap_ctx *ctx, const char *name, char *type,
		  size_t type_len, char *buf, size_t len)
{
	return one_target(ctx, DM_DEVICE_TABLE, name, type, type_len, buf, len);
}

void strv_free(char **v)
{
	char **p;

	for (p = v; p && *p; p++)
		free(*p);
	free(v);
}

int dm_list_uuid(struct rosnap_ctx *ctx, const char *prefix, char ***names)
{
	struct dm_task *dmt;
	struct dm_names *dn;
	struct dm_info_ex info;
	char **v = NULL, **nv;
	size_t count = 0;
	unsigned next = 0;
	int r;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	r = task_new(ctx, DM_DEVICE_LIST, NULL, &dmt);
	if (r == -ENXIO) {
		/* No device-mapper: no devices. */
		*names = v;
		return 0;
	}
	if (r < 0) {
		free(v);
		return r;
	}
	r = task_run(dmt);
	if (r < 0)
		goto out;
	dn = dm_task_get_names(dmt);
	if (!dn || !dn->dev)
		goto out;
	do {
		dn = (struct dm_names *)(void *)((char *)dn + next);
		next = dn->next;
		/* A device removed meanwhile is simply not listed. */
		if (dm_info(ctx, dn->name, &info) < 0 ||
		    strncmp(info.uuid, prefix, strlen(prefix)) != 0)
			continue;
		nv = realloc(v, sizeof(*v) * (count + 2));
		if (!nv) {
			r = -ENOMEM;
			goto out;
		}
		v = nv;
		v[count] = strdup(dn->name);
		if (!v[count]) {
			r = -ENOMEM;
			goto out;
		}
		v[++count] = NULL;
	} while (next);
out:
	dm_task_destroy(dmt);
	if (r < 0) {
		strv_free(v);
		return r;
	}
	*names = v;
	return (int)count;
}

unsigned snapshot_features(struct rosnap_ctx *ctx)
{
	uint32_t v[3];

	if (dm_target_version(ctx, "snapshot", v) < 0)
		return 0;
	if (v[0] > 1 || (v[0] == 1 && v[1] >= 16))
		return SNAP_F_DISCARD_ZEROES_COW;
	return 0;
}

int dm_target_version(struct rosnap_ctx *ctx, const char *target,
		      uint32_t version[3])
{
	struct dm_task *dmt;
	struct dm_versions *tv;
	unsigned next = 0;
	int r;

	r = task_new(ctx, DM_DEVICE_LIST_VERSIONS, NULL, &dmt);
	if (r < 0)
		return r;
	r = task_run(dmt);
	if (r < 0)
		goto out;
	r = -ENOENT;
	tv = dm_task_get_versions(dmt);
	do {
		tv = (struct dm_versions *)(void *)((char *)tv + next);
		if (strcmp(tv->name, target) == 0) {
			memcpy(version, tv->version, sizeof(tv->version));
			r = 0;
			break;
		}
		next = tv->next;
	} while (next);
out:
	dm_task_destroy(dmt);
	return r;
}
