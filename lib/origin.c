/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The origin: the device rosnap protects.  Resolving what the user named
 * (path, disk image, LABEL=...), refusing what must not be protected,
 * probing its contents (libblkid), and its read-only flag.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <blkid.h>

#include "internal.h"

#define MAX_PARTS 64

static const char *const tags[] = { "LABEL=", "UUID=", "PARTUUID=",
				    "PARTLABEL=" };

static bool is_tag(const char *spec)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(tags); i++)
		if (strncmp(spec, tags[i], strlen(tags[i])) == 0)
			return true;
	return false;
}

char *blkid_resolve(const char *tag)
{
	blkid_cache cache = NULL;
	char *dev;

	dev = blkid_evaluate_tag(tag, NULL, &cache);
	blkid_put_cache(cache);
	return dev;
}

static int resolve_tag(struct rosnap_ctx *ctx, const char *spec, char *path,
		       size_t len)
{
	char *dev = blkid_resolve(spec);

	if (!dev) {
		log_err(ctx, "no device has %s; check the value with 'blkid'",
			spec);
		return -ENODEV;
	}
	snprintf(path, len, "%s", dev);
	free(dev);
	return 0;
}

struct probe_result {
	char fstype[32];
	char uuid[64];
	char ptuuid[64];
	char partuuid[64];
	unsigned block_size;
	bool ptable;
	bool found;
};

/* What is on a device or image: filesystem type, block size, partitions. */
static int probe(struct rosnap_ctx *ctx, const char *path, int fd,
		 struct probe_result *res)
{
	const char *v;
	blkid_probe pr;
	int r;

	memset(res, 0, sizeof(*res));
	pr = blkid_new_probe();
	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, 0, 0) < 0) {
		blkid_free_probe(pr);
		return -EIO;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE |
					  BLKID_SUBLKS_USAGE |
					  BLKID_SUBLKS_UUID);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	r = blkid_do_safeprobe(pr);
	if (r == -2) {
		log_err(ctx, "%s holds signatures of more than one filesystem or "
			"partition table; rosnap cannot tell what it is (see "
			"'wipefs %s')", path, path);
		blkid_free_probe(pr);
		return -EINVAL;
	}
	if (r < 0) {
		log_err(ctx, "cannot read %s to find out what it holds", path);
		blkid_free_probe(pr);
		return -EIO;
	}
	if (r == 0) {
		res->found = true;
		if (blkid_probe_lookup_value(pr, "TYPE", &v, NULL) == 0)
			snprintf(res->fstype, sizeof(res->fstype), "%s", v);
		if (blkid_probe_lookup_value(pr, "UUID", &v, NULL) == 0)
			snprintf(res->uuid, sizeof(res->uuid), "%s", v);
		if (blkid_probe_lookup_value(pr, "BLOCK_SIZE", &v, NULL) == 0)
			res->block_size = (unsigned)strtoul(v, NULL, 10);
		if (blkid_probe_lookup_value(pr, "PTUUID", &v, NULL) == 0)
			snprintf(res->ptuuid, sizeof(res->ptuuid), "%s", v);
		if (blkid_probe_lookup_value(pr, "PART_ENTRY_UUID", &v, NULL) == 0)
			snprintf(res->partuuid, sizeof(res->partuuid), "%s", v);
		if (blkid_probe_lookup_value(pr, "PTTYPE", &v, NULL) == 0) {
			res->ptable = true;
			if (!res->fstype[0])
				snprintf(res->fstype, sizeof(res->fstype), "%s", v);
		}
	}
	blkid_free_probe(pr);
	return 0;
}

int probe_contents(struct rosnap_ctx *ctx, const char *path, int fd,
		   char *type, size_t len)
{
	struct probe_result res;
	int r = probe(ctx, path, fd, &res);

	if (r < 0)
		return r;
	snprintf(type, len, "%s", res.fstype);
	return res.fstype[0] != '\0';
}

int part_starts(struct rosnap_ctx *ctx, dev_t dev, uint64_t *starts,
		unsigned max)
{
	blkid_partlist ls;
	blkid_probe pr;
	int fd, i, n, r = 0;

	fd = blkdev_open(ctx, dev, O_RDONLY);
	if (fd < 0)
		return fd;
	/* A merge wrote the origin below its page cache. */
	ioctl(fd, BLKFLSBUF, 0);
	pr = blkid_new_probe();
	if (!pr || blkid_probe_set_device(pr, fd, 0, 0) < 0) {
		r = -ENOMEM;
		goto out;
	}
	blkid_probe_enable_superblocks(pr, 0);
	blkid_probe_enable_partitions(pr, 1);
	if (blkid_do_fullprobe(pr) != 0)
		goto out;
	ls = blkid_probe_get_partitions(pr);
	n = ls ? blkid_partlist_numof_partitions(ls) : 0;
	for (i = 0; i < n && r < (int)max; i++) {
		blkid_partition par = blkid_partlist_get_partition(ls, i);
		blkid_loff_t start = par ? blkid_partition_get_start(par) : 0;

		if (start > 0)
			starts[r++] = (uint64_t)start * SECTOR_SIZE;
	}
out:
	if (pr)
		blkid_free_probe(pr);
	close(fd);
	return r;
}

