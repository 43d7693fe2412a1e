/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Encrypted stores on disk: a dm-crypt device between the store and its
 * layer, made, found and removed through libcryptsetup (this file is its
 * only caller; no crypt table is written or parsed here).
 *
 *   store (device, or a loop over a file)
 *     -> dm-crypt NAME-cow.crypt, from the store's area
 *       -> the store's layer NAME-cow, as for any store on disk
 *
 * The layers above see plaintext and do not know.  A random key comes
 * from getrandom() and goes to the kernel in the crypt table, nowhere
 * else: not into the store, a file, a log, an argument or the
 * environment.  Once the crypt device is gone (removed, or the power is
 * off) what the store holds can never be read again.
 *
 * LUKS2 keeps the changes for whoever has the key file.  Its header sits
 * in the store after rosnap's (which stays in the clear, so that attach
 * checks the origin's identity before it asks for a key), in the
 * STORE_LUKS2_BYTES before the encrypted area.  libcryptsetup reads and
 * writes a header at the start of a device or file only, so it is handed
 * a copy in a memfd (a detached header, as "cryptsetup --header" takes),
 * written back into the store after a format.  What the key file holds is read by
 * libcryptsetup into memory it wipes, and serves as the passphrase.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libcryptsetup.h>

#include "internal.h"

const struct kmod_need KMOD_DM_CRYPT = { "dm_crypt", "CONFIG_DM_CRYPT", NULL };

/* aes-xts with two 256-bit keys: what cryptsetup itself defaults to. */
#define KEY_BYTES 64
/* LUKS2's two copies of its JSON metadata; its key slots after them. */
#define LUKS2_METADATA_BYTES UINT64_C(16384)

static void cs_log(int level, const char *msg, void *usrptr)
{
	struct rosnap_ctx *ctx = usrptr;
	size_t n = strlen(msg);

	if (n && msg[n - 1] == '\n')
		n--;
	/* Its errors say why rosnap's message that follows failed. */
	if (level == CRYPT_LOG_ERROR)
		log_err(ctx, "libcryptsetup: %.*s", (int)n, msg);
	else
		log_dbg(ctx, "libcryptsetup: %.*s", (int)n, msg);
}

/*
 * libcryptsetup takes over libdevmapper's log while it works, and keeps
 * its default log function: give both back (the ctx may go before the
 * next call, and the program may use libcryptsetup itself).
 */
static void cs_done(struct rosnap_ctx *ctx, struct crypt_device *cd)
{
	if (cd)
		crypt_free(cd);
	crypt_set_log_callback(NULL, NULL, NULL);
	dm_init(ctx);
}

/* A context for the header (a device or file) and the data (or NULL:
 * the same device). */
static int cs_init(struct rosnap_ctx *ctx, const char *header,
		   const char *data, struct crypt_device **cd)
{
	int r;

	crypt_set_log_callback(NULL, cs_log, ctx);
	r = data ? crypt_init_data_device(cd, header, data) :
		   crypt_init(cd, header);
	if (r < 0) {
		cs_done(ctx, NULL);
		log_err(ctx, "cannot open %s for encryption: %s", data ? data :
			header, strerror(-r));
		return r;
	}
	crypt_set_log_callback(*cd, cs_log, ctx);
	return 0;
}

/*
 * Whether a device is a crypt device rosnap made under a store's layer:
 * its name NAME-cow.crypt (which no rosnap device can take), and the
 * DM UUID libcryptsetup gives it, CRYPT-PLAIN-NAME or CRYPT-LUKS2-*-NAME.
 * A store on a dm-crypt device of the user's is no business of this file.
 */
static bool ours(const struct dm_info_ex *info)
{
	size_t n = strlen(info->name), u = strlen(info->uuid);
	const size_t suffix = strlen(COW_SUFFIX CRYPT_SUFFIX);

	if (n <= suffix ||
	    strcmp(info->name + n - suffix, COW_SUFFIX CRYPT_SUFFIX) != 0)
		return false;
	if (strncmp(info->uuid, "CRYPT-PLAIN-", 12) == 0)
		return strcmp(info->uuid + 12, info->name) == 0;
	return strncmp(info->uuid, "CRYPT-LUKS2-", 12) == 0 && u > n + 12 &&
	       info->uuid[u - n - 1] == '-' &&
	       strcmp(info->uuid + u - n, info->name) == 0;
}

/* The crypt device dev if rosnap made it, or -ENOENT. */
static int cs_name(struct rosnap_ctx *ctx, dev_t dev, struct dm_info_ex *info)
{
	if (dm_info_devnum(ctx, dev, info) < 0 || !ours(info))
		return -ENOENT;
	return 0;
}

