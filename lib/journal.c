/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The merge journal: a copy of a RAM COW on persistent storage, which a
 * power-loss-safe merge reads from instead of RAM.
 *
 *   0     header (4096 bytes, little-endian, CRC32 at its end)
 *   4096  the COW as the kernel wrote it (persistent store format),
 *         data_bytes long
 *
 * The header says which origin the copy belongs to and whether the copy
 * was complete ("merging") or not ("copying": the merge never started and
 * the origin is untouched).  While merging, the kernel updates the copy in
 * place (merged chunks, writes during the merge), exactly as it would a
 * persistent snapshot on disk; that format is designed to be resumed after
 * a crash, so the copy's own checksum is only the kernel's header check.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

static const char journal_magic[8] = { 'R', 'O', 'S', 'N', 'A', 'P', 'J', '\n' };

/* Field offsets in the header. */
enum {
	OFF_MAGIC = 0,
	OFF_VERSION = 8,
	OFF_STATE = 12,
	OFF_HEADER_BYTES = 16,
	OFF_DATA_BYTES = 24,
	OFF_CHUNK = 32,
	OFF_FLAGS = 36,
	OFF_ORIGIN_SIZE = 40,
	OFF_CREATED = 48,
	OFF_ORIGIN_UUID = 56,
	OFF_ORIGIN_PATH = 120,
	OFF_NAME = 248,
	OFF_END_V1 = 376,
	/* Version 2: the origin's partition table and partition UUIDs. */
	OFF_ORIGIN_PTUUID = 376,
	OFF_ORIGIN_PARTUUID = 440,
	OFF_END = 504,
	OFF_CRC = JOURNAL_HEADER_BYTES - 4,
};

