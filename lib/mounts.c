/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Is a block device mounted, and which block device is behind a
 * filesystem: the mount table (/proc/self/mountinfo, under the context's
 * root) through util-linux's libmount, the library mount and findmnt use.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <libmount.h>

#include "internal.h"

static int read_table(struct rosnap_ctx *ctx, struct libmnt_table **out)
{
	char path[PATH_MAX];
	struct libmnt_table *tb;
	int r;

	r = path_build(ctx, path, sizeof(path), "/proc/self/mountinfo");
	if (r < 0)
		return r;
	tb = mnt_new_table();
	if (!tb)
		return -ENOMEM;
	r = mnt_table_parse_file(tb, path);
	if (r < 0) {
		mnt_unref_table(tb);
		return r;
	}
	*out = tb;
	return 0;
}

/*
 * The block device a mount is of: its device number, or (btrfs gives its
 * mounts a number of its own) its source's, when that is a device node.
 * Only nodes under /dev are looked at: a FUSE or network source could
 * hang the stat, or set off an automount.  0 when there is none.
 */
static dev_t fs_block_device(struct libmnt_fs *fs)
{
	const char *src;
	struct stat st;

	if (major(mnt_fs_get_devno(fs)) != 0)
		return mnt_fs_get_devno(fs);
	src = mnt_fs_get_srcpath(fs);
	if (!src || strncmp(src, "/dev/", 5) != 0 || stat(src, &st) < 0 ||
	    !S_ISBLK(st.st_mode))
		return 0;
	return st.st_rdev;
}

int mount_find(struct rosnap_ctx *ctx, const dev_t *devs, unsigned n,
	       struct mount_hit *hit)
{
	struct libmnt_table *tb;
	struct libmnt_iter *it;
	struct libmnt_fs *fs;
	unsigned i;
	int r, found = 0;

	r = read_table(ctx, &tb);
	if (r < 0)
		return r;
	it = mnt_new_iter(MNT_ITER_FORWARD);
	if (!it) {
		mnt_unref_table(tb);
		return -ENOMEM;
	}
	while (!found && mnt_table_next_fs(tb, it, &fs) == 0) {
		dev_t dev = mnt_fs_get_target(fs) ? fs_block_device(fs) : 0;

		for (i = 0; dev && i < n; i++) {
			if (dev != devs[i])
				continue;
			snprintf(hit->target, sizeof(hit->target), "%s",
				 mnt_fs_get_target(fs));
			/* The mount's own flags, not the superblock's. */
			hit->read_only = mnt_optstr_get_option(mnt_fs_get_vfs_options(fs),
							       "ro", NULL, NULL) == 0;
			found = 1;
			break;
		}
	}
	mnt_free_iter(it);
	mnt_unref_table(tb);
	return found;
}

int mount_block_device(struct rosnap_ctx *ctx, dev_t st_dev, dev_t *dev)
{
	struct libmnt_table *tb;
	struct libmnt_fs *fs;
	int r = -ENODEV;

	if (major(st_dev) != 0) {
		*dev = st_dev;
		return 0;
	}
	/* btrfs gives its files a device number of its own: its source. */
	if (read_table(ctx, &tb) < 0)
		return -ENODEV;
	fs = mnt_table_find_devno(tb, st_dev, MNT_ITER_FORWARD);
	if (fs) {
		*dev = fs_block_device(fs);
		r = *dev ? 0 : -ENODEV;
	}
	mnt_unref_table(tb);
	return r;
}

_public_ int rosnap_device_get_mountpoint(const struct rosnap_device *dev,
					  char **target)
{
	struct mount_hit hit;
	int r;

	r = mount_find(dev->ctx, &dev->devnum, 1, &hit);
	if (r <= 0)
		return r;
	*target = strdup(hit.target);
	return *target ? 1 : -ENOMEM;
}
