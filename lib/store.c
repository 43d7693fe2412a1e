/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A store on disk: the copy-on-write store in a file or on a block device,
 * so that the changes outlive a reboot and can be attached again.
 *
 *   0     header (4096 bytes, little-endian, CRC32 at its end)
 *   4096  the kernel's persistent store ("PO"), store_bytes long
 *
 * or, encrypted with LUKS2 (crypt.c):
 *
 *   0     header
 *   4096  LUKS2's header, STORE_LUKS2_BYTES
 *   ...   the kernel's persistent store, encrypted, store_bytes long
 *
 * The header names the origin the changes belong to: its size, its
 * filesystem, partition table and partition UUIDs, and a fingerprint of
 * its contents (a keyed hash of its first and last MiB, where filesystems
 * and partition tables keep what every read-write mount changes, and of
 * 62 chunks spread over it).  The fingerprint is taken with the origin
 * read-only and held by the snapshot, and again whenever a merge has
 * changed the origin, so that it always describes the origin the store's
 * changes apply to.  A store applied to any other origin would corrupt
 * it silently: attach compares before it loads anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static const char store_magic[8] = { 'R', 'O', 'S', 'N', 'A', 'P', 'S', '\n' };

enum {
	OFF_MAGIC = 0,
	OFF_VERSION = 8,
	OFF_STATE = 12,
	OFF_HEADER_BYTES = 16,
	OFF_STORE_BYTES = 24,
	OFF_CHUNK = 32,
	OFF_FLAGS = 36,
	OFF_ORIGIN_SIZE = 40,
	OFF_CREATED = 48,
	OFF_CHANGED = 56,
	OFF_KEY = 64,
	OFF_FP = 80,
	OFF_ORIGIN_UUID = 96,
	OFF_ORIGIN_PTUUID = 160,
	OFF_ORIGIN_PARTUUID = 224,
	OFF_ORIGIN_PATH = 288,
	OFF_NAME = 416,
	OFF_SAVED_BYTES = 544,
	OFF_END = 552,
	OFF_CRC = STORE_HEADER_BYTES - 4,
};

const char *store_state_name(enum store_state state)
{
	switch (state) {
	case STORE_ATTACHED:
		return "attached";
	case STORE_DETACHED:
		return "detached";
	case STORE_MERGING:
		return "merging";
	case STORE_SAVED:
		return "saved";
	}
	return "unknown";
}

bool store_has_magic(const unsigned char *buf)
{
	return memcmp(buf, store_magic, sizeof(store_magic)) == 0;
}

int store_encode(const struct store_header *h, unsigned char *buf)
{
	memset(buf, 0, STORE_HEADER_BYTES);
	memcpy(buf + OFF_MAGIC, store_magic, sizeof(store_magic));
	field_put32(buf + OFF_VERSION, STORE_VERSION);
	field_put32(buf + OFF_STATE, h->state);
	field_put64(buf + OFF_HEADER_BYTES, STORE_HEADER_BYTES);
	field_put64(buf + OFF_STORE_BYTES, h->store_bytes);
	field_put32(buf + OFF_CHUNK, h->chunk_sectors);
	field_put32(buf + OFF_FLAGS, h->flags);
	field_put64(buf + OFF_ORIGIN_SIZE, h->origin_size);
	field_put64(buf + OFF_CREATED, h->created);
	field_put64(buf + OFF_CHANGED, h->changed);
	memcpy(buf + OFF_KEY, h->key, sizeof(h->key));
	field_put64(buf + OFF_FP, h->fp[0]);
	field_put64(buf + OFF_FP + 8, h->fp[1]);
	field_put64(buf + OFF_SAVED_BYTES, h->saved_bytes);
	if (field_put_str(buf + OFF_ORIGIN_UUID, OFF_ORIGIN_PTUUID - OFF_ORIGIN_UUID,
			  h->origin_uuid) < 0 ||
	    field_put_str(buf + OFF_ORIGIN_PTUUID,
			  OFF_ORIGIN_PARTUUID - OFF_ORIGIN_PTUUID,
			  h->origin_ptuuid) < 0 ||
	    field_put_str(buf + OFF_ORIGIN_PARTUUID,
			  OFF_ORIGIN_PATH - OFF_ORIGIN_PARTUUID,
			  h->origin_partuuid) < 0 ||
	    field_put_str(buf + OFF_ORIGIN_PATH, OFF_NAME - OFF_ORIGIN_PATH,
			  h->origin_path) < 0 ||
	    field_put_str(buf + OFF_NAME, OFF_SAVED_BYTES - OFF_NAME, h->name) < 0)
		return -ENAMETOOLONG;
	field_put32(buf + OFF_CRC, field_crc(buf, OFF_CRC));
	return 0;
}