bool journal_has_magic(const char *path)
{
	char head[sizeof(journal_magic)];
	bool r;
	int fd;

	/* Read only: a link (/dev/disk/by-...) is followed. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	r = read(fd, head, sizeof(head)) == (ssize_t)sizeof(head) &&
	    memcmp(head, journal_magic, sizeof(head)) == 0;
	close(fd);
	return r;
}

int journal_encode(const struct journal_header *h, unsigned char *buf)
{
	memset(buf, 0, JOURNAL_HEADER_BYTES);
	memcpy(buf + OFF_MAGIC, journal_magic, sizeof(journal_magic));
	field_put32(buf + OFF_VERSION, JOURNAL_VERSION);
	field_put32(buf + OFF_STATE, h->state);
	field_put64(buf + OFF_HEADER_BYTES, JOURNAL_HEADER_BYTES);
	field_put64(buf + OFF_DATA_BYTES, h->data_bytes);
	field_put32(buf + OFF_CHUNK, h->chunk_sectors);
	field_put32(buf + OFF_FLAGS, h->flags);
	field_put64(buf + OFF_ORIGIN_SIZE, h->origin_size);
	field_put64(buf + OFF_CREATED, h->created);
	if (field_put_str(buf + OFF_ORIGIN_UUID, OFF_ORIGIN_PATH - OFF_ORIGIN_UUID,
		    h->origin_uuid) < 0 ||
	    field_put_str(buf + OFF_ORIGIN_PATH, OFF_NAME - OFF_ORIGIN_PATH,
		    h->origin_path) < 0 ||
	    field_put_str(buf + OFF_NAME, OFF_END_V1 - OFF_NAME, h->name) < 0 ||
	    field_put_str(buf + OFF_ORIGIN_PTUUID, OFF_ORIGIN_PARTUUID - OFF_ORIGIN_PTUUID,
		    h->origin_ptuuid) < 0 ||
	    field_put_str(buf + OFF_ORIGIN_PARTUUID, OFF_END - OFF_ORIGIN_PARTUUID,
		    h->origin_partuuid) < 0)
		return -ENAMETOOLONG;
	field_put32(buf + OFF_CRC, field_crc(buf, OFF_CRC));
	return 0;
}

int journal_decode(const unsigned char *buf, struct journal_header *h,
		   const char **why)
{
	const char *reason;
	size_t i, end;

	memset(h, 0, sizeof(*h));
	if (memcmp(buf + OFF_MAGIC, journal_magic, sizeof(journal_magic)) != 0) {
		reason = "it is not a rosnap merge journal (no magic)";
		goto bad;
	}
	if (field_get32(buf + OFF_CRC) != field_crc(buf, OFF_CRC)) {
		reason = "its header checksum is wrong";
		goto bad;
	}
	h->version = field_get32(buf + OFF_VERSION);
	/* Version 1 (before the partition UUIDs) is read as well. */
	if (h->version != JOURNAL_VERSION && h->version != 1) {
		reason = "it has a journal version this rosnap does not know";
		goto bad;
	}
	h->state = field_get32(buf + OFF_STATE);
	h->data_bytes = field_get64(buf + OFF_DATA_BYTES);
	h->chunk_sectors = field_get32(buf + OFF_CHUNK);
	h->flags = field_get32(buf + OFF_FLAGS);
	h->origin_size = field_get64(buf + OFF_ORIGIN_SIZE);
	h->created = field_get64(buf + OFF_CREATED);
	reason = "its header holds impossible values";
	if (field_get64(buf + OFF_HEADER_BYTES) != JOURNAL_HEADER_BYTES ||
	    (h->state != JOURNAL_COPYING && h->state != JOURNAL_MERGING) ||
	    h->data_bytes % SECTOR_SIZE || h->data_bytes > (UINT64_MAX >> 1) ||
	    !h->chunk_sectors || (h->chunk_sectors & (h->chunk_sectors - 1)) ||
	    h->chunk_sectors > MAX_CHUNK_BYTES / SECTOR_SIZE ||
	    (h->flags & ~JOURNAL_F_UNPROTECT) || !h->origin_size ||
	    h->origin_size % SECTOR_SIZE)
		goto bad;
	if (h->state == JOURNAL_MERGING &&
	    h->data_bytes < 2ULL * h->chunk_sectors * SECTOR_SIZE)
		goto bad;
	if (field_get_str(h->origin_uuid, buf + OFF_ORIGIN_UUID,
		    sizeof(h->origin_uuid)) < 0 ||
	    field_get_str(h->origin_path, buf + OFF_ORIGIN_PATH,
		    sizeof(h->origin_path)) < 0 ||
	    field_get_str(h->name, buf + OFF_NAME, sizeof(h->name)) < 0)
		goto bad;
	end = OFF_END_V1;
	if (h->version >= 2) {
		if (field_get_str(h->origin_ptuuid, buf + OFF_ORIGIN_PTUUID,
			    sizeof(h->origin_ptuuid)) < 0 ||
		    field_get_str(h->origin_partuuid, buf + OFF_ORIGIN_PARTUUID,
			    sizeof(h->origin_partuuid)) < 0)
			goto bad;
		end = OFF_END;
	}
	for (i = end; i < OFF_CRC; i++)
		if (buf[i])
			goto bad;
	return 0;
bad:
	if (why)
		*why = reason;
	return -EINVAL;
}

/* dm-snapshot's persistent store header: magic "SnAp", valid, version 1. */
#define SNAP_MAGIC 0x70416e53u

int cow_header_check(const unsigned char *buf, uint32_t chunk_sectors,
		     const char **why)
{
	const char *reason = NULL;

	if (field_get32(buf) != SNAP_MAGIC)
		reason = "the copy holds no snapshot store";
	else if (field_get32(buf + 4) != 1)
		reason = "the copied snapshot store is marked invalid";
	else if (field_get32(buf + 8) != 1)
		reason = "the copied snapshot store has an unknown version";
	else if (field_get32(buf + 12) != chunk_sectors)
		reason = "the copied snapshot store's chunk size does not match";
	if (reason && why)
		*why = reason;
	return reason ? -EINVAL : 0;
}

