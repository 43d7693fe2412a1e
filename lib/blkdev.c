/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Block devices: kernel names, device nodes, ioctls, holders. */
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

#include "internal.h"

static int last_component(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;

	if (!*base || strlen(base) >= len)
		return -EINVAL;
	snprintf(buf, len, "%s", base);
	return 0;
}

int blkdev_kname(struct rosnap_ctx *ctx, dev_t dev, char *kname, size_t len)
{
	char p[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	int r;

	r = path_build(ctx, p, sizeof(p), "/sys/dev/block/%u:%u", major(dev),
		       minor(dev));
	if (r < 0)
		return r;
	n = readlink(p, target, sizeof(target) - 1);
	if (n < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	target[n] = '\0';
	return last_component(target, kname, len);
}

int blkdev_devnum(struct rosnap_ctx *ctx, const char *kname, dev_t *dev)
{
	char buf[32];
	int r;

	if (strchr(kname, '/') || kname[0] == '.')
		return -EINVAL;
	r = path_read(ctx, buf, sizeof(buf), "/sys/class/block/%s/dev", kname);
	if (r < 0)
		return r == -ENOENT ? -ENODEV : r;
	return devnum_parse(buf, dev);
}

int blkdev_open(struct rosnap_ctx *ctx, dev_t dev, int flags)
{
	char kname[64];
	struct stat st;
	int fd, r;

	r = blkdev_kname(ctx, dev, kname, sizeof(kname));
	if (r < 0)
		return r;
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

/* The entries of kname's sysfs directory WHAT (holders, slaves): their
 * count, and the first in first. */
static int sys_links(struct rosnap_ctx *ctx, const char *kname,
		     const char *what, char *first, size_t len)
{
	char p[PATH_MAX];
	struct dirent *de;
	int count = 0, r;
	DIR *d;

	r = path_build(ctx, p, sizeof(p), "/sys/class/block/%s/%s", kname, what);
	if (r < 0)
		return r;
	d = opendir(p);
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

int blkdev_whole_disk(struct rosnap_ctx *ctx, const char *kname, char *disk,
		      size_t len)
{
	char p[PATH_MAX], target[PATH_MAX];
	char *slash;
	ssize_t n;
	int r;

	if (!path_exists(ctx, "/sys/class/block/%s/partition", kname)) {
		if (strlen(kname) >= len)
			return -EINVAL;
		snprintf(disk, len, "%s", kname);
		return 0;
	}
	r = path_build(ctx, p, sizeof(p), "/sys/class/block/%s", kname);
	if (r < 0)
		return r;
	n = readlink(p, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	slash = strrchr(target, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	return last_component(target, disk, len);
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
	char p[PATH_MAX], disk[32];
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
	if (path_build(ctx, p, sizeof(p), "/sys/class/block/%s/slaves", kname) < 0)
		return n;
	d = opendir(p);
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