int store_decode(const unsigned char *buf, struct store_header *h,
		 const char **why)
{
	const char *reason;
	size_t i;

	memset(h, 0, sizeof(*h));
	if (!store_has_magic(buf)) {
		reason = "it holds no rosnap store";
		goto bad;
	}
	if (field_get32(buf + OFF_CRC) != field_crc(buf, OFF_CRC)) {
		reason = "its header checksum is wrong (the header is damaged)";
		goto bad;
	}
	h->version = field_get32(buf + OFF_VERSION);
	if (h->version != STORE_VERSION) {
		reason = "it has a store version this rosnap does not know";
		goto bad;
	}
	h->state = field_get32(buf + OFF_STATE);
	h->store_bytes = field_get64(buf + OFF_STORE_BYTES);
	h->chunk_sectors = field_get32(buf + OFF_CHUNK);
	h->flags = field_get32(buf + OFF_FLAGS);
	if (h->flags & ~STORE_F_KNOWN) {
		reason = "it uses a feature this rosnap does not know";
		goto bad;
	}
	h->origin_size = field_get64(buf + OFF_ORIGIN_SIZE);
	h->created = field_get64(buf + OFF_CREATED);
	h->changed = field_get64(buf + OFF_CHANGED);
	memcpy(h->key, buf + OFF_KEY, sizeof(h->key));
	h->fp[0] = field_get64(buf + OFF_FP);
	h->fp[1] = field_get64(buf + OFF_FP + 8);
	h->saved_bytes = field_get64(buf + OFF_SAVED_BYTES);
	reason = "its header holds impossible values";
	if (field_get64(buf + OFF_HEADER_BYTES) != STORE_HEADER_BYTES ||
	    (h->state != STORE_ATTACHED && h->state != STORE_DETACHED &&
	     h->state != STORE_MERGING && h->state != STORE_SAVED) ||
	    (h->state == STORE_SAVED) != (h->saved_bytes != 0) ||
	    h->saved_bytes > h->store_bytes ||
	    (h->state == STORE_SAVED && (h->flags & STORE_F_RANDOM_KEY)) ||
	    (h->flags & STORE_F_RANDOM_KEY && h->flags & STORE_F_LUKS2) ||
	    !h->chunk_sectors || (h->chunk_sectors & (h->chunk_sectors - 1)) ||
	    h->chunk_sectors > MAX_CHUNK_BYTES / SECTOR_SIZE ||
	    h->store_bytes < MIN_COW_BYTES ||
	    h->store_bytes % ((uint64_t)h->chunk_sectors * SECTOR_SIZE) ||
	    h->store_bytes > (UINT64_MAX >> 1) || !h->origin_size ||
	    h->origin_size % SECTOR_SIZE)
		goto bad;
	if (field_get_str(h->origin_uuid, buf + OFF_ORIGIN_UUID,
			  sizeof(h->origin_uuid)) < 0 ||
	    field_get_str(h->origin_ptuuid, buf + OFF_ORIGIN_PTUUID,
			  sizeof(h->origin_ptuuid)) < 0 ||
	    field_get_str(h->origin_partuuid, buf + OFF_ORIGIN_PARTUUID,
			  sizeof(h->origin_partuuid)) < 0 ||
	    field_get_str(h->origin_path, buf + OFF_ORIGIN_PATH,
			  sizeof(h->origin_path)) < 0 ||
	    field_get_str(h->name, buf + OFF_NAME, sizeof(h->name)) < 0 ||
	    (h->name[0] && rosnap_check_name(h->name, NULL) < 0))
		goto bad;
	for (i = OFF_END; i < OFF_CRC; i++)
		if (buf[i])
			goto bad;
	return 0;
bad:
	if (why)
		*why = reason;
	return -EINVAL;
}

/* Where the fingerprint reads: 4 KiB chunks spread over the origin. */
#define FP_SAMPLES 62
#define FP_EDGE ((uint64_t)1 << 20)
#define FP_CHUNK 4096u
#define FP_PARTS STORE_FP_PARTS

static int hash_range(int fd, unsigned char *buf, uint64_t off, uint64_t len,
		      const unsigned char key[16], uint64_t *out)
{
	ssize_t n;

	n = pread(fd, buf, (size_t)len, (off_t)off);
	if (n != (ssize_t)len)
		return n < 0 ? -errno : -EIO;
	*out = siphash24(key, buf, (size_t)len);
	return 0;
}