int fsync_parent(const char *path)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Whether path is on a filesystem that lives in RAM (tmpfs, ramfs). */
static bool in_ram_fs(const char *path)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 &&
	       (sfs.f_type == TMPFS_MAGIC || sfs.f_type == RAMFS_MAGIC);
}

/* The block device holding path, or path itself if it is one. */
static int place_device(struct rosnap_ctx *ctx, const char *what,
			const char *path, dev_t *dev, bool *is_blkdev)
{
	struct stat st;
	char *copy;
	int r;

	if (stat(path, &st) == 0 && S_ISBLK(st.st_mode)) {
		*dev = st.st_rdev;
		*is_blkdev = true;
		return 0;
	}
	*is_blkdev = false;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	r = stat(dirname(copy), &st) < 0 ? -errno : 0;
	if (r == 0 && in_ram_fs(copy)) {
		log_err(ctx, "%s %s would be in RAM (%s is a tmpfs) and would not "
			"survive a power cut; put it on a disk", what, path, copy);
		r = -EINVAL;
	}
	if (r == -ENOENT || r == -ENOTDIR)
		log_err(ctx, "%s %s: the directory %s does not exist", what, path,
			copy);
	free(copy);
	if (r < 0)
		return r;
	r = mount_block_device(ctx, st.st_dev, dev);
	if (r < 0)
		log_err(ctx, "%s %s: cannot tell which disk holds it; put it on a "
			"filesystem on a disk, or give a block device", what, path);
	return r;
}

int place_check(struct rosnap_ctx *ctx, const char *what, const char *path,
		dev_t origin, dev_t top, const char *name)
{
	char names[32][32], okname[64], tkname[64] = "", kname[64];
	char file[PATH_MAX];
	bool is_blkdev;
	dev_t dev;
	int n, i, r;

	if (!path || path[0] != '/') {
		log_err(ctx, "the %s must be an absolute path", what);
		return -EINVAL;
	}
	r = place_device(ctx, what, path, &dev, &is_blkdev);
	if (r < 0)
		return r;
	if (blkdev_kname(ctx, dev, kname, sizeof(kname)) < 0 ||
	    blkdev_kname(ctx, origin, okname, sizeof(okname)) < 0 ||
	    (top && blkdev_kname(ctx, top, tkname, sizeof(tkname)) < 0))
		return -ENODEV;
	n = blkdev_stack(ctx, kname, names, 32);
	for (i = 0; i < n; i++) {
		if (top && strcmp(names[i], tkname) == 0) {
			log_err(ctx, "%s %s is on %s itself: it is in RAM, and in "
				"the device being merged; put it on another disk",
				what, path, name);
			return -EINVAL;
		}
		if (strcmp(names[i], okname) == 0) {
			log_err(ctx, "%s %s is on /dev/%s, the origin%s; put it on "
				"another disk", what, path, okname,
				top ? " being merged" : "");
			return -EINVAL;
		}
		if (strncmp(names[i], "zram", 4) == 0 ||
		    strncmp(names[i], "ram", 3) == 0) {
			log_err(ctx, "%s %s is on /dev/%s, a RAM disk; it would not "
				"survive a power cut", what, path, names[i]);
			return -EINVAL;
		}
		/* The stack ends at a loop image on a tmpfs: no disk under it. */
		if (strncmp(names[i], "loop", 4) == 0 &&
		    loop_backing_file(ctx, names[i], file, sizeof(file)) == 0 &&
		    in_ram_fs(file)) {
			log_err(ctx, "%s %s is on /dev/%s, whose image %s is in RAM "
				"(a tmpfs); it would not survive a power cut; put it "
				"on a disk", what, path, names[i], file);
			return -EINVAL;
		}
	}
	if (is_blkdev) {
		/* The origin on a partition of this disk is fine; the reverse
		 * (a partition of the origin) was caught above. */
		n = blkdev_stack(ctx, okname, names, 32);
		for (i = 0; i < n; i++)
			if (strcmp(names[i], kname) == 0) {
				log_err(ctx, "%s %s holds the origin /dev/%s; use a "
					"device of its own", what, path, okname);
				return -EINVAL;
			}
	}
	return 0;
}

