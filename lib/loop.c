/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loop devices for disk-image origins and journal files.
 *
 * rosnap attaches with LO_FLAGS_AUTOCLEAR: the loop device detaches
 * itself when its last user closes it, so it goes away with the
 * device-mapper table that uses it, or when rosnap drops its own file
 * descriptor after a failed create.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

int loop_attach(struct rosnap_ctx *ctx, const char *file, bool read_only,
		uint64_t offset, dev_t *dev, int *fd)
{
	int ffd, r;

	ffd = open(file, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (ffd < 0) {
		r = -errno;
		log_err(ctx, "cannot open %s: %s", file, strerror(-r));
		return r;
	}
	r = loop_attach_fd(ctx, ffd, file, read_only, offset, dev, fd);
	close(ffd);
	return r;
}

int loop_attach_fd(struct rosnap_ctx *ctx, int ffd, const char *file,
		   bool read_only, uint64_t offset, dev_t *dev, int *fd)
{
	struct loop_config cfg;
	struct stat st;
	int ctl, lfd = -1, n, r, tries;

	r = module_ensure(ctx, &KMOD_LOOP);
	if (r < 0)
		return r;
	ctl = path_open(ctx, O_RDWR, "/dev/loop-control");
	if (ctl < 0) {
		r = ctl;
		log_err(ctx, "cannot open /dev/loop-control: %s", strerror(-r));
		return r;
	}
	/* Another program may take the free device first: try again. */
	for (tries = 0; tries < 16; tries++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0) {
			r = -errno;
			break;
		}
		lfd = path_open(ctx, read_only ? O_RDONLY : O_RDWR, "/dev/loop%d", n);
		if (lfd < 0) {
			r = lfd;
			break;
		}
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (unsigned)ffd;
		cfg.info.lo_offset = offset;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO |
				    (read_only ? LO_FLAGS_READ_ONLY : 0);
		snprintf((char *)cfg.info.lo_file_name, LO_NAME_SIZE, "%s", file);
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0) {
			r = 0;
			break;
		}
		r = -errno;
		close(lfd);
		lfd = -1;
		if (r != -EBUSY)
			break;
	}
	close(ctl);
	if (r < 0) {
		log_err(ctx, "cannot attach %s to a loop device: %s", file,
			strerror(-r));
		goto out;
	}
	if (fstat(lfd, &st) < 0) {
		r = -errno;
		close(lfd);
		goto out;
	}
	*dev = st.st_rdev;
	*fd = lfd;
	log_dbg(ctx, "attached %s to /dev/loop%u", file, minor(st.st_rdev));
out:
	return r;
}

int loop_backing_file(struct rosnap_ctx *ctx, const char *kname, char *buf,
		      size_t len)
{
	return blkdev_attr(ctx, kname, "loop/backing_file", buf, len);
}

int loop_backing_id(struct rosnap_ctx *ctx, const char *kname, dev_t *dev,
		    ino_t *ino)
{
	struct loop_info64 info;
	int fd, r = 0;

	fd = path_open(ctx, O_RDONLY, "/dev/%s", kname);
	if (fd < 0)
		return fd;
	if (ioctl(fd, LOOP_GET_STATUS64, &info) < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
	*dev = (dev_t)info.lo_device;
	*ino = (ino_t)info.lo_inode;
	return 0;
}

int loop_wait_detached(struct rosnap_ctx *ctx, const char *kname)
{
	struct timespec ts = { 0, 20 * 1000000L };
	int i;

	/* Autoclear runs when the last opener closes; give it a moment. */
	for (i = 0; i < 250; i++) {
		char file[PATH_MAX];

		if (loop_backing_file(ctx, kname, file, sizeof(file)) < 0)
			return 0;
		nanosleep(&ts, NULL);
	}
	log_warn(ctx, "/dev/%s is still attached", kname);
	return -EBUSY;
}