int store_fingerprint_prepare(struct rosnap_ctx *ctx, struct store *s,
			      dev_t origin)
{
	int n;

	if (!s->fpbuf &&
	    posix_memalign((void **)&s->fpbuf, FP_CHUNK, FP_EDGE) != 0) {
		s->fpbuf = NULL;
		return -ENOMEM;
	}
	n = part_starts(ctx, origin, s->fpparts, FP_PARTS);
	s->nfpparts = n > 0 ? (unsigned)n : 0;
	return 0;
}

int store_fingerprint(struct rosnap_ctx *ctx, struct store *s, dev_t origin,
		      uint64_t fp[2])
{
	uint64_t sums[FP_SAMPLES + FP_PARTS + 1], size = s->h.origin_size, edge, off;
	const unsigned char *key = s->h.key;
	unsigned char *buf;
	unsigned i, n = 0;
	int fd, r;

	fp[0] = fp[1] = 0;
	if (!s->fpbuf && (r = store_fingerprint_prepare(ctx, s, origin)) < 0)
		return r;
	buf = s->fpbuf;
	/* Past the page cache: what is on the disk. */
	fd = blkdev_open(ctx, origin, O_RDONLY | O_DIRECT);
	if (fd < 0)
		return fd;
	edge = size < FP_EDGE ? size : FP_EDGE;
	r = hash_range(fd, buf, 0, edge, key, &fp[0]);
	/* The last MiB: a GPT's backup, md and LVM metadata at the end. */
	off = size > FP_EDGE ? (size - FP_EDGE) & ~(uint64_t)(FP_CHUNK - 1) : 0;
	if (r == 0)
		r = hash_range(fd, buf, off, size - off > FP_EDGE ? FP_EDGE : size - off,
			       key, &sums[n++]);
	/* A whole disk: the start of each partition, its superblock. */
	for (i = 0; r == 0 && i < s->nfpparts; i++) {
		off = s->fpparts[i] & ~(uint64_t)(FP_CHUNK - 1);
		if (off >= size)
			continue;
		r = hash_range(fd, buf, off, size - off > FP_EDGE ? FP_EDGE : size - off,
			       key, &sums[n++]);
	}
	for (i = 1; r == 0 && i <= FP_SAMPLES; i++) {
		off = (size / (FP_SAMPLES + 1) * i) & ~(uint64_t)(FP_CHUNK - 1);
		if (off + FP_CHUNK > size)
			continue;
		r = hash_range(fd, buf, off, FP_CHUNK, key, &sums[n++]);
	}
	if (r == 0)
		fp[1] = siphash24(key, sums, n * sizeof(sums[0]));
	else
		log_err(ctx, "cannot read the origin for its fingerprint: %s",
			strerror(-r));
	close(fd);
	return r;
}

void store_close(struct store *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->fpbuf);
	s->fpbuf = NULL;
}

int store_write_header(struct rosnap_ctx *ctx, struct store *s)
{
	unsigned char buf[STORE_HEADER_BYTES];
	ssize_t n;
	int r;

	s->h.changed = (uint64_t)time(NULL);
	r = store_encode(&s->h, buf);
	if (r < 0)
		return r;
	errno = 0;
	s->wrote = true;
	n = pwrite(s->fd, buf, sizeof(buf), 0);
	if (n != (ssize_t)sizeof(buf) || fsync(s->fd) < 0) {
		r = errno ? -errno : -EIO;
		log_err(ctx, "cannot write the header of the store %s: %s", s->path,
			strerror(-r));
		return r;
	}
	return 0;
}

int store_set_state(struct rosnap_ctx *ctx, struct store *s,
		    enum store_state state, dev_t origin)
{
	int r;

	if (state != STORE_MERGING) {
		r = store_fingerprint(ctx, s, origin, s->h.fp);
		if (r < 0)
			return r;
	}
	/* Only a saved copy says how much was copied. */
	if (state != STORE_SAVED)
		s->h.saved_bytes = 0;
	s->h.state = state;
	return store_write_header(ctx, s);
}

int store_detach(struct rosnap_ctx *ctx, struct store *s, dev_t origin)
{
	struct origin o;
	int r;

	/* The UUIDs as they are now: a merge may have changed them. */
	r = origin_open_devnum(ctx, origin, &o);
	if (r < 0)
		return r;
	store_set_identity(s, &o);
	origin_close(ctx, &o, false);
	return store_set_state(ctx, s, STORE_DETACHED, origin);
}