/* A UUID recorded that the origin does not have. */
static bool id_differs(const char *recorded, const char *actual)
{
	return recorded[0] && strcmp(recorded, actual) != 0;
}

const char *origin_differs(const struct origin *o, const struct origin_id *id,
			   const char *whose, char *buf, size_t len)
{
	static const char *const what[] = { "filesystem UUID",
					    "partition table UUID",
					    "partition UUID" };
	const char *recorded[] = { id->uuid, id->ptuuid, id->partuuid };
	const char *actual[] = { o->fsuuid, o->ptuuid, o->partuuid };
	size_t i;

	if (o->size != id->size) {
		snprintf(buf, len, "it has %llu bytes, %s %llu",
			 (unsigned long long)o->size, whose,
			 (unsigned long long)id->size);
		return buf;
	}
	for (i = 0; i < ARRAY_SIZE(what); i++) {
		if (!id_differs(recorded[i], actual[i]))
			continue;
		snprintf(buf, len, "its %s is %s, %s's %s", what[i],
			 actual[i][0] ? actual[i] : "none", whose, recorded[i]);
		return buf;
	}
	return NULL;
}

struct loop_search {
	struct rosnap_ctx *ctx;
	const struct stat *img;
	char *loopname;
	size_t len;
};

static int is_loop_of(const char *kname, dev_t dev, void *data)
{
	struct loop_search *s = data;
	char backing[PATH_MAX];
	struct stat st;

	(void)dev;
	if (loop_backing_file(s->ctx, kname, backing, sizeof(backing)) < 0)
		return 0;
	/* The kernel appends " (deleted)" to vanished files. */
	if (stat(backing, &st) < 0 || st.st_dev != s->img->st_dev ||
	    st.st_ino != s->img->st_ino || strlen(kname) >= s->len)
		return 0;
	memcpy(s->loopname, kname, strlen(kname) + 1);
	return 1;
}

/* Is the image file already behind some loop device?  When the loop
 * devices cannot be listed, it may be: yes, named "?". */
int image_in_loop(struct rosnap_ctx *ctx, const struct stat *img,
			 char *loopname, size_t len)
{
	struct loop_search s = { ctx, img, loopname, len };
	int r = blkdev_each(ctx, "loop*", NULL, is_loop_of, &s);

	if (r < 0) {
		log_err(ctx, "cannot list the loop devices: %s", strerror(-r));
		snprintf(loopname, len, "?");
		return 1;
	}
	return r == 1;
}

