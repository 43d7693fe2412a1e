/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DM UUIDs of rosnap devices: "ROSNAP-<role>-<id>[-ro][-loop]...".
 *
 * The UUID is the only place besides the table where the kernel keeps
 * something for us, so the facts rosnap needs to undo its work and that
 * the table cannot tell are recorded here: whether the origin was already
 * read-only, whether rosnap attached the origin's loop device, and, on
 * the copy-on-write layer a merge reads from, how much there was to merge
 * and whether the device is to be left unprotected afterwards.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "internal.h"

static const char *const roles[] = {
	[UUID_SNAP] = "snap",
	[UUID_COW] = "cow",
	[UUID_RECOVER] = "recover",
	[UUID_ORIGIN] = "origin",
};

static const struct {
	unsigned flag;
	const char *word;
} flag_words[] = {
	{ UUID_F_ORIGIN_RO, "ro" },
	{ UUID_F_LOOP, "loop" },
	{ UUID_F_UNPROTECT, "unprotect" },
	{ UUID_F_DISK, "disk" },
};

int uuid_format(const struct rosnap_uuid *u, char *buf, size_t len)
{
	size_t used;
	unsigned i;
	int n;

	if ((unsigned)u->role >= ARRAY_SIZE(roles) ||
	    strlen(u->id) != UUID_ID_LEN)
		return -EINVAL;
	n = snprintf(buf, len, UUID_PREFIX "%s-%s", roles[u->role], u->id);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	used = (size_t)n;
	for (i = 0; i < ARRAY_SIZE(flag_words); i++) {
		if (!(u->flags & flag_words[i].flag))
			continue;
		n = snprintf(buf + used, len - used, "-%s", flag_words[i].word);
		if (n < 0 || (size_t)n >= len - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	if (u->merge_total) {
		n = snprintf(buf + used, len - used, "-n%" PRIu64, u->merge_total);
		if (n < 0 || (size_t)n >= len - used)
			return -ENOSPC;
	}
	return 0;
}

static bool is_hex_id(const char *s, size_t n)
{
	size_t i;

	if (n != UUID_ID_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool uuid_is_rosnap(const char *s)
{
	return s && strncmp(s, UUID_PREFIX, strlen(UUID_PREFIX)) == 0;
}

int uuid_parse(const char *s, struct rosnap_uuid *u)
{
	const char *p, *dash;
	unsigned i;
	size_t n;

	if (!uuid_is_rosnap(s))
		return -EINVAL;
	p = s + strlen(UUID_PREFIX);
	dash = strchr(p, '-');
	if (!dash)
		return -EINVAL;
	n = (size_t)(dash - p);
	for (i = 0; i < ARRAY_SIZE(roles); i++)
		if (strlen(roles[i]) == n && strncmp(p, roles[i], n) == 0)
			break;
	if (i == ARRAY_SIZE(roles))
		return -EINVAL;
	u->role = (enum uuid_role)i;
	p = dash + 1;
	dash = strchr(p, '-');
	n = dash ? (size_t)(dash - p) : strlen(p);
	if (!is_hex_id(p, n))
		return -EINVAL;
	memcpy(u->id, p, n);
	u->id[n] = '\0';
	u->flags = 0;
	u->merge_total = 0;
	while (dash) {
		p = dash + 1;
		dash = strchr(p, '-');
		n = dash ? (size_t)(dash - p) : strlen(p);
		if (*p == 'n' && n > 1 && n <= 21 && !u->merge_total) {
			char num[21];

			memcpy(num, p + 1, n - 1);
			num[n - 1] = '\0';
			if (parse_u64(num, &u->merge_total) < 0 || !u->merge_total ||
			    num[0] == '0')
				return -EINVAL;
			continue;
		}
		if (u->merge_total)
			return -EINVAL;
		for (i = 0; i < ARRAY_SIZE(flag_words); i++)
			if (strlen(flag_words[i].word) == n &&
			    strncmp(p, flag_words[i].word, n) == 0)
				break;
		if (i == ARRAY_SIZE(flag_words) || (u->flags & flag_words[i].flag))
			return -EINVAL;
		u->flags |= flag_words[i].flag;
	}
	return 0;
}

int uuid_new(struct rosnap_uuid *u, enum uuid_role role, unsigned flags)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[UUID_ID_LEN / 2];
	ssize_t n;
	unsigned i;

	do {
		n = getrandom(rnd, sizeof(rnd), GRND_NONBLOCK);
	} while (n < 0 && errno == EINTR);
	/*
	 * Early in boot the entropy pool may not be ready; uniqueness, not
	 * secrecy, is what matters here, so fall back to the urandom pool.
	 */
	if (n < 0 && errno == EAGAIN)
		n = getrandom(rnd, sizeof(rnd), GRND_INSECURE);
	if (n != (ssize_t)sizeof(rnd))
		return n < 0 ? -errno : -EIO;
	for (i = 0; i < sizeof(rnd); i++) {
		u->id[2 * (size_t)i] = hex[rnd[i] >> 4];
		u->id[2 * (size_t)i + 1] = hex[rnd[i] & 15];
	}
	u->id[UUID_ID_LEN] = '\0';
	u->role = role;
	u->flags = flags;
	u->merge_total = 0;
	return 0;
}