int store_wipe(struct rosnap_ctx *ctx, struct store *s)
{
	static const unsigned char zero[STORE_HEADER_BYTES];
	int r;

	/* LUKS2's key slots first: the key file must open nothing dropped. */
	if ((s->h.flags & STORE_F_LUKS2) &&
	    (r = blkdev_zero(s->fd, STORE_HEADER_BYTES, STORE_LUKS2_BYTES)) < 0)
		log_warn(ctx, "cannot wipe the LUKS2 header of the store %s: %s",
			 s->path, strerror(-r));
	errno = 0;
	if (pwrite(s->fd, zero, sizeof(zero), 0) != (ssize_t)sizeof(zero) ||
	    fsync(s->fd) < 0) {
		log_warn(ctx, "cannot wipe the header of the store %s: %s", s->path,
			 strerror(errno ? errno : EIO));
		return errno ? -errno : -EIO;
	}
	return 0;
}

/*
 * Open path (never through a symbolic link it is): a file or a device;
 * excl: one nobody else uses (not one attached already).
 */
static int open_place(struct rosnap_ctx *ctx, const char *path, bool create,
		      bool excl, struct store *s)
{
	char loopname[64];
	struct stat st;
	int r;

	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->fd = -1;
	if (!create && stat(path, &st) == 0 && !S_ISREG(st.st_mode) &&
	    !S_ISBLK(st.st_mode)) {
		log_err(ctx, "store %s is not a file or a block device", path);
		return -EINVAL;
	}
	s->fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW |
				   (create ? O_CREAT | O_EXCL : 0), 0600);
	if (s->fd < 0 && errno == ELOOP) {
		/* /dev/disk/by-... links lead to devices: follow those only. */
		if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
			s->fd = open(path, O_RDWR | O_CLOEXEC);
		else
			errno = ELOOP;
	}
	if (s->fd < 0) {
		r = -errno;
		if (r == -ELOOP)
			log_err(ctx, "store %s is a symbolic link; give the file "
				"it leads to", path);
		else if (r == -ENOENT && !create)
			log_err(ctx, "store %s does not exist", path);
		else
			log_err(ctx, "cannot open the store %s: %s", path,
				strerror(-r));
		return r;
	}
	s->created_file = create;
	if (fstat(s->fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		log_err(ctx, "store %s is not a file or a block device", path);
		store_close(s);
		return -EINVAL;
	}
	s->blkdev = S_ISBLK(st.st_mode);
	if (s->blkdev) {
		s->dev = st.st_rdev;
		r = blkdev_size(s->fd, &s->size);
		if (r < 0) {
			store_close(s);
			return r;
		}
	} else {
		s->size = (uint64_t)st.st_size;
	}
	if (!s->blkdev && excl &&
	    image_in_loop(ctx, &st, loopname, sizeof(loopname))) {
		log_err(ctx, "store %s is in use: /dev/%s reads it (the store of "
			"another device?)", path, loopname);
		store_close(s);
		return -EBUSY;
	}
	if (s->blkdev && excl) {
		/* Unused by anyone else; device-mapper claims it later. */
		r = open(path, O_RDONLY | O_EXCL | O_CLOEXEC);
		if (r < 0 && errno == EBUSY) {
			log_err(ctx, "store device %s is in use (mounted, or held "
				"by another device)", path);
			store_close(s);
			return -EBUSY;
		}
		if (r >= 0)
			close(r);
	}
	return 0;
}

static int read_head(struct store *s, unsigned char *buf)
{
	ssize_t n = pread(s->fd, buf, STORE_HEADER_BYTES, 0);

	if (n < 0)
		return -errno;
	if (n < (ssize_t)STORE_HEADER_BYTES)
		memset(buf + n, 0, STORE_HEADER_BYTES - (size_t)n);
	return 0;
}

static int open_store(struct rosnap_ctx *ctx, const char *path, bool excl,
		      struct store *s)
{
	unsigned char buf[STORE_HEADER_BYTES];
	const char *why = NULL;
	int r;

	r = open_place(ctx, path, false, excl, s);
	if (r < 0)
		return r;
	r = read_head(s, buf);
	if (r == 0 && s->size < STORE_HEADER_BYTES) {
		why = "it is too short to be one";
		r = -EINVAL;
	}
	if (r == 0)
		r = store_decode(buf, &s->h, &why);
	/* A save holds what its store held, on a device maybe smaller
	 * than the store's capacity. */
	if (r == 0 && s->size < store_area_at(&s->h) + (s->h.state == STORE_SAVED ?
			s->h.saved_bytes : s->h.store_bytes)) {
		why = "it is shorter than its header says (it was cut)";
		r = -EINVAL;
	}
	if (r < 0) {
		log_err(ctx, "%s is not a usable rosnap store: %s", path,
			why ? why : strerror(-r));
		store_close(s);
	}
	return r;
}