int journal_check_place(struct rosnap_ctx *ctx, const char *path,
			dev_t origin, dev_t top, const char *name)
{
	struct stat st;

	if (path && path[0] == '/' && stat(path, &st) == 0 &&
	    !S_ISBLK(st.st_mode)) {
		log_err(ctx, "journal %s already exists; if it is the journal of "
			"an interrupted merge, run 'rosnap recover %s', otherwise "
			"choose another path", path, path);
		return -EEXIST;
	}
	return place_check(ctx, "journal", path, origin, top, name);
}

static int write_header(struct rosnap_ctx *ctx, struct journal *j)
{
	unsigned char buf[JOURNAL_HEADER_BYTES];
	ssize_t n;
	int r;

	r = journal_encode(&j->h, buf);
	if (r < 0)
		return r;
	n = pwrite(j->fd, buf, sizeof(buf), 0);
	if (n != (ssize_t)sizeof(buf) || fsync(j->fd) < 0) {
		r = n < 0 || n == (ssize_t)sizeof(buf) ? -errno : -EIO;
		log_err(ctx, "cannot write the journal header to %s: %s", j->path,
			strerror(-r));
		return r;
	}
	return 0;
}

int journal_create(struct rosnap_ctx *ctx, const char *path,
		   const struct journal_header *h, uint64_t want,
		   struct journal *j)
{
	struct stat st;
	uint64_t size;
	bool wrote;
	int r;

	memset(j, 0, sizeof(*j));
	j->data_at = JOURNAL_HEADER_BYTES;
	snprintf(j->path, sizeof(j->path), "%s", path);
	j->h = *h;
	j->h.version = JOURNAL_VERSION;
	j->h.state = JOURNAL_COPYING;
	if (stat(path, &st) == 0 && S_ISBLK(st.st_mode)) {
		j->blkdev = true;
		/* Nobody may use it; but device-mapper will claim it, so keep
		 * no exclusive hold ourselves. */
		j->fd = open(path, O_RDWR | O_EXCL | O_CLOEXEC);
		if (j->fd >= 0) {
			close(j->fd);
			j->fd = open(path, O_RDWR | O_CLOEXEC);
		} else if (errno == EBUSY) {
			log_err(ctx, "journal device %s is in use (mounted, or held "
				"by another device)", path);
			return -EBUSY;
		}
	} else {
		j->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
					   O_CLOEXEC, 0600);
	}
	if (j->fd < 0) {
		r = -errno;
		log_err(ctx, "cannot create the journal %s: %s", path,
			strerror(-r));
		return r;
	}
	if (j->blkdev) {
		r = blkdev_size(j->fd, &size);
		if (r == 0)
			j->size = size > JOURNAL_HEADER_BYTES ?
					  (size - JOURNAL_HEADER_BYTES) / SECTOR_SIZE *
						  SECTOR_SIZE : 0;
		if (r == 0 && j->size > want)
			j->size = want;
		if (r == 0 && j->size < h->data_bytes) {
			char need[32];

			rosnap_format_size(JOURNAL_HEADER_BYTES + h->data_bytes,
					   need, sizeof(need));
			log_err(ctx, "journal device %s is too small: the copy needs "
				"%s", path, need);
			r = -ENOSPC;
		}
	} else {
		/* Sparse: only what is copied takes room on the disk. */
		j->size = want;
		r = ftruncate(j->fd, (off_t)(JOURNAL_HEADER_BYTES + want)) < 0 ?
			    -errno : 0;
		if (r < 0)
			log_err(ctx, "cannot make room for the journal %s: %s", path,
				strerror(-r));
	}
	/* A device found unfit is left as it was: nothing was written. */
	wrote = r == 0 || !j->blkdev;
	if (r == 0)
		r = write_header(ctx, j);
	if (r == 0 && !j->blkdev)
		r = fsync_parent(path);
	if (r < 0) {
		if (wrote)
			journal_remove(ctx, j);
		journal_close(j);
	}
	return r;
}

