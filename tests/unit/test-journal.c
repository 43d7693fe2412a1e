/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Merge journal headers: what recover trusts before it writes an origin. */
#include <errno.h>
#include <string.h>

#include <zlib.h>

#include "unit.h"

static void header(struct journal_header *h)
{
	memset(h, 0, sizeof(*h));
	h->state = JOURNAL_MERGING;
	h->data_bytes = 1 << 20;
	h->chunk_sectors = 8;
	h->origin_size = 256 << 20;
	h->created = 1764300000;
	strcpy(h->origin_uuid, "5b1a0f6e-0d3c-4a57-9f3e-2f0d1c8b7a61");
	strcpy(h->origin_path, "/dev/vdc");
	strcpy(h->name, "rosnap-vdc");
	strcpy(h->origin_ptuuid, "0e5c2a8f-6d41-4b8e-a1f3-3c9d7e2b5a10");
	strcpy(h->origin_partuuid, "");
}

static void seal(unsigned char *buf)
{
	uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf,
				       JOURNAL_HEADER_BYTES - 4);
	unsigned char *p = buf + JOURNAL_HEADER_BYTES - 4;

	p[0] = (unsigned char)crc;
	p[1] = (unsigned char)(crc >> 8);
	p[2] = (unsigned char)(crc >> 16);
	p[3] = (unsigned char)(crc >> 24);
}

/* The origin's identity, partition table UUID included, survives. */
static void round_trip(void **state)
{
	unsigned char buf[JOURNAL_HEADER_BYTES];
	struct journal_header h, got;
	const char *why = NULL;

	(void)state;
	header(&h);
	assert_int_equal(journal_encode(&h, buf), 0);
	assert_int_equal(journal_decode(buf, &got, &why), 0);
	assert_int_equal(got.version, JOURNAL_VERSION);
	assert_string_equal(got.origin_uuid, h.origin_uuid);
	assert_string_equal(got.origin_ptuuid, h.origin_ptuuid);
	assert_string_equal(got.origin_partuuid, "");
	assert_int_equal(got.origin_size, h.origin_size);
	/* One bit changed anywhere: the checksum says so. */
	buf[400] ^= 1;
	assert_int_equal(journal_decode(buf, &got, &why), -EINVAL);
	assert_string_equal(why, "its header checksum is wrong");
}

/* A journal of the previous version (no partition UUIDs) still recovers. */
static void version_one(void **state)
{
	unsigned char buf[JOURNAL_HEADER_BYTES];
	struct journal_header h, got;
	const char *why = NULL;

	(void)state;
	header(&h);
	h.origin_ptuuid[0] = '\0';
	assert_int_equal(journal_encode(&h, buf), 0);
	buf[8] = 1;	/* the version field */
	seal(buf);
	assert_int_equal(journal_decode(buf, &got, &why), 0);
	assert_int_equal(got.version, 1);
	assert_string_equal(got.origin_ptuuid, "");
	/* Version 1 has nothing after its name: bytes there are damage. */
	buf[376] = 'x';
	seal(buf);
	assert_int_equal(journal_decode(buf, &got, &why), -EINVAL);
	/* And a version from the future is refused. */
	header(&h);
	assert_int_equal(journal_encode(&h, buf), 0);
	buf[8] = 3;
	seal(buf);
	assert_int_equal(journal_decode(buf, &got, &why), -EINVAL);
	assert_string_equal(why, "it has a journal version this rosnap does not know");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(version_one),
	};

	return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