static int dev_path(struct rosnap_ctx *ctx, dev_t dev, char *path, size_t len)
{
	char kname[32];
	int r;

	r = blkdev_kname(ctx, dev, kname, sizeof(kname));
	if (r == 0)
		snprintf(path, len, "/dev/%s", kname);
	return r;
}

/*
 * A record crypt-NAME says rosnap made the crypt device NAME (written
 * before it is made, removed once it is gone): the tidy at the next
 * command removes only those, never a user's device of the same name.
 */
static int made_record(struct rosnap_ctx *ctx, const char *name, bool made)
{
	if (made)
		return record_write(ctx, "crypt-", name, "");
	record_remove(ctx, "crypt-", name);
	return 0;
}

static bool made_here(struct rosnap_ctx *ctx, const char *name)
{
	return path_exists(ctx, RUN_DIR "/crypt-%s", name);
}

/* Activation failed: the record goes with the device, if none was left. */
static void made_undo(struct rosnap_ctx *ctx, const char *name)
{
	struct dm_info_ex info;

	if (dm_info(ctx, name, &info) < 0)
		made_record(ctx, name, false);
}

/* The device number of the crypt device NAME just made. */
static int activated(struct rosnap_ctx *ctx, const char *name, dev_t *out)
{
	struct dm_info_ex info;
	int r;

	r = dm_info(ctx, name, &info);
	if (r < 0) {
		log_err(ctx, "%s vanished after it was made", name);
		encrypt_close_name(ctx, name);
		return r;
	}
	*out = info.devnum;
	return 0;
}

int encrypt_open_random(struct rosnap_ctx *ctx, dev_t dev, uint64_t offset,
			uint64_t bytes, const char *name, dev_t *out)
{
	struct crypt_params_plain p = {
		.offset = offset,
		.size = bytes / SECTOR_SIZE,
		.sector_size = SECTOR_SIZE,
	};
	struct crypt_device *cd = NULL;
	unsigned char key[KEY_BYTES];
	char path[64];
	int r;

	r = module_ensure(ctx, &KMOD_DM_CRYPT);
	if (r == 0)
		r = dev_path(ctx, dev, path, sizeof(path));
	if (r < 0)
		return r;
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
		r = -errno;
		log_err(ctx, "cannot get a random key: %s", strerror(-r));
		return r;
	}
	r = made_record(ctx, name, true);
	if (r == 0)
		r = cs_init(ctx, path, NULL, &cd);
	if (r == 0) {
		r = crypt_format(cd, CRYPT_PLAIN, "aes", "xts-plain64", NULL, NULL,
				 sizeof(key), &p);
		/* Hidden from udev: nothing is to probe or link it. */
		if (r == 0)
			r = crypt_activate_by_volume_key(cd, name, (const char *)key,
							 sizeof(key),
							 CRYPT_ACTIVATE_PRIVATE);
		cs_done(ctx, cd);
		if (r < 0)
			log_err(ctx, "cannot encrypt the store on %s: %s", path,
				strerror(-r));
	}
	explicit_bzero(key, sizeof(key));
	if (r < 0)
		made_undo(ctx, name);
	return r < 0 ? r : activated(ctx, name, out);
}

static int copy_range(int from, uint64_t from_at, int to, uint64_t to_at,
		      uint64_t len)
{
	char buf[65536];
	uint64_t done;
	ssize_t n;

	for (done = 0; done < len; done += (uint64_t)n) {
		n = pread(from, buf, sizeof(buf) < len - done ? sizeof(buf) :
				     (size_t)(len - done), (off_t)(from_at + done));
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		errno = 0;
		if (pwrite(to, buf, (size_t)n, (off_t)(to_at + done)) != n)
			return errno ? -errno : -EIO;
	}
	return 0;
}

/* A memfd for a copy of the LUKS2 header at header_at in the store
 * (load), or for a new one; its path for libcryptsetup. */
static int header_copy(struct rosnap_ctx *ctx, int fd, uint64_t header_at,
		       bool load, char *path, size_t len)
{
	int m, r = 0;

	m = memfd_create("rosnap-luks2", MFD_CLOEXEC);
	if (m < 0 || ftruncate(m, (off_t)STORE_LUKS2_BYTES) < 0)
		r = -errno;
	if (r == 0 && load)
		r = copy_range(fd, header_at, m, 0, STORE_LUKS2_BYTES);
	if (r < 0) {
		log_err(ctx, "cannot copy the store's LUKS2 header: %s",
			strerror(-r));
		if (m >= 0)
			close(m);
		return r;
	}
	snprintf(path, len, "/proc/self/fd/%d", m);
	return m;
}

/* A key file "-" is standard input, as cryptsetup's --key-file=-
 * (libcryptsetup reads it for NULL: a pipe, a socket alike). */