static int open_image(struct rosnap_ctx *ctx, const char *spec,
		      const struct stat *st, struct origin *o)
{
	struct probe_result res;
	char loopname[64];
	bool read_only = false;
	int fd, r;

	if (st->st_size == 0 || st->st_size % SECTOR_SIZE) {
		log_err(ctx, "%s is not a disk image: its size (%lld bytes) is "
			"not a non-zero multiple of 512", spec,
			(long long)st->st_size);
		return -ENOTBLK;
	}
	if (image_in_loop(ctx, st, loopname, sizeof(loopname))) {
		log_err(ctx, "%s is already attached to /dev/%s; protect that "
			"device, or detach it first ('losetup -d /dev/%s')",
			spec, loopname, loopname);
		return -EBUSY;
	}
	fd = open(spec, O_RDWR | O_CLOEXEC);
	if (fd < 0 && (errno == EROFS || errno == EACCES || errno == EPERM)) {
		read_only = true;
		fd = open(spec, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		r = -errno;
		log_err(ctx, "cannot open %s: %s", spec, strerror(-r));
		return r;
	}
	r = probe(ctx, spec, fd, &res);
	close(fd);
	if (r < 0)
		return r;
	if (!res.found) {
		log_err(ctx, "%s is not a disk image: it holds no filesystem or "
			"partition table that libblkid knows", spec);
		return -ENOTBLK;
	}
	if (!realpath(spec, o->file))
		return -errno;
	if (read_only)
		log_info(ctx, "%s is not writable: attached read-only, so it "
			 "cannot be merged", spec);
	r = loop_attach(ctx, o->file, read_only, 0, &o->devnum, &o->fd);
	if (r < 0)
		return r;
	o->loop = true;
	return 0;
}

struct dev_list {
	dev_t *devs;
	unsigned n, max;
};

static int add_dev(const char *kname, dev_t dev, void *data)
{
	struct dev_list *l = data;

	(void)kname;
	if (l->n == l->max)
		return 1;
	l->devs[l->n++] = dev;
	return 0;
}

/* The device and its partitions, for the mount check. */
static unsigned device_and_parts(struct rosnap_ctx *ctx, const struct origin *o,
				 dev_t *devs, unsigned max)
{
	struct dev_list l = { devs, 1, max };

	devs[0] = o->devnum;
	blkdev_each(ctx, NULL, o->kname, add_dev, &l);
	return l.n;
}

static int check_free(struct rosnap_ctx *ctx, const char *spec,
		      struct origin *o)
{
	dev_t devs[MAX_PARTS + 1];
	struct dm_info_ex info;
	struct rosnap_uuid u;
	struct mount_hit hit;
	char holder[64], hname[128] = "";
	unsigned n;
	int fd, r;

	if (dm_info_devnum(ctx, o->devnum, &info) == 0 &&
	    uuid_is_rosnap(info.uuid)) {
		if (uuid_parse(info.uuid, &u) == 0 && u.role == UUID_SNAP)
			log_err(ctx, "%s is a rosnap device (%s); rosnap does not "
				"stack on its own devices: protect the origin of "
				"%s instead", spec, info.name, info.name);
		else
			log_err(ctx, "%s is an internal layer of a rosnap device "
				"(%s); it cannot be protected", spec, info.name);
		return -EINVAL;
	}
	r = blkdev_holders(ctx, o->kname, holder, sizeof(holder));
	if (r > 0) {
		blkdev_attr(ctx, holder, "dm/name", hname, sizeof(hname));
		log_err(ctx, "%s is in use by %s%s%s%s; remove that first", spec,
			holder, hname[0] ? " (" : "", hname,
			hname[0] ? ")" : "");
		return -EBUSY;
	}
	n = device_and_parts(ctx, o, devs, ARRAY_SIZE(devs));
	r = mount_find(ctx, devs, n, &hit);
	if (r > 0) {
		log_err(ctx, "%s%s is mounted on %s (%s); unmount it first",
			spec, n > 1 ? " or one of its partitions" : "", hit.target,
			hit.read_only ? "read-only" : "read-write");
		return -EBUSY;
	}
	/* Exclusive open: fails if mounted, swap, or claimed by anyone. */
	fd = blkdev_open(ctx, o->devnum, O_RDONLY | O_EXCL);
	if (fd == -EBUSY) {
		log_err(ctx, "%s is in use (mounted, active swap, or held open "
			"exclusively by a program); stop using it first", spec);
		return fd;
	}
	if (fd < 0) {
		log_err(ctx, "cannot open %s: %s", spec, strerror(-fd));
		return fd;
	}
	close(fd);
	return 0;
}

static int query(struct rosnap_ctx *ctx, const char *spec, struct origin *o);

int origin_open(struct rosnap_ctx *ctx, const char *spec, struct origin *o)
{
	char path[PATH_MAX];
	struct stat st;
	int r;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (!spec || !*spec) {
		log_err(ctx, "no origin given");
		return -EINVAL;
	}
	if (strlen(spec) >= sizeof(path)) {
		log_err(ctx, "the origin's name is too long (%zu bytes; a path "
			"has at most %zu)", strlen(spec), sizeof(path) - 1);
		return -ENAMETOOLONG;
	}
	snprintf(path, sizeof(path), "%s", spec);
	if (is_tag(spec)) {
		r = resolve_tag(ctx, spec, path, sizeof(path));
		if (r < 0)
			return r;
	}
	if (stat(path, &st) < 0) {
		r = -errno;
		log_err(ctx, "origin %s: %s", spec, strerror(-r));
		return r;
	}
	if (S_ISREG(st.st_mode)) {
		r = open_image(ctx, path, &st, o);
		if (r < 0)
			return r;
	} else if (S_ISBLK(st.st_mode)) {
		o->devnum = st.st_rdev;
	} else {
		log_err(ctx, "%s is not a block device or a disk image", spec);
		return -ENOTBLK;
	}
	r = blkdev_kname(ctx, o->devnum, o->kname, sizeof(o->kname));
	if (r < 0) {
		log_err(ctx, "%s: no such block device in the kernel", spec);
		goto fail;
	}
	snprintf(o->path, sizeof(o->path), "/dev/%s", o->kname);
	if (!o->loop) {
		r = check_free(ctx, spec, o);
		if (r < 0)
			goto fail;
		o->fd = blkdev_open(ctx, o->devnum, O_RDONLY);
		if (o->fd < 0) {
			r = o->fd;
			goto fail;
		}
	}
	r = query(ctx, spec, o);
	if (r < 0)
		goto fail;
	return 0;
fail:
	origin_close(ctx, o, true);
	return r;
}

int origin_open_devnum(struct rosnap_ctx *ctx, dev_t dev, struct origin *o)
{
	int r;

	memset(o, 0, sizeof(*o));
	o->devnum = dev;
	r = blkdev_kname(ctx, dev, o->kname, sizeof(o->kname));
	if (r < 0)
		return r;
	snprintf(o->path, sizeof(o->path), "/dev/%s", o->kname);
	o->fd = blkdev_open(ctx, dev, O_RDONLY);
	if (o->fd < 0)
		return o->fd;
	r = query(ctx, o->path, o);
	if (r < 0)
		origin_close(ctx, o, false);
	return r;
}

/* Size, sector size, read-only flag, and what the origin holds. */
static int query(struct rosnap_ctx *ctx, const char *spec, struct origin *o)
{
	struct probe_result res;
	int r;

	if ((r = blkdev_size(o->fd, &o->size)) < 0 ||
	    (r = blkdev_lbs(o->fd, &o->lbs)) < 0 ||
	    (r = blkdev_get_ro(o->fd, &o->was_ro)) < 0) {
		log_err(ctx, "cannot query %s: %s", spec, strerror(-r));
		return r;
	}
	if (o->size < MIN_COW_BYTES) {
		log_err(ctx, "%s is too small to protect (%llu bytes)", spec,
			(unsigned long long)o->size);
		return -EINVAL;
	}
	r = probe(ctx, spec, o->fd, &res);
	if (r < 0)
		return r;
	snprintf(o->fstype, sizeof(o->fstype), "%s", res.fstype);
	snprintf(o->fsuuid, sizeof(o->fsuuid), "%s", res.uuid);
	snprintf(o->ptuuid, sizeof(o->ptuuid), "%s", res.ptuuid);
	snprintf(o->partuuid, sizeof(o->partuuid), "%s", res.partuuid);
	o->fs_block_size = res.block_size;
	o->has_ptable = res.ptable;
	return 0;
}

int origin_protect(struct rosnap_ctx *ctx, struct origin *o)
{
	int r;

	if (o->was_ro)
		return 0;
	r = blkdev_set_ro(o->fd, true);
	if (r < 0) {
		log_err(ctx, "cannot set %s read-only: %s", o->path, strerror(-r));
		return r;
	}
	o->ro_set = true;
	return 0;
}

void origin_close(struct rosnap_ctx *ctx, struct origin *o, bool restore_ro)
{
	if (o->fd >= 0) {
		if (restore_ro && o->ro_set && blkdev_set_ro(o->fd, false) < 0)
			log_warn(ctx, "cannot make %s writable again", o->path);
		close(o->fd);
	}
	o->fd = -1;
	o->ro_set = false;
	/* Our descriptor was the loop's last user unless dm took it. */
	if (o->loop && restore_ro)
		loop_wait_detached(ctx, o->kname);
}

enum small_blocks origin_small_blocks(const struct origin *o, char *why,
				      size_t len)
{
	/*
	 * A dm device takes the largest logical block size of its parts,
	 * and its length must be a multiple of it: the kernel refuses a
	 * zram-backed snapshot of a device that ends mid-block.
	 */
	if (o->size % ZRAM_BLOCK_SIZE) {
		snprintf(why, len, "its size, %llu bytes, is not a multiple of "
			 "4096", (unsigned long long)o->size);
		return SMALL_NEEDED;
	}
	if (o->fs_block_size) {
		if (o->fs_block_size >= ZRAM_BLOCK_SIZE)
			return SMALL_NO;
		snprintf(why, len, "its %s filesystem uses %u-byte blocks",
			 o->fstype, o->fs_block_size);
		return SMALL_NEEDED;
	}
	if (o->lbs >= ZRAM_BLOCK_SIZE)
		return SMALL_NO;
	if (o->has_ptable) {
		snprintf(why, len, "it holds a %s partition table laid out in "
			 "%u-byte sectors", o->fstype, o->lbs);
		return SMALL_NEEDED;
	}
	snprintf(why, len, "its contents are unknown and it has %u-byte "
		 "sectors", o->lbs);
	return SMALL_UNKNOWN;
}
