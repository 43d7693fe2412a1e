/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Merge journal headers: what recover trusts before it writes an origin;
 * and the two-pass copy of the store into a journal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The reference vector of the SipHash paper (appendix A). */
static void siphash_vector(void **state)
{
	unsigned char key[16], msg[15];
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)i;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)i;
	assert_true(siphash24(key, msg, sizeof(msg)) == 0xa129ca6149be45e5ULL);
}

#define BLOCK (64 << 10)

static void pattern(unsigned char *buf, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 31 + seed * 7 + (i >> 12));
}

/*
 * A first copy while live, then the store changes (a block rewritten,
 * more appended): the second pass writes exactly the changed and the new
 * blocks, and the journal then holds the store as it is.
 */
/* What a copy's progress callback was told; it cancels at call stop_at. */
struct told {
	unsigned calls, stop_at;
	uint64_t done, total;
};

static int tell(struct rosnap_ctx *ctx, uint64_t done, uint64_t total,
		void *data)
{
	struct told *t = data;

	(void)ctx;
	assert_true(done > t->done);
	t->calls++;
	t->done = done;
	t->total = total;
	return t->stop_at && t->calls == t->stop_at;
}

static void two_pass_copy(void **state)
{
	char dir[] = "/tmp/rosnap-journal-XXXXXX", jpath[64], spath[64];
	size_t first = 4 * BLOCK, last = 6 * BLOCK;
	unsigned char *store = malloc(last), *got = malloc(last);
	struct journal_header h;
	struct rosnap_ctx *ctx;
	struct told t = { 0 };
	struct journal j;
	uint64_t written;
	int src;

	(void)state;
	assert_non_null(store);
	assert_non_null(got);
	assert_non_null(mkdtemp(dir));
	snprintf(jpath, sizeof(jpath), "%s/journal", dir);
	snprintf(spath, sizeof(spath), "%s/store", dir);
	assert_int_equal(rosnap_new(&ctx), 0);
	header(&h);
	assert_int_equal(journal_create(ctx, jpath, &h, 8 * BLOCK, &j), 0);
	src = open(spath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(src >= 0);
	pattern(store, last, 1);
	assert_int_equal(pwrite(src, store, first, 0), (ssize_t)first);
	assert_int_equal(journal_precopy(ctx, &j, src, first, tell, &t), 0);
	/* Told block by block, up to the whole. */
	assert_int_equal(t.calls, first / BLOCK);
	assert_int_equal(t.done, first);
	assert_int_equal(t.total, first);

	/* Block 2 rewritten, blocks 4 and 5 new. */
	pattern(store + 2 * BLOCK, BLOCK, 2);
	assert_int_equal(pwrite(src, store, last, 0), (ssize_t)last);
	assert_int_equal(journal_fill(ctx, &j, src, last, &written), 0);
	assert_int_equal(written, 3 * BLOCK);
	assert_int_equal(pread(j.fd, got, last, JOURNAL_HEADER_BYTES), (ssize_t)last);
	assert_memory_equal(got, store, last);

	/* Without a first copy, everything is written. */
	free(j.sums);
	j.sums = NULL;
	j.nsums = 0;
	assert_int_equal(journal_fill(ctx, &j, src, last, &written), 0);
	assert_int_equal(written, last);

	/* A callback that returns non-zero cancels the copy there. */
	memset(&t, 0, sizeof(t));
	t.stop_at = 2;
	assert_int_equal(journal_precopy(ctx, &j, src, last, tell, &t), -ECANCELED);
	assert_int_equal(t.calls, 2);

	journal_close(&j);
	close(src);
	rosnap_unref(ctx);
	assert_int_equal(rm_tree(dir), 0);
	free(store);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(version_one),
		cmocka_unit_test(siphash_vector),
		cmocka_unit_test(two_pass_copy),
	};

	return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
