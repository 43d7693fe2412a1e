/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Headers of stores on disk: what attach trusts before it applies a store
 * of changes to an origin.
 */
#include <errno.h>
#include <string.h>

#include "unit.h"

static void header(struct store_header *h)
{
	memset(h, 0, sizeof(*h));
	h->state = STORE_DETACHED;
	h->store_bytes = 128 << 20;
	h->chunk_sectors = 8;
	h->origin_size = 256 << 20;
	h->created = 1764300000;
	h->changed = 1764300100;
	memcpy(h->key, "0123456789abcdef", 16);
	h->fp[0] = 0x1122334455667788ULL;
	h->fp[1] = 0x99aabbccddeeff00ULL;
	strcpy(h->origin_uuid, "5b1a0f6e-0d3c-4a57-9f3e-2f0d1c8b7a61");
	strcpy(h->origin_ptuuid, "0e5c2a8f-6d41-4b8e-a1f3-3c9d7e2b5a10");
	strcpy(h->origin_path, "/dev/vdc");
	strcpy(h->name, "ps");
}

/* Reseal a header changed on purpose, so that the checks after the
 * checksum are reached. */
static void seal(unsigned char *buf)
{
	field_put32(buf + STORE_HEADER_BYTES - 4,
		    field_crc(buf, STORE_HEADER_BYTES - 4));
}

/* Everything attach compares survives the trip. */
static void round_trip(void **state)
{
	unsigned char buf[STORE_HEADER_BYTES];
	struct store_header h, got;
	const char *why = NULL;

	(void)state;
	header(&h);
	assert_int_equal(store_encode(&h, buf), 0);
	assert_true(store_has_magic(buf));
	assert_int_equal(store_decode(buf, &got, &why), 0);
	assert_int_equal(got.version, STORE_VERSION);
	assert_int_equal(got.state, STORE_DETACHED);
	assert_int_equal(got.store_bytes, h.store_bytes);
	assert_int_equal(got.chunk_sectors, 8);
	assert_int_equal(got.origin_size, h.origin_size);
	assert_memory_equal(got.key, h.key, 16);
	assert_true(got.fp[0] == h.fp[0] && got.fp[1] == h.fp[1]);
	assert_string_equal(got.origin_uuid, h.origin_uuid);
	assert_string_equal(got.origin_ptuuid, h.origin_ptuuid);
	assert_string_equal(got.origin_partuuid, "");
	assert_string_equal(got.origin_path, "/dev/vdc");
	assert_string_equal(got.name, "ps");
	assert_int_equal(got.flags, 0);
	/* A store encrypted with a random key says so. */
	h.flags = STORE_F_RANDOM_KEY;
	assert_int_equal(store_encode(&h, buf), 0);
	assert_int_equal(store_decode(buf, &got, &why), 0);
	assert_int_equal(got.flags, STORE_F_RANDOM_KEY);
	assert_int_equal(store_area_at(&got), STORE_HEADER_BYTES);
	/* LUKS2's header comes between rosnap's and the kernel's store. */
	h.flags = STORE_F_LUKS2;
	assert_int_equal(store_encode(&h, buf), 0);
	assert_int_equal(store_decode(buf, &got, &why), 0);
	assert_int_equal(got.flags, STORE_F_LUKS2);
	assert_int_equal(store_area_at(&got), STORE_HEADER_BYTES + STORE_LUKS2_BYTES);
	h.flags = STORE_F_RANDOM_KEY;
	/* ... but a save is never one (it is read back). */
	h.state = STORE_SAVED;
	h.saved_bytes = 4096;
	assert_int_equal(store_encode(&h, buf), 0);
	assert_int_equal(store_decode(buf, &got, &why), -EINVAL);
	/* A save encrypted with LUKS2 is read back with its key. */
	h.flags = STORE_F_LUKS2;
	assert_int_equal(store_encode(&h, buf), 0);
	assert_int_equal(store_decode(buf, &got, &why), 0);
	assert_int_equal(got.flags, STORE_F_LUKS2);
	h.flags = 0;
	/* A saved RAM store says how much of it was copied. */
	h.state = STORE_SAVED;
	h.saved_bytes = 3 << 20;
	assert_int_equal(store_encode(&h, buf), 0);
	assert_int_equal(store_decode(buf, &got, &why), 0);
	assert_int_equal(got.saved_bytes, 3 << 20);
	/* ... and only a saved one does, no more than the store holds. */
	h.saved_bytes = 0;
	assert_int_equal(store_encode(&h, buf), 0);
	assert_int_equal(store_decode(buf, &got, &why), -EINVAL);
	h.state = STORE_DETACHED;
	h.saved_bytes = 4096;
	assert_int_equal(store_encode(&h, buf), 0);
	assert_int_equal(store_decode(buf, &got, &why), -EINVAL);
	h.state = STORE_SAVED;
	h.saved_bytes = h.store_bytes + 4096;
	assert_int_equal(store_encode(&h, buf), 0);
	assert_int_equal(store_decode(buf, &got, &why), -EINVAL);
}