/* The journal's copy goes by blocks of this size (hashed, compared). */
#define COPY_BLOCK ((size_t)1 << 16)

static int journal_room(struct rosnap_ctx *ctx, const struct journal *j,
			uint64_t bytes)
{
	uint64_t end = (uint64_t)j->h.chunk_sectors * SECTOR_SIZE;
	char need[32];

	if (bytes + end <= j->size)
		return 0;
	rosnap_format_size(JOURNAL_HEADER_BYTES + bytes + end, need, sizeof(need));
	log_err(ctx, "%s is too small: the copy needs %s", j->path, need);
	return -ENOSPC;
}

/* Whom to tell how a copy goes. */
struct copy_report {
	struct rosnap_ctx *ctx;
	rosnap_progress_fn fn;
	void *userdata;
};

/*
 * Copy bytes of store from src, block by block.  record: note each
 * block's hash (the first copy); otherwise skip a block whose hash is
 * the one the first copy noted for it.  rep (may be NULL) is told after
 * each block; non-zero from it stops the copy: -ECANCELED.
 */
static int copy_blocks(struct journal *j, int src, uint64_t bytes, bool record,
		       uint64_t *written, const struct copy_report *rep)
{
	uint64_t done = 0, i, sum;
	char *buf = j->buf;
	ssize_t n;
	int r = 0;

	*written = 0;
	for (i = 0; done < bytes; i++) {
		size_t want = bytes - done < COPY_BLOCK ? (size_t)(bytes - done) :
							 COPY_BLOCK;

		/* Whole blocks, or a hash would stand for other bytes. */
		n = pread(src, buf, want, (off_t)done);
		if (n != (ssize_t)want) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		sum = j->sums ? siphash24(j->key, buf, (size_t)n) : 0;
		if (!record && j->sums && i < j->nsums &&
		    done + (uint64_t)n <= j->copied && j->sums[i] == sum) {
			done += (uint64_t)n;
			continue;
		}
		errno = 0; /* a short write sets none */
		if (pwrite(j->fd, buf, (size_t)n, (off_t)(j->data_at + done)) != n) {
			r = errno ? -errno : -EIO;
			break;
		}
		if (record && j->sums && i < j->nsums)
			j->sums[i] = sum;
		done += (uint64_t)n;
		*written += (uint64_t)n;
		if (rep && rep->fn && rep->fn(rep->ctx, done, bytes, rep->userdata)) {
			r = -ECANCELED;
			break;
		}
	}
	return r;
}

/* The buffers of both copies, before the device is suspended. */
static int copy_buffers(struct journal *j)
{
	/* src is read with O_DIRECT: the block buffer must be aligned. */
	if (!j->buf &&
	    posix_memalign((void **)&j->buf, ZRAM_BLOCK_SIZE, COPY_BLOCK) != 0) {
		j->buf = NULL;
		return -ENOMEM;
	}
	if (!j->zero)
		j->zero = calloc(1, (size_t)j->h.chunk_sectors * SECTOR_SIZE);
	return j->zero ? 0 : -ENOMEM;
}