int store_open(struct rosnap_ctx *ctx, const char *path, struct store *s)
{
	return open_store(ctx, path, true, s);
}

/* Refuse to overwrite what path holds unless told to. */
static int check_overwrite(struct rosnap_ctx *ctx, struct store *s,
			   bool overwrite)
{
	unsigned char buf[STORE_HEADER_BYTES];
	struct store_header h;
	char type[32];
	bool ours;
	int r;

	r = read_head(s, buf);
	if (r < 0)
		return r;
	ours = store_decode(buf, &h, NULL) == 0;
	/* Half an origin's changes: never dropped, whatever the flags (but
	 * a random key's went with its device). */
	if (ours && h.state == STORE_MERGING && !(h.flags & STORE_F_RANDOM_KEY)) {
		log_err(ctx, "%s holds the store of a merge into %s that was cut "
			"short: that origin is half merged; 'rosnap attach %s "
			"--store %s' finishes the merge", s->path, h.origin_path,
			h.origin_path, s->path);
		return -EBUSY;
	}
	if (store_has_magic(buf)) {
		if (overwrite && ours && h.state == STORE_MERGING)
			log_warn(ctx, "%s held the changes of a merge into %s that "
				 "was cut short, encrypted with a key that is gone: "
				 "%s is half merged, check its filesystem", s->path,
				 h.origin_path, h.origin_path);
		if (overwrite)
			return 0;
		if (ours && (h.flags & STORE_F_RANDOM_KEY))
			log_err(ctx, "%s holds a rosnap store already (changes of "
				"%s, encrypted with a random key that is gone); "
				"--overwrite reuses the place", s->path,
				h.origin_path);
		else if (ours)
			log_err(ctx, "%s holds a rosnap store already (changes of "
				"%s, %s); 'rosnap attach %s --store %s' brings them "
				"back, --overwrite drops them", s->path,
				h.origin_path, store_state_name(h.state),
				h.origin_path, s->path);
		else
			log_err(ctx, "%s holds a damaged rosnap store; --overwrite "
				"drops it", s->path);
		return -EEXIST;
	}
	if (journal_has_magic(s->path)) {
		log_err(ctx, "%s is the journal of an interrupted merge; run "
			"'rosnap recover %s' first", s->path, s->path);
		return -EEXIST;
	}
	r = probe_contents(ctx, s->path, s->fd, type, sizeof(type));
	if (r < 0 && !overwrite)
		return r;
	if (r > 0 && !overwrite) {
		log_err(ctx, "%s holds %s data; --overwrite uses it for the store "
			"anyway (its data is lost)", s->path, type);
		return -EEXIST;
	}
	return 0;
}

int store_make(struct rosnap_ctx *ctx, const char *path, uint64_t bytes,
	       bool overwrite, const struct origin *o, uint32_t chunk,
	       const char *name, struct store *s)
{
	static const unsigned char zero[STORE_HEADER_BYTES];
	struct stat st;
	char a[32];
	int r;

	r = place_check(ctx, "store", path, o->devnum, 0, name);
	if (r < 0)
		return r;
	if (lstat(path, &st) < 0 && errno == ENOENT) {
		if (!bytes) {
			log_err(ctx, "store %s does not exist; give its size with "
				"--size to make it", path);
			return -EINVAL;
		}
		r = open_place(ctx, path, true, true, s);
		if (r < 0)
			return r;
		/* Sparse: what the kernel writes takes room on the disk. */
		if (ftruncate(s->fd, (off_t)(STORE_HEADER_BYTES + bytes)) < 0) {
			r = -errno;
			log_err(ctx, "cannot make room for the store %s: %s", path,
				strerror(-r));
			goto fail;
		}
		s->size = STORE_HEADER_BYTES + bytes;
		/* The file's name must survive a power cut too. */
		r = fsync_parent(path);
		if (r < 0) {
			log_err(ctx, "cannot sync the directory of %s: %s", path,
				strerror(-r));
			goto fail;
		}
	} else {
		r = open_place(ctx, path, false, true, s);
		if (r < 0)
			return r;
		r = check_overwrite(ctx, s, overwrite);
		if (r < 0)
			goto fail;
		if (bytes && bytes + STORE_HEADER_BYTES != s->size) {
			log_err(ctx, "store %s exists; --size applies to a new file "
				"(the store takes all of an existing one)", path);
			r = -EINVAL;
			goto fail;
		}
	}
	s->h.store_bytes = s->size > STORE_HEADER_BYTES ?
				   (s->size - STORE_HEADER_BYTES) / chunk * chunk : 0;
	if (s->h.store_bytes < MIN_COW_BYTES) {
		rosnap_format_size(STORE_HEADER_BYTES + MIN_COW_BYTES, a, sizeof(a));
		log_err(ctx, "store %s is too small: it needs at least %s", path, a);
		r = -EINVAL;
		goto fail;
	}
	s->fresh = true;
	s->h.version = STORE_VERSION;
	s->h.state = STORE_ATTACHED;
	s->h.chunk_sectors = chunk / SECTOR_SIZE;
	s->h.created = (uint64_t)time(NULL);
	store_set_identity(s, o);
	snprintf(s->h.name, sizeof(s->h.name), "%s", name);
	if (getrandom(s->h.key, sizeof(s->h.key), 0) != (ssize_t)sizeof(s->h.key)) {
		r = -errno;
		log_err(ctx, "cannot get a random key: %s", strerror(-r));
		goto fail;
	}
	/* An old store's header must not be read by the kernel as ours. */
	if (!s->created_file &&
	    pwrite(s->fd, zero, sizeof(zero), STORE_HEADER_BYTES) !=
		    (ssize_t)sizeof(zero)) {
		r = -EIO;
		log_err(ctx, "cannot write the store %s", path);
		goto fail;
	}
	return 0;
fail:
	store_unmake(ctx, s);
	return r;
}

