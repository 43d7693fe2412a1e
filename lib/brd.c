/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * brd: the uncompressed RAM disk, for origins that need 512-byte sectors.
 *
 * brd's size is module-global (rd_size, KiB, fixed at load) and on 6.1 its
 * pages are only given back when the module unloads.  rosnap therefore
 * loads brd with rd_nr=0 and rd_size = physical memory (pages are only
 * allocated when written, so the size costs nothing), makes devices on
 * demand by opening a device number brd does not have yet (the kernel
 * calls brd's probe), and trims each COW to its requested size with the
 * dm-linear layer above it.  rd_nr=0 marks a brd rosnap loaded: only then
 * does rosnap unload it when its last device goes, to free the memory.
 *
 * brd devices outlive their use (6.1 cannot delete one), so rosnap reuses
 * its own: a device rosnap is done with gets a marker in its first
 * sector, and an existing device is taken only if it carries one.  Any
 * other ramdisk is somebody's, unmounted perhaps, and is never touched.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

#define RAMDISK_MAJOR 1
#define MAX_BRD_DEVICES 256

static int brd_load(struct rosnap_ctx *ctx)
{
	struct kmod_need need = KMOD_BRD;
	char options[96];
	uint64_t total;
	int r;

	if (module_loaded(ctx, need.module))
		return 0;
	r = rosnap_ram_total(ctx, &total);
	if (r < 0)
		return r;
	snprintf(options, sizeof(options), "rd_nr=0 max_part=1 rd_size=%" PRIu64,
		 total / 1024);
	need.options = options;
	return module_ensure(ctx, &need);
}

static const char free_marker[] = "ROSNAP-FREE-RAMDISK\n";

/* A ram device nobody holds or has open exclusively; fd stays open. */
static int open_unused(struct rosnap_ctx *ctx, unsigned index)
{
	char kname[32];

	snprintf(kname, sizeof(kname), "ram%u", index);
	if (blkdev_holders(ctx, kname, NULL, 0) != 0)
		return -EBUSY;
	return path_open(ctx, O_RDWR | O_EXCL, "/dev/%s", kname);
}

/* An existing ram device rosnap marked free; anyone else's is -EBUSY. */
static int claim_marked(struct rosnap_ctx *ctx, unsigned index)
{
	char buf[sizeof(free_marker)];
	int fd = open_unused(ctx, index);

	if (fd < 0)
		return fd;
	if (pread(fd, buf, sizeof(buf) - 1, 0) != (ssize_t)sizeof(buf) - 1 ||
	    memcmp(buf, free_marker, sizeof(buf) - 1) != 0) {
		log_dbg(ctx, "/dev/ram%u is not rosnap's: leaving it alone", index);
		close(fd);
		return -EBUSY;
	}
	return fd;
}

/* Make brd create device INDEX: open a node for its number. */
static int probe_new(struct rosnap_ctx *ctx, unsigned index, unsigned max_part)
{
	char node[PATH_MAX];
	dev_t dev = makedev(RAMDISK_MAJOR, index * max_part);
	int fd, r;

	r = path_build(ctx, node, sizeof(node), "/dev/.rosnap-ram%u", index);
	if (r < 0)
		return r;
	unlink(node);
	if (mknod(node, S_IFBLK | 0600, dev) < 0) {
		r = -errno;
		log_err(ctx, "cannot make a node to create brd device ram%u: %s",
			index, strerror(-r));
		return r;
	}
	fd = open(node, O_RDWR | O_EXCL | O_CLOEXEC);
	r = fd < 0 ? -errno : 0;
	unlink(node);
	if (fd >= 0)
		close(fd);
	if (r < 0 || !path_exists(ctx, "/sys/class/block/ram%u", index)) {
		log_err(ctx, "brd did not create ram%u on demand: %s", index,
			r < 0 ? strerror(-r) : "no such device appeared");
		return r < 0 ? r : -ENODEV;
	}
	return open_unused(ctx, index);
}

int brd_create(struct rosnap_ctx *ctx, uint64_t bytes, unsigned *index)
{
	uint64_t rd_size, max_part = 1;
	char size[32], want[32];
	unsigned i;
	int fd = -1, r;

	r = brd_load(ctx);
	if (r < 0)
		return r;
	r = path_read_u64(ctx, &rd_size, "/sys/module/brd/parameters/rd_size");
	if (r < 0) {
		log_err(ctx, "cannot read brd's rd_size: %s", strerror(-r));
		return r;
	}
	path_read_u64(ctx, &max_part, "/sys/module/brd/parameters/max_part");
	if (max_part == 0)
		max_part = 1;
	if (rd_size * 1024 < bytes) {
		rosnap_format_size(rd_size * 1024, size, sizeof(size));
		rosnap_format_size(bytes, want, sizeof(want));
		log_err(ctx, "brd was loaded with devices of %s (rd_size), smaller "
			"than the %s asked for; brd's size is fixed when it loads: "
			"ask for at most %s, or remove what uses brd and run "
			"'rmmod brd' so rosnap can load it again", size, want, size);
		return -ENOSPC;
	}
	for (i = 0; i < MAX_BRD_DEVICES; i++) {
		if (path_exists(ctx, "/sys/class/block/ram%u", i))
			fd = claim_marked(ctx, i);
		else
			fd = probe_new(ctx, i, (unsigned)max_part);
		if (fd >= 0)
			break;
	}
	if (fd < 0) {
		log_err(ctx, "no free brd device (all %u in use)", MAX_BRD_DEVICES);
		return -EBUSY;
	}
	/*
	 * A reused device still holds its old pages: clear the first chunk
	 * so the kernel starts a new exception store instead of reading an
	 * old one.
	 */
	r = blkdev_zero(fd, 0, MAX_CHUNK_BYTES);
	close(fd);
	if (r < 0) {
		log_err(ctx, "cannot clear /dev/ram%u: %s", i, strerror(-r));
		return r;
	}
	*index = i;
	log_dbg(ctx, "using /dev/ram%u for %" PRIu64 " bytes", i, bytes);
	return 0;
}

int brd_pages(struct rosnap_ctx *ctx, unsigned index, uint64_t *pages)
{
	return path_read_u64(ctx, pages, "/sys/kernel/debug/ramdisk_pages/ram%u",
			     index);
}

/* True when some ram device is held or open. */
static bool brd_in_use(struct rosnap_ctx *ctx)
{
	char p[PATH_MAX];
	struct dirent *de;
	unsigned idx;
	bool busy = false;
	DIR *d;
	int fd;

	if (path_build(ctx, p, sizeof(p), "/sys/class/block") < 0)
		return true;
	d = opendir(p);
	if (!d)
		return true;
	while (!busy && (de = readdir(d))) {
		if (sscanf(de->d_name, "ram%u", &idx) != 1)
			continue;
		fd = open_unused(ctx, idx);
		if (fd < 0)
			busy = true;
		else
			close(fd);
	}
	closedir(d);
	return busy;
}

/* Mark a device rosnap is done with, so that it may take it again. */
static void mark_free(struct rosnap_ctx *ctx, unsigned index)
{
	char buf[SECTOR_SIZE] = { 0 };
	int fd = open_unused(ctx, index);

	if (fd < 0) {
		log_dbg(ctx, "/dev/ram%u is still in use: not marked free", index);
		return;
	}
	memcpy(buf, free_marker, sizeof(free_marker) - 1);
	if (pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
	    fdatasync(fd) < 0)
		log_dbg(ctx, "cannot mark /dev/ram%u free: %s", index,
			strerror(errno));
	close(fd);
}

int brd_release(struct rosnap_ctx *ctx, unsigned index)
{
	uint64_t rd_nr = 1;
	int r;

	mark_free(ctx, index);
	/* Only a brd that rosnap loaded, and only when nothing uses it. */
	if (path_read_u64(ctx, &rd_nr, "/sys/module/brd/parameters/rd_nr") < 0 ||
	    rd_nr != 0 || brd_in_use(ctx))
		return 0;
	r = module_unload(ctx, "brd");
	if (r < 0)
		log_dbg(ctx, "brd stays loaded: %s", strerror(-r));
	else
		log_dbg(ctx, "unloaded brd to give its memory back");
	return 0;
}
