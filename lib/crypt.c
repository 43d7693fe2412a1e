/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Encrypted stores on disk: a dm-crypt device between the store and its
 * layer, made, found and removed through libcryptsetup (this file is its
 * only caller; no crypt table is written or parsed here).
 *
 *   store (device, or a loop over a file)
 *     -> dm-crypt NAME-cow.crypt, from the store's area (after its header)
 *       -> the store's layer NAME-cow, as for any store on disk
 *
 * The layers above see plaintext and do not know.  A random key comes
 * from getrandom() and goes to the kernel in the crypt table, nowhere
 * else: not into the store, a file, a log, an argument or the
 * environment.  Once the crypt device is gone (removed, or the power is
 * off) what the store holds can never be read again.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <libcryptsetup.h>

#include "internal.h"

const struct kmod_need KMOD_DM_CRYPT = { "dm_crypt", "CONFIG_DM_CRYPT", NULL };

/* aes-xts with two 256-bit keys: what cryptsetup itself defaults to. */
#define KEY_BYTES 64

static void cs_log(int level, const char *msg, void *usrptr)
{
	struct rosnap_ctx *ctx = usrptr;
	size_t n = strlen(msg);

	(void)level;
	/* libcryptsetup's words are for debugging; rosnap explains. */
	if (n && msg[n - 1] == '\n')
		n--;
	log_dbg(ctx, "libcryptsetup: %.*s", (int)n, msg);
}

/* libcryptsetup takes over libdevmapper's log while it works. */
static void cs_done(struct rosnap_ctx *ctx, struct crypt_device *cd)
{
	crypt_free(cd);
	dm_init(ctx);
}

static int cs_by_name(struct rosnap_ctx *ctx, const char *name,
			 struct crypt_device **cd)
{
	int r;

	crypt_set_log_callback(NULL, cs_log, ctx);
	r = crypt_init_by_name(cd, name);
	if (r < 0) {
		dm_init(ctx);
		return r;
	}
	crypt_set_log_callback(*cd, cs_log, ctx);
	return 0;
}

/* The name of dev's crypt device, or -ENOENT if dev is none. */
static int cs_name(struct rosnap_ctx *ctx, dev_t dev, char *name,
		      size_t len)
{
	struct dm_info_ex info;

	if (dm_info_devnum(ctx, dev, &info) < 0 ||
	    strncmp(info.uuid, "CRYPT-", 6) != 0)
		return -ENOENT;
	snprintf(name, len, "%s", info.name);
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
	char kname[32], path[64];
	struct dm_info_ex info;
	int r;

	r = module_ensure(ctx, &KMOD_DM_CRYPT);
	if (r < 0)
		return r;
	r = blkdev_kname(ctx, dev, kname, sizeof(kname));
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/dev/%s", kname);
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
		r = -errno;
		log_err(ctx, "cannot get a random key: %s", strerror(-r));
		return r;
	}
	crypt_set_log_callback(NULL, cs_log, ctx);
	r = crypt_init(&cd, path);
	if (r == 0) {
		crypt_set_log_callback(cd, cs_log, ctx);
		r = crypt_format(cd, CRYPT_PLAIN, "aes", "xts-plain64", NULL, NULL,
				 sizeof(key), &p);
	}
	/* Hidden from udev: nothing is to probe or link the ciphertext. */
	if (r == 0)
		r = crypt_activate_by_volume_key(cd, name, (const char *)key,
						 sizeof(key),
						 CRYPT_ACTIVATE_PRIVATE);
	explicit_bzero(key, sizeof(key));
	cs_done(ctx, cd);
	if (r < 0) {
		log_err(ctx, "cannot encrypt the store on %s: %s", path,
			strerror(-r));
		return r;
	}
	r = dm_info(ctx, name, &info);
	if (r < 0) {
		log_err(ctx, "%s vanished after it was made", name);
		encrypt_close_name(ctx, name);
		return r;
	}
	*out = info.devnum;
	return 0;
}

int encrypt_below(struct rosnap_ctx *ctx, dev_t dev, dev_t *below,
		const char **type)
{
	struct crypt_device *cd;
	char name[128];
	const char *path, *t;
	struct stat st;
	int r;

	r = cs_name(ctx, dev, name, sizeof(name));
	if (r < 0)
		return r;
	r = cs_by_name(ctx, name, &cd);
	if (r < 0)
		return r;
	path = crypt_get_device_name(cd);
	r = path && stat(path, &st) == 0 && S_ISBLK(st.st_mode) ? 0 : -ENODEV;
	if (r == 0)
		*below = st.st_rdev;
	/* rosnap makes plain dm-crypt with a random key, nothing else yet. */
	t = crypt_get_type(cd);
	if (type)
		*type = t && strcmp(t, CRYPT_PLAIN) == 0 ? "random" : "unknown";
	cs_done(ctx, cd);
	return r;
}

int encrypt_close_name(struct rosnap_ctx *ctx, const char *name)
{
	struct crypt_device *cd;
	int r;

	r = cs_by_name(ctx, name, &cd);
	if (r < 0)
		return r;
	r = crypt_deactivate(cd, name);
	cs_done(ctx, cd);
	if (r < 0)
		log_err(ctx, "cannot remove %s: %s", name, strerror(-r));
	return r;
}

int encrypt_close(struct rosnap_ctx *ctx, dev_t dev)
{
	char name[128];
	int r;

	r = cs_name(ctx, dev, name, sizeof(name));
	return r < 0 ? r : encrypt_close_name(ctx, name);
}
