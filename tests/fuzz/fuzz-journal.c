/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Merge journal headers, read from a file or disk that may be anything,
 * before "rosnap recover" writes to an origin.  The input is tried as it
 * is and with its checksum made right, to reach the checks behind it.
 */
#include <zlib.h>

#include "fuzz.h"

static void decode(const unsigned char *buf)
{
	unsigned char again[JOURNAL_HEADER_BYTES];
	struct journal_header h;
	const char *why = NULL;

	if (journal_decode(buf, &h, &why) < 0) {
		fuzz_assert(why != NULL);
		return;
	}
	/* An accepted header is sane and encodes to the same bytes. */
	fuzz_assert(h.chunk_sectors > 0 && h.origin_size > 0);
	fuzz_assert(memchr(h.origin_uuid, '\0', sizeof(h.origin_uuid)) &&
		    memchr(h.origin_path, '\0', sizeof(h.origin_path)) &&
		    memchr(h.name, '\0', sizeof(h.name)));
	fuzz_assert(journal_encode(&h, again) == 0);
	fuzz_assert(journal_decode(again, &h, &why) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char buf[JOURNAL_HEADER_BYTES] = { 0 };
	const char *why;
	uint32_t crc;

	memcpy(buf, data, size < sizeof(buf) ? size : sizeof(buf));
	decode(buf);
	crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, sizeof(buf) - 4);
	buf[sizeof(buf) - 4] = (unsigned char)crc;
	buf[sizeof(buf) - 3] = (unsigned char)(crc >> 8);
	buf[sizeof(buf) - 2] = (unsigned char)(crc >> 16);
	buf[sizeof(buf) - 1] = (unsigned char)(crc >> 24);
	decode(buf);
	(void)cow_header_check(buf, 8, &why);
	return 0;
}