void store_set_identity(struct store *s, const struct origin *o)
{
	s->h.origin_size = o->size;
	snprintf(s->h.origin_uuid, sizeof(s->h.origin_uuid), "%s", o->fsuuid);
	snprintf(s->h.origin_ptuuid, sizeof(s->h.origin_ptuuid), "%s", o->ptuuid);
	snprintf(s->h.origin_partuuid, sizeof(s->h.origin_partuuid), "%s",
		 o->partuuid);
	/* A hint for people: the UUIDs and the fingerprint decide. */
	snprintf(s->h.origin_path, sizeof(s->h.origin_path), "%.*s",
		 (int)sizeof(s->h.origin_path) - 1, o->file[0] ? o->file : o->path);
}

void store_unmake(struct rosnap_ctx *ctx, struct store *s)
{
	struct stat st, mine;

	if (s->fd < 0)
		return;
	/* Only the file this call made, and only if the name still leads to it. */
	if (s->created_file && fstat(s->fd, &mine) == 0 &&
	    lstat(s->path, &st) == 0 && st.st_dev == mine.st_dev &&
	    st.st_ino == mine.st_ino && unlink(s->path) < 0)
		log_warn(ctx, "cannot remove %s: %s", s->path, strerror(errno));
	else if (!s->created_file && s->wrote)
		store_wipe(ctx, s);
	store_close(s);
}

int store_check_identity(struct rosnap_ctx *ctx, const struct store *s,
			 const struct origin *o, bool force)
{
	const struct origin_id id = {
		s->h.origin_size, s->h.origin_uuid, s->h.origin_ptuuid,
		s->h.origin_partuuid,
	};
	char buf[512];
	const char *why = origin_differs(o, &id, "the store's origin", buf,
					 sizeof(buf));

	if (!why)
		return 0;
	if (force) {
		log_warn(ctx, "attaching %s to %s although %s (--force)", s->path,
			 o->path, why);
		return 0;
	}
	log_err(ctx, "%s does not belong to %s: %s; attaching it would corrupt "
		"%s ('rosnap attach --force' does it anyway)", s->path, o->path,
		why, o->path);
	return -EINVAL;
}

int store_check_fingerprint(struct rosnap_ctx *ctx, struct store *s,
			    const struct origin *o, bool force)
{
	uint64_t fp[2] = { 0, 0 };
	const char *why;
	int r;

	r = store_fingerprint(ctx, s, o->devnum, fp);
	if (r < 0)
		return r;
	if (fp[0] == s->h.fp[0] && fp[1] == s->h.fp[1])
		return 0;
	why = fp[0] != s->h.fp[0] ?
		      "its first MiB, where filesystems keep their superblocks, "
		      "changed" :
		      "its contents changed";
	if (force) {
		log_warn(ctx, "attaching %s to %s although %s since the store was "
			 "detached (--force)", s->path, o->path, why);
		return 0;
	}
	log_err(ctx, "%s was written since its changes were kept in %s: %s "
		"(mounted read-write, or booted without rosnap?); attaching it "
		"would corrupt %s ('rosnap attach --force' does it anyway)",
		o->path, s->path, why, o->path);
	return -EINVAL;
}