static const char *key_path(const char *key_file)
{
	return strcmp(key_file, "-") == 0 ? NULL : key_file;
}

static const char *key_name(const char *key_file)
{
	return strcmp(key_file, "-") == 0 ? "standard input" : key_file;
}

static int read_key(struct rosnap_ctx *ctx, struct crypt_device *cd,
		    const char *key_file, char **key, size_t *len)
{
	int r;

	*key = NULL;
	*len = 0;
	r = crypt_keyfile_device_read(cd, key_path(key_file), key, len, 0, 0, 0);
	if (r < 0) {
		log_err(ctx, "cannot read the key from %s: %s", key_name(key_file),
			strerror(-r));
		return r;
	}
	if (*len == 0) {
		crypt_safe_free(*key);
		*key = NULL;
		log_err(ctx, "the key from %s is empty", key_name(key_file));
		return -EINVAL;
	}
	return 0;
}

int encrypt_check_name(struct rosnap_ctx *ctx, const char *name)
{
	/* libcryptsetup names it CRYPT-LUKS2-<32 hex>-NAME-cow.crypt, and
	 * cuts what passes device-mapper's 128 characters: ours() would not
	 * know it. */
	const size_t max = 128 - strlen("CRYPT-LUKS2-") - 33 -
			   strlen(COW_SUFFIX CRYPT_SUFFIX);

	if (strlen(name) <= max)
		return 0;
	log_err(ctx, "the name %s is too long for a store encrypted with LUKS2: "
		"it takes at most %zu characters; give a shorter one with --name",
		name, max);
	return -ENAMETOOLONG;
}

int encrypt_check_key_file(struct rosnap_ctx *ctx, const char *key_file)
{
	struct stat st;
	int fd, r = 0;

	/*
	 * Not read: standard input gives its key once.  A FIFO is not even
	 * opened (a second open would wait for a writer that is gone); a
	 * terminal or a directory would be refused only after the store is
	 * made.  (libcryptsetup says "Invalid argument" for any file it
	 * cannot open.)
	 */
	if (!key_path(key_file)) {
		if (isatty(STDIN_FILENO)) {
			log_err(ctx, "standard input is a terminal: give the key "
				"through a pipe, or in a file");
			return -EINVAL;
		}
		return 0;
	}
	fd = open(key_file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		log_err(ctx, "cannot open the key file %s: %s", key_file,
			strerror(-r));
	} else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		log_err(ctx, "the key file %s is not a file or a block device "
			"('-' reads a pipe on standard input)", key_file);
		r = -EINVAL;
	} else if (S_ISREG(st.st_mode) && st.st_size == 0) {
		log_err(ctx, "the key from %s is empty", key_file);
		r = -EINVAL;
	}
	if (fd >= 0)
		close(fd);
	return r;
}

/* A new LUKS2 header in cd, with a key slot for key; written back into
 * the store (fd) at header_at from its memfd m. */
static int luks2_format(struct rosnap_ctx *ctx, struct crypt_device *cd,
			uint64_t data_at, const char *key, size_t len, int m,
			int fd, uint64_t header_at, const char *store)
{
	struct crypt_params_luks2 p = { .sector_size = SECTOR_SIZE };
	int r;

	r = crypt_set_metadata_size(cd, LUKS2_METADATA_BYTES,
				    STORE_LUKS2_BYTES - 2 * LUKS2_METADATA_BYTES);
	if (r == 0)
		r = crypt_set_data_offset(cd, data_at / SECTOR_SIZE);
	if (r == 0)
		r = crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL,
				 KEY_BYTES, &p);
	if (r < 0) {
		log_err(ctx, "cannot make a LUKS2 header for %s: %s", store,
			strerror(-r));
		return r;
	}
	r = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0, key, len);
	if (r < 0) {
		log_err(ctx, "cannot add a key slot to %s: %s", store, strerror(-r));
		return r;
	}
	r = copy_range(m, 0, fd, header_at, STORE_LUKS2_BYTES);
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	if (r < 0)
		log_err(ctx, "cannot write the LUKS2 header into %s: %s", store,
			strerror(-r));
	return r;
}

