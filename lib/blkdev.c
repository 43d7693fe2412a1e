/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Block devices: kernel names, attributes, the holder graph and
 * enumeration through libudev (watch.c listens to its events); device
 * nodes and ioctls.
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
#include <libudev.h>

#include "internal.h"

/* The context's libudev handle, made on first use: libudev reads sysfs
 * itself, with or without udevd (an initramfs has none). */
struct udev *blkdev_udev(struct rosnap_ctx *ctx)
{
	if (!ctx->udev)
		ctx->udev = udev_new();
	return ctx->udev;
}

void blkdev_release(struct rosnap_ctx *ctx)
{
	if (ctx->udev)
		ctx->udev = udev_unref(ctx->udev);
}

/*
 * Kernel names are sysfs's: "cciss!c0d0" for /dev/cciss/c0d0 (libudev's
 * sysname has the '/').  The block device of that name, or NULL with
 * errno set (EINVAL: not a kernel name).
 */
static struct udev_device *by_kname(struct rosnap_ctx *ctx, const char *kname)
{
	struct udev *u = blkdev_udev(ctx);

	if (!u) {
		errno = ENOMEM;
		return NULL;
	}
	if (!kname[0] || strchr(kname, '/') || kname[0] == '.') {
		errno = EINVAL;
		return NULL;
	}
	return udev_device_new_from_subsystem_sysname(u, "block", kname);
}

/* Every character from in s made to. */
static void replace_char(char *s, char from, char to)
{
	for (; (s = strchr(s, from)); s++)
		*s = to;
}

/* A device's kernel name, in sysfs's form. */
static int copy_name(struct udev_device *d, char *buf, size_t len)
{
	const char *name = udev_device_get_sysname(d);

	if (!name || strlen(name) >= len)
		return -EINVAL;
	memcpy(buf, name, strlen(name) + 1);
	replace_char(buf, '/', '!');
	return 0;
}

int blkdev_kname(struct rosnap_ctx *ctx, dev_t dev, char *kname, size_t len)
{
	struct udev *u = blkdev_udev(ctx);
	struct udev_device *d;
	int r;

	if (!u)
		return -ENOMEM;
	d = udev_device_new_from_devnum(u, 'b', dev);
	if (!d)
		return -ENODEV;
	r = copy_name(d, kname, len);
	udev_device_unref(d);
	return r;
}

int blkdev_devnum(struct rosnap_ctx *ctx, const char *kname, dev_t *dev)
{
	struct udev_device *d;

	d = by_kname(ctx, kname);
	if (!d)
		return errno == EINVAL || errno == ENOMEM ? -errno : -ENODEV;
	*dev = udev_device_get_devnum(d);
	udev_device_unref(d);
	return major(*dev) || minor(*dev) ? 0 : -ENODEV;
}

int blkdev_attr(struct rosnap_ctx *ctx, const char *kname, const char *attr,
		char *buf, size_t len)
{
	struct udev_device *d = by_kname(ctx, kname);
	const char *v;
	size_t n;
	int r = -ENOENT;

	if (!d)
		return -ENODEV;
	v = udev_device_get_sysattr_value(d, attr);
	if (v) {
		/* libudev strips the kernel's newline already. */
		n = strlen(v);
		r = n < len ? 0 : -ENAMETOOLONG;
		if (r == 0)
			memcpy(buf, v, n + 1);
	}
	udev_device_unref(d);
	return r;
}

int blkdev_open(struct rosnap_ctx *ctx, dev_t dev, int flags)
{
	char kname[64];
	struct stat st;
	int fd, r;

	r = blkdev_kname(ctx, dev, kname, sizeof(kname));
	if (r < 0)
		return r;
	/* The node of "cciss!c0d0" is /dev/cciss/c0d0. */
	replace_char(kname, '!', '/');
	fd = path_open(ctx, flags, "/dev/%s", kname);
	if (fd < 0) {
		if (fd == -ENOENT)
			log_err(ctx, "device node /dev/%s is missing; rosnap "
				"needs devtmpfs mounted on /dev", kname);
		return fd;
	}
	if (fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != dev) {
		log_err(ctx, "/dev/%s is not block device %u:%u", kname,
			major(dev), minor(dev));
		close(fd);
		return -ENODEV;
	}
	return fd;
}