/* The kernel's header of the store, at offset at of fd. */
static int kernel_check(struct rosnap_ctx *ctx, const struct store *s, int fd,
			uint64_t at)
{
	const char *why = NULL;
	unsigned char *buf;
	int fl, r = 0;

	/*
	 * Past the page cache: the kernel wrote it with bios, which leave a
	 * block device's cache alone (kernel-facts.md).
	 */
	if (posix_memalign((void **)&buf, FP_CHUNK, FP_CHUNK) != 0)
		return -ENOMEM;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_DIRECT) < 0 ||
	    pread(fd, buf, FP_CHUNK, (off_t)at) != (ssize_t)FP_CHUNK) {
		log_err(ctx, "cannot read the store %s: %s", s->path,
			strerror(errno ? errno : EIO));
		r = -EIO;
	}
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl);
	/* All zeros: the kernel never wrote it, an empty store. */
	if (r == 0 && memcmp(buf, (const unsigned char[16]){ 0 }, 16) != 0 &&
	    cow_header_check(buf, s->h.chunk_sectors, &why) < 0) {
		log_err(ctx, "the kernel's part of the store %s is unusable: %s; "
			"its changes are lost ('rosnap create --store %s "
			"--overwrite' starts afresh)", s->path, why, s->path);
		r = -EINVAL;
	}
	free(buf);
	return r;
}

int store_kernel_check(struct rosnap_ctx *ctx, const struct store *s)
{
	/* Encrypted, it is read through its crypt device (store_crypt()). */
	if (s->h.flags & STORE_F_ENCRYPTED)
		return 0;
	return kernel_check(ctx, s, s->fd, STORE_HEADER_BYTES);
}

int store_use_key(struct rosnap_ctx *ctx, struct store *s, const char *key_file)
{
	if (s->h.flags & STORE_F_RANDOM_KEY) {
		log_err(ctx, "%s was encrypted with a random key, which went with "
			"its device: what it holds can never be read", s->path);
		return -EINVAL;
	}
	if (!(s->h.flags & STORE_F_LUKS2) != !key_file) {
		log_err(ctx, key_file ? "%s is not encrypted: leave --key-file out" :
			"%s is encrypted (LUKS2): give its key with --key-file",
			s->path);
		return -EINVAL;
	}
	s->key_file = key_file;
	return key_file ? encrypt_check_key_file(ctx, key_file) : 0;
}

/*
 * A fresh encrypted area reads as noise: the kernel must find its store
 * header zeroed (a new store), so zero it through the crypt device.
 */
static int crypt_zero_head(struct rosnap_ctx *ctx, dev_t dev, const char *name)
{
	int fd, r;

	fd = blkdev_open(ctx, dev, O_WRONLY);
	if (fd < 0)
		return fd;
	r = blkdev_zero(fd, 0, STORE_HEADER_BYTES);
	close(fd);
	if (r < 0)
		log_err(ctx, "cannot write %s: %s", name, strerror(-r));
	return r;
}

uint64_t store_area_at(const struct store_header *h)
{
	return STORE_HEADER_BYTES + (h->flags & STORE_F_LUKS2 ? STORE_LUKS2_BYTES :
								0);
}

int store_encrypt(struct rosnap_ctx *ctx, struct store *s, uint32_t flags,
		  const char *key_file)
{
	uint64_t chunk = (uint64_t)s->h.chunk_sectors * SECTOR_SIZE;
	char a[32];

	s->h.flags |= flags;
	s->key_file = key_file;
	s->h.store_bytes = s->size > store_area_at(&s->h) ?
		(s->size - store_area_at(&s->h)) / chunk * chunk : 0;
	if (s->h.store_bytes < MIN_COW_BYTES) {
		rosnap_format_size(store_area_at(&s->h) + MIN_COW_BYTES, a,
				   sizeof(a));
		log_err(ctx, "store %s is too small: encrypted, it needs at least "
			"%s", s->path, a);
		return -EINVAL;
	}
	return 0;
}