int encrypt_open_luks2(struct rosnap_ctx *ctx, int fd, dev_t dev,
		       uint64_t header_at, uint64_t data_at, bool format,
		       const char *key_file, const char *store,
		       const char *name, dev_t *out)
{
	char header[64], data[64], *key = NULL;
	struct crypt_device *cd = NULL;
	uint32_t req = 0;
	size_t len = 0;
	int m, r;

	r = module_ensure(ctx, &KMOD_DM_CRYPT);
	if (r == 0)
		r = dev_path(ctx, dev, data, sizeof(data));
	if (r < 0)
		return r;
	m = header_copy(ctx, fd, header_at, !format, header, sizeof(header));
	if (m < 0)
		return m;
	r = made_record(ctx, name, true);
	if (r == 0)
		r = cs_init(ctx, header, data, &cd);
	if (r < 0)
		goto out;
	/* Read once: the key file may be a pipe. */
	r = read_key(ctx, cd, key_file, &key, &len);
	if (r == 0 && format) {
		/* Opened with the volume key it made: one key derivation. */
		r = luks2_format(ctx, cd, data_at, key, len, m, fd, header_at,
				 store);
		if (r < 0)
			goto done;
		r = crypt_activate_by_volume_key(cd, name, NULL, 0,
						 CRYPT_ACTIVATE_PRIVATE);
	} else if (r == 0) {
		r = crypt_load(cd, CRYPT_LUKS2, NULL);
		if (r < 0) {
			log_err(ctx, "the LUKS2 header in %s is unusable (damaged?): "
				"%s", store, strerror(-r));
			r = -EINVAL;
		/* As rosnap wrote it: the data where its area is, and nothing
		 * under way (a re-encryption) that a copy would lose. */
		} else if (crypt_get_data_offset(cd) != data_at / SECTOR_SIZE ||
			   crypt_persistent_flags_get(cd, CRYPT_FLAGS_REQUIREMENTS,
						      &req) < 0 || req) {
			log_err(ctx, "the LUKS2 header in %s is not the one rosnap "
				"made (changed by other tools?)", store);
			r = -EINVAL;
		}
		if (r == 0)
			r = crypt_activate_by_passphrase(cd, name, CRYPT_ANY_SLOT,
							 key, len,
							 CRYPT_ACTIVATE_PRIVATE);
		if (r == -EPERM) {
			log_err(ctx, "the key from %s opens no key slot of %s: it "
				"is not this store's key", key_name(key_file), store);
			r = -EINVAL;
		}
	}
	if (r < 0 && r != -EINVAL)
		log_err(ctx, "cannot open the encrypted store %s: %s", store,
			strerror(-r));
done:
	crypt_safe_free(key);
	cs_done(ctx, cd);
out:
	close(m);
	if (r < 0)
		made_undo(ctx, name);
	return r < 0 ? r : activated(ctx, name, out);
}

int encrypt_below(struct rosnap_ctx *ctx, dev_t dev, dev_t *below,
		  const char **type)
{
	struct dm_info_ex info;
	char kname[32], slave[32];
	int r;

	r = cs_name(ctx, dev, &info);
	if (r < 0)
		return r;
	*type = strncmp(info.uuid, "CRYPT-PLAIN-", 12) == 0 ? "random" : "luks2";
	/* The kernel's own answer: a LUKS2 header is not on the device to
	 * load, and a store's disk may be gone. */
	r = blkdev_kname(ctx, dev, kname, sizeof(kname));
	if (r == 0)
		r = blkdev_slave(ctx, kname, slave, sizeof(slave));
	if (r == 0)
		r = blkdev_devnum(ctx, slave, below);
	return r;
}

/* Removed as any device-mapper device: that needs no header, no key, not
 * even a table (a command killed while libcryptsetup made it). */
static int close_ours(struct rosnap_ctx *ctx, const struct dm_info_ex *info)
{
	int r = dm_remove(ctx, info->name);

	if (r < 0 && r != -ENXIO) {
		log_err(ctx, "cannot remove %s: %s", info->name, strerror(-r));
		return r;
	}
	made_record(ctx, info->name, false);
	return 0;
}

int encrypt_close_name(struct rosnap_ctx *ctx, const char *name)
{
	struct dm_info_ex info;

	if (dm_info(ctx, name, &info) < 0 || !ours(&info))
		return -ENOENT;
	return close_ours(ctx, &info);
}

int encrypt_close(struct rosnap_ctx *ctx, dev_t dev)
{
	struct dm_info_ex info;
	int r;

	r = cs_name(ctx, dev, &info);
	return r < 0 ? r : close_ours(ctx, &info);
}

void encrypt_tidy(struct rosnap_ctx *ctx)
{
	struct dm_info_ex info;
	char **names;
	int n, i;

	n = dm_list_uuid(ctx, "CRYPT-", &names);
	for (i = 0; i < n; i++) {
		/* Between commands, a store's layer holds each of them. */
		if (dm_info(ctx, names[i], &info) < 0 || !ours(&info) ||
		    info.open_count > 0 || !made_here(ctx, info.name))
			continue;
		if (close_ours(ctx, &info) == 0)
			log_notice(ctx, "removed %s, the crypt device of a store "
				   "that a killed rosnap command left", names[i]);
	}
	if (n >= 0)
		strv_free(names);
}