int blkdev_get_ro(int fd, bool *ro)
{
	int v = 0;

	if (ioctl(fd, BLKROGET, &v) < 0)
		return -errno;
	*ro = v != 0;
	return 0;
}

int blkdev_set_ro(int fd, bool ro)
{
	int v = ro;

	return ioctl(fd, BLKROSET, &v) < 0 ? -errno : 0;
}

int blkdev_size(int fd, uint64_t *bytes)
{
	return ioctl(fd, BLKGETSIZE64, bytes) < 0 ? -errno : 0;
}

int blkdev_lbs(int fd, unsigned *bytes)
{
	int v = 0;

	if (ioctl(fd, BLKSSZGET, &v) < 0)
		return -errno;
	*bytes = (unsigned)v;
	return 0;
}

int blkdev_zero(int fd, uint64_t offset, uint64_t len)
{
	static const char zeroes[65536];
	ssize_t n;

	while (len > 0) {
		size_t chunk = len < sizeof(zeroes) ? (size_t)len : sizeof(zeroes);

		n = pwrite(fd, zeroes, chunk, (off_t)offset);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		offset += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return fdatasync(fd) < 0 ? -errno : 0;
}

int blkdev_set_attr(struct rosnap_ctx *ctx, const char *kname,
		    const char *attr, const char *value)
{
	struct udev_device *d = by_kname(ctx, kname);
	char *v;
	int r;

	if (!d)
		return -ENODEV;
	/* libudev wants it writable; the kernel takes it in one write. */
	v = strdup(value);
	r = v ? udev_device_set_sysattr_value(d, attr, v) : -ENOMEM;
	free(v);
	udev_device_unref(d);
	return r;
}

/*
 * kname's directory WHAT (holders, slaves), or NULL (errno set): libudev
 * has no call for the holder graph, but it finds the device's directory.
 */
static DIR *links_dir(struct rosnap_ctx *ctx, const char *kname,
		      const char *what)
{
	struct udev_device *ud = by_kname(ctx, kname);
	char p[PATH_MAX];

	if (!ud) {
		if (errno != EINVAL && errno != ENOMEM)
			errno = ENOENT;
		return NULL;
	}
	snprintf(p, sizeof(p), "%s/%s", udev_device_get_syspath(ud), what);
	udev_device_unref(ud);
	return opendir(p);
}

/* The entries of kname's directory WHAT: their count, and the first in
 * first. */
static int sys_links(struct rosnap_ctx *ctx, const char *kname,
		     const char *what, char *first, size_t len)
{
	struct dirent *de;
	int count = 0;
	DIR *d;

	d = links_dir(ctx, kname, what);
	if (!d)
		return -errno;
	if (first && len)
		first[0] = '\0';
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (count++ == 0 && first)
			snprintf(first, len, "%s", de->d_name);
	}
	closedir(d);
	return count;
}

int blkdev_holders(struct rosnap_ctx *ctx, const char *kname, char *first,
		   size_t len)
{
	return sys_links(ctx, kname, "holders", first, len);
}

int blkdev_slave(struct rosnap_ctx *ctx, const char *kname, char *slave,
		 size_t len)
{
	int r = sys_links(ctx, kname, "slaves", slave, len);

	return r < 0 ? r : r == 1 ? 0 : -ENODEV;
}

static bool is_partition(struct udev_device *d)
{
	const char *t = udev_device_get_devtype(d);

	return t && strcmp(t, "partition") == 0;
}

int blkdev_whole_disk(struct rosnap_ctx *ctx, const char *kname, char *disk,
		      size_t len)
{
	struct udev_device *d = by_kname(ctx, kname), *parent;
	int r;

	if (!d)
		return -ENODEV;
	parent = is_partition(d) ?
		 udev_device_get_parent_with_subsystem_devtype(d, "block", "disk") : d;
	/* The parent belongs to d. */
	r = parent ? copy_name(parent, disk, len) : -ENODEV;
	udev_device_unref(d);
	return r;
}