int journal_precopy(struct rosnap_ctx *ctx, struct journal *j, int src,
		    uint64_t bytes, rosnap_progress_fn progress, void *userdata)
{
	struct copy_report rep = { ctx, progress, userdata };
	uint64_t written;
	int r;

	r = journal_room(ctx, j, bytes);
	if (r == 0)
		r = copy_buffers(j);
	if (r < 0)
		return r;
	free(j->sums);
	j->copied = 0;
	j->nsums = (bytes + COPY_BLOCK - 1) / COPY_BLOCK;
	j->sums = calloc(j->nsums ? j->nsums : 1, sizeof(*j->sums));
	if (!j->sums || getrandom(j->key, sizeof(j->key), GRND_NONBLOCK) !=
				(ssize_t)sizeof(j->key)) {
		/* No first copy: the frozen one copies everything. */
		log_dbg(ctx, "no first copy of the store (%s)",
			j->sums ? "no random key yet" : "out of memory");
		free(j->sums);
		j->sums = NULL;
		j->nsums = 0;
		return 0;
	}
	test_pause(ctx, "journal", "precopy");
	r = copy_blocks(j, src, bytes, true, &written, &rep);
	/* On the disk now, not in the page cache for the frozen sync. */
	if (r == 0 && fdatasync(j->fd) < 0)
		r = -errno;
	if (r == -ECANCELED) {
		log_notice(ctx, "the merge was cancelled while its store was "
			   "copied into the journal; nothing changed");
		return r;
	}
	if (r < 0) {
		log_err(ctx, "cannot copy the changes into the journal %s: %s",
			j->path, strerror(-r));
		return r;
	}
	j->copied = bytes;
	return 0;
}

int journal_fill(struct rosnap_ctx *ctx, struct journal *j, int src,
		 uint64_t bytes, uint64_t *written)
{
	size_t end = (size_t)j->h.chunk_sectors * SECTOR_SIZE;
	uint64_t w = 0;
	int r;

	/* Nothing is allocated with the root frozen: journal_precopy did it. */
	if (!j->buf || !j->zero) {
		log_err(ctx, "internal error: the journal's copy buffers were not "
			"made before the device was suspended");
		return -EINVAL;
	}
	r = journal_room(ctx, j, bytes);
	if (r == 0)
		r = copy_blocks(j, src, bytes, false, &w, NULL);
	/*
	 * A zeroed chunk after the store: the kernel reads metadata areas
	 * until one is not full, and must not take old bytes of a reused
	 * device (or of a longer first copy) for one.
	 */
	if (r == 0 && pwrite(j->fd, j->zero, end,
			     (off_t)(j->data_at + bytes)) != (ssize_t)end)
		r = -EIO;
	if (r == 0 && fdatasync(j->fd) < 0)
		r = -errno;
	if (r < 0 && r != -ENOSPC)
		log_err(ctx, "cannot copy the changes into the journal %s: %s",
			j->path, strerror(-r));
	if (written)
		*written = w;
	return r;
}

int journal_copy_store(struct rosnap_ctx *ctx, const struct rosnap_device *d,
		       struct journal *j, rosnap_progress_fn progress,
		       void *userdata, uint64_t *written)
{
	char type[32], status[256];
	struct snap_status st;
	int src, r;

	r = dm_status(ctx, d->name, type, sizeof(type), status, sizeof(status));
	if (r < 0)
		return r;
	r = snapshot_status_parse(status, &st);
	if (r < 0)
		return r;
	if (st.invalid || st.merge_failed) {
		log_err(ctx, "the store of %s is %s: there is nothing sound to "
			"copy", d->name, st.invalid ? "invalid" : "in a failed merge");
		return -EINVAL;
	}
	if (st.allocated == 0)
		st.allocated = d->cow.bytes / SECTOR_SIZE;
	/*
	 * dm-snapshot writes its store with bios, which leave the store's
	 * page cache alone: a buffered read may return what an earlier
	 * reader (blkid, dd, udev) cached, and the origin would get it.
	 */
	src = blkdev_open(ctx, d->cow.devnum, O_RDONLY | O_DIRECT);
	if (src < 0)
		return src;
	if (!written) {
		r = journal_precopy(ctx, j, src, st.allocated * SECTOR_SIZE,
				    progress, userdata);
	} else {
		j->h.data_bytes = st.allocated * SECTOR_SIZE;
		r = journal_fill(ctx, j, src, j->h.data_bytes, written);
	}
	close(src);
	return r;
}

int journal_set_state(struct rosnap_ctx *ctx, struct journal *j,
		      enum journal_state state)
{
	j->h.state = state;
	return write_header(ctx, j);
}