/* One bit changed anywhere (the fingerprint too) fails the checksum. */
static void damaged(void **state)
{
	unsigned char buf[STORE_HEADER_BYTES];
	struct store_header h, got;
	const char *why = NULL;
	size_t at[] = { 8, 40, 80, 100, 300, 2000, STORE_HEADER_BYTES - 1 };
	size_t i;

	(void)state;
	header(&h);
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		assert_int_equal(store_encode(&h, buf), 0);
		buf[at[i]] ^= 0x10;
		assert_int_equal(store_decode(buf, &got, &why), -EINVAL);
		assert_non_null(why);
	}
	memset(buf, 0, sizeof(buf));
	assert_false(store_has_magic(buf));
	assert_int_equal(store_decode(buf, &got, &why), -EINVAL);
	assert_string_equal(why, "it holds no rosnap store");
}

/* A sealed header with impossible values is refused all the same. */
static void impossible(void **state)
{
	static const struct {
		size_t off;
		unsigned char val;
	} bad[] = {
		{ 8, 2 },      /* version */
		{ 12, 9 },     /* state */
		{ 16, 1 },     /* header bytes */
		{ 32, 3 },     /* chunk not a power of two */
		{ 36, 4 },     /* unknown flags */
		{ 36, 3 },     /* a random key and LUKS2 */
		{ 40, 1 },     /* origin size not whole sectors */
		{ 700, 'x' },  /* past the last field */
	};
	unsigned char buf[STORE_HEADER_BYTES];
	struct store_header h, got;
	const char *why = NULL;
	size_t i;

	(void)state;
	header(&h);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(store_encode(&h, buf), 0);
		buf[bad[i].off] = bad[i].val;
		seal(buf);
		assert_int_equal(store_decode(buf, &got, &why), -EINVAL);
	}
	/* A store smaller than the smallest one, or not whole chunks. */
	h.store_bytes = 4096;
	assert_int_equal(store_encode(&h, buf), 0);
	assert_int_equal(store_decode(buf, &got, &why), -EINVAL);
	h.store_bytes = (1 << 20) + 512;
	assert_int_equal(store_encode(&h, buf), 0);
	assert_int_equal(store_decode(buf, &got, &why), -EINVAL);
	/* A name rosnap would not give, or an unprintable path. */
	header(&h);
	strcpy(h.name, "-bad");
	assert_int_equal(store_encode(&h, buf), 0);
	assert_int_equal(store_decode(buf, &got, &why), -EINVAL);
	header(&h);
	strcpy(h.origin_path, "/dev/\tvdc");
	assert_int_equal(store_encode(&h, buf), 0);
	assert_int_equal(store_decode(buf, &got, &why), -EINVAL);
	/* The longest path its field holds comes back whole. */
	memset(h.origin_path, 'a', sizeof(h.origin_path) - 1);
	h.origin_path[sizeof(h.origin_path) - 1] = '\0';
	assert_int_equal(store_encode(&h, buf), 0);
	assert_int_equal(store_decode(buf, &got, &why), 0);
	assert_string_equal(got.origin_path, h.origin_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(damaged),
		cmocka_unit_test(impossible),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