/*
 * Block devices whose kernel name matches the glob (parent: only the
 * partitions of that disk, the disk itself left out): fn is called with
 * each one's kernel name and number until it returns non-zero, which is
 * returned.  0 when fn never stopped.
 */
int blkdev_each(struct rosnap_ctx *ctx, const char *glob, const char *parent,
		int (*fn)(const char *kname, dev_t dev, void *data), void *data)
{
	struct udev *u = blkdev_udev(ctx);
	struct udev_enumerate *e;
	struct udev_list_entry *l;
	struct udev_device *d, *p = NULL;
	char kname[64];
	int r = 0, scan;

	if (!u)
		return -ENOMEM;
	if (parent) {
		p = by_kname(ctx, parent);
		if (!p)
			return -ENODEV;
	}
	e = udev_enumerate_new(u);
	if (!e || udev_enumerate_add_match_subsystem(e, "block") < 0 ||
	    (glob && udev_enumerate_add_match_sysname(e, glob) < 0) ||
	    (p && udev_enumerate_add_match_parent(e, p) < 0)) {
		r = -ENOMEM;
		goto out;
	}
	/* A device that vanished mid-scan makes it fail; the others are
	 * listed all the same.  Nothing listed and a failure: the failure. */
	scan = udev_enumerate_scan_devices(e);
	if (scan < 0 && !udev_enumerate_get_list_entry(e)) {
		r = scan;
		goto out;
	}
	udev_list_entry_foreach(l, udev_enumerate_get_list_entry(e)) {
		d = udev_device_new_from_syspath(u, udev_list_entry_get_name(l));
		if (!d)
			continue;   /* gone meanwhile */
		if ((!p || is_partition(d)) && copy_name(d, kname, sizeof(kname)) == 0)
			r = fn(kname, udev_device_get_devnum(d), data);
		udev_device_unref(d);
		if (r)
			break;
	}
out:
	udev_enumerate_unref(e);
	if (p)
		udev_device_unref(p);
	return r;
}

static int stack_add(struct rosnap_ctx *ctx, const char *kname,
		     char names[][32], int n, int max, int depth);

/* A loop device stands on the disk that holds its backing file. */
static int stack_add_backing(struct rosnap_ctx *ctx, const char *kname,
			     char names[][32], int n, int max, int depth)
{
	char file[PATH_MAX], under[32];
	struct stat st;
	dev_t dev;

	if (loop_backing_file(ctx, kname, file, sizeof(file)) < 0 ||
	    stat(file, &st) < 0 ||
	    mount_block_device(ctx, st.st_dev, &dev) < 0 ||
	    blkdev_kname(ctx, dev, under, sizeof(under)) < 0)
		return n;
	return stack_add(ctx, under, names, n, max, depth + 1);
}

static int stack_add(struct rosnap_ctx *ctx, const char *kname,
		     char names[][32], int n, int max, int depth)
{
	char disk[32];
	struct dirent *de;
	int i;
	DIR *d;

	if (depth > 16 || n >= max || strlen(kname) >= 32)
		return n;
	for (i = 0; i < n; i++)
		if (strcmp(names[i], kname) == 0)
			return n;
	snprintf(names[n++], sizeof(names[0]), "%s", kname);
	if (blkdev_whole_disk(ctx, kname, disk, sizeof(disk)) == 0 &&
	    strcmp(disk, kname) != 0)
		n = stack_add(ctx, disk, names, n, max, depth + 1);
	if (strncmp(kname, "loop", 4) == 0)
		n = stack_add_backing(ctx, kname, names, n, max, depth);
	d = links_dir(ctx, kname, "slaves");
	if (!d)
		return n;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n = stack_add(ctx, de->d_name, names, n, max, depth + 1);
	closedir(d);
	return n;
}

int blkdev_stack(struct rosnap_ctx *ctx, const char *kname, char names[][32],
		 int max)
{
	return stack_add(ctx, kname, names, 0, max, 0);
}