int journal_open(struct rosnap_ctx *ctx, const char *path, struct journal *j)
{
	unsigned char buf[JOURNAL_HEADER_BYTES];
	const char *why = NULL;
	struct stat st;
	uint64_t size;
	ssize_t n;
	int r;

	memset(j, 0, sizeof(*j));
	j->fd = -1;
	j->data_at = JOURNAL_HEADER_BYTES;
	snprintf(j->path, sizeof(j->path), "%s", path);
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		log_err(ctx, "%s is not a file or a block device", path);
		return -EINVAL;
	}
	j->fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (j->fd < 0) {
		r = -errno;
		log_err(ctx, "cannot open the journal %s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(j->fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		log_err(ctx, "%s is not a file or a block device", path);
		r = -EINVAL;
		goto fail;
	}
	j->blkdev = S_ISBLK(st.st_mode);
	n = pread(j->fd, buf, sizeof(buf), 0);
	if (n != (ssize_t)sizeof(buf)) {
		log_err(ctx, "%s is not a rosnap merge journal: too short", path);
		r = -EINVAL;
		goto fail;
	}
	r = journal_decode(buf, &j->h, &why);
	if (r < 0) {
		log_err(ctx, "%s is not a usable rosnap merge journal: %s", path,
			why);
		goto fail;
	}
	if (j->blkdev)
		r = blkdev_size(j->fd, &size);
	else
		size = (uint64_t)st.st_size;
	if (r == 0 && size < JOURNAL_HEADER_BYTES + j->h.data_bytes) {
		log_err(ctx, "journal %s is shorter than its header says: it was "
			"cut", path);
		r = -EINVAL;
	}
	if (r == 0)
		j->size = (size - JOURNAL_HEADER_BYTES) / SECTOR_SIZE * SECTOR_SIZE;
	if (r < 0)
		goto fail;
	if (j->h.state == JOURNAL_MERGING) {
		n = pread(j->fd, buf, 16, JOURNAL_HEADER_BYTES);
		if (n != 16 || cow_header_check(buf, j->h.chunk_sectors, &why) < 0) {
			log_err(ctx, "journal %s is damaged: %s", path,
				n != 16 ? "cannot read it" : why);
			r = -EINVAL;
			goto fail;
		}
	}
	return 0;
fail:
	journal_close(j);
	return r;
}

/*
 * Unlink path if its name still leads to the file open as fd: never
 * another file put in its place, nor through a symlink swapped in.
 */
static int unlink_if_same(int fd, const char *path)
{
	char *dir = strdup(path), *base = strdup(path);
	struct stat mine, st;
	const char *name;
	int dfd = -1, r = 0;

	if (!dir || !base) {
		r = -ENOMEM;
		goto out;
	}
	name = basename(base);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fstat(fd, &mine) < 0 ||
	    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_dev != mine.st_dev || st.st_ino != mine.st_ino)
		r = -ESTALE;
	else if (unlinkat(dfd, name, 0) < 0 || fsync(dfd) < 0)
		r = -errno;
out:
	if (dfd >= 0)
		close(dfd);
	free(dir);
	free(base);
	return r;
}

int journal_remove(struct rosnap_ctx *ctx, struct journal *j)
{
	static const unsigned char zero[JOURNAL_HEADER_BYTES];
	int r = 0;

	if (j->blkdev) {
		errno = 0;
		if (j->fd < 0 || pwrite(j->fd, zero, sizeof(zero), 0) !=
					 (ssize_t)sizeof(zero) ||
		    fsync(j->fd) < 0)
			r = errno ? -errno : -EIO;
	} else {
		r = unlink_if_same(j->fd, j->path);
	}
	if (r == -ESTALE)
		log_warn(ctx, "the journal %s was replaced since rosnap opened "
			 "it; left in place", j->path);
	else if (r < 0)
		log_warn(ctx, "cannot remove the journal %s: %s", j->path,
			 strerror(-r));
	return r;
}

void journal_close(struct journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	free(j->sums);
	j->sums = NULL;
	j->nsums = 0;
	free(j->buf);
	j->buf = NULL;
	free(j->zero);
	j->zero = NULL;
}