/* The crypt device NAME under the layer of an encrypted store, over dev. */
static int store_crypt(struct rosnap_ctx *ctx, struct store *s,
		       const char *name, dev_t *dev)
{
	uint64_t at = store_area_at(&s->h);
	int fd, r;

	/* What store_make() wrote in the clear must not land later, over
	 * the zeroes written through the crypt device. */
	if (s->fresh && fdatasync(s->fd) < 0) {
		r = -errno;
		log_err(ctx, "cannot write %s: %s", s->path, strerror(-r));
		return r;
	}
	if (s->h.flags & STORE_F_RANDOM_KEY) {
		r = encrypt_open_random(ctx, *dev, at / SECTOR_SIZE,
					s->h.store_bytes, name, dev);
	} else {
		if (!s->key_file) {
			log_err(ctx, "%s is encrypted (LUKS2): give its key with "
				"--key-file", s->path);
			return -EINVAL;
		}
		r = encrypt_open_luks2(ctx, s->fd, *dev, STORE_HEADER_BYTES, at,
				       s->fresh, s->key_file, s->path, name, dev);
	}
	if (r < 0)
		return r;
	if (s->fresh) {
		r = crypt_zero_head(ctx, *dev, name);
	} else {
		/* What store_kernel_check() could not read in the clear. */
		fd = blkdev_open(ctx, *dev, O_RDONLY);
		r = fd < 0 ? fd : kernel_check(ctx, s, fd, 0);
		if (fd >= 0)
			close(fd);
	}
	if (r < 0) {
		encrypt_close_name(ctx, name);
		return r;
	}
	/* Encrypted, in no layer yet. */
	test_pause(ctx, "store", "crypt");
	return 0;
}

int store_area_open(struct rosnap_ctx *ctx, struct store *s, const char *name,
		    struct store_area *a)
{
	int r;

	a->dev = s->dev;
	a->at = STORE_HEADER_BYTES;
	a->lfd = -1;
	a->crypt[0] = '\0';
	if (!s->blkdev) {
		r = loop_attach_fd(ctx, s->fd, s->path, false, 0, &a->dev, &a->lfd);
		if (r < 0)
			return r;
	}
	if (s->h.flags & STORE_F_ENCRYPTED) {
		snprintf(a->crypt, sizeof(a->crypt), "%s" CRYPT_SUFFIX, name);
		r = store_crypt(ctx, s, a->crypt, &a->dev);
		if (r < 0) {
			a->crypt[0] = '\0';
			store_area_close(ctx, a);
			return r;
		}
		a->at = 0;
	}
	return 0;
}

void store_area_close(struct rosnap_ctx *ctx, struct store_area *a)
{
	if (a->crypt[0])
		encrypt_close_name(ctx, a->crypt);
	a->crypt[0] = '\0';
	/* Whatever holds the loop device keeps it; else it detaches. */
	if (a->lfd >= 0)
		close(a->lfd);
	a->lfd = -1;
}

int store_layer(struct rosnap_ctx *ctx, struct store *s, const char *name,
		const struct rosnap_uuid *u, struct cow *cow)
{
	struct store_area a;
	int r;

	r = store_area_open(ctx, s, name, &a);
	if (r < 0)
		return r;
	r = cow_create_on(ctx, name, ROSNAP_BACKEND_DISK, a.dev,
			  a.at / SECTOR_SIZE, s->h.store_bytes, u, cow);
	/* The layer holds the crypt device and the loop now. */
	if (r == 0)
		a.crypt[0] = '\0';
	store_area_close(ctx, &a);
	return r;
}

int store_prepare_merged(struct rosnap_ctx *ctx, const struct rosnap_device *d,
			 struct store *s)
{
	struct origin o;
	int r;

	r = store_of(ctx, d, s);
	if (r < 0)
		return r;
	/* A merge may have given the origin new UUIDs (a new filesystem). */
	r = origin_open_devnum(ctx, d->origin_devnum, &o);
	if (r == 0) {
		store_set_identity(s, &o);
		origin_close(ctx, &o, false);
		r = store_fingerprint_prepare(ctx, s, d->origin_devnum);
	}
	if (r < 0)
		store_close(s);
	return r;
}

int store_of(struct rosnap_ctx *ctx, const struct rosnap_device *d,
	     struct store *s)
{
	const struct journal_ref *ref = &d->store;
	struct stat st;
	int r;

	if (d->backend != ROSNAP_BACKEND_DISK || !ref->path[0])
		return -ENOENT;
	/* Its layer holds it: not exclusive. */
	r = open_store(ctx, ref->path, false, s);
	if (r < 0)
		return r;
	/* The name must still lead to what the layer maps. */
	if (fstat(s->fd, &st) < 0 ||
	    (ref->blkdev ? st.st_rdev != ref->dev :
			   st.st_dev != ref->dev || st.st_ino != ref->ino)) {
		log_err(ctx, "%s is no longer the store of %s (moved or replaced "
			"since it was attached)", ref->path, d->name);
		store_close(s);
		return -ESTALE;
	}
	return 0;
}
