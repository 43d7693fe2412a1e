/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sizes from the command line and boot.conf: --ram, --chunk, grow_by. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), text[64];
	uint64_t bytes, again, n;

	if (rosnap_parse_size(s, &bytes) == 0) {
		/*
		 * What we print for a size reads back as that size, to the
		 * 5% the one decimal (or none) allows.  (Near 2^64 it rounds
		 * up to "16E", which no uint64_t holds.)
		 */
		fuzz_assert(rosnap_format_size(bytes, text, sizeof(text)) >= 0);
		if (strchr(text, '.') == NULL && bytes < (1ULL << 60)) {
			fuzz_assert(rosnap_parse_size(text, &again) == 0);
			fuzz_assert((again > bytes ? again - bytes : bytes - again) <=
				    bytes / 20);
		}
	}
	(void)parse_u64(s, &n);
	free(s);
	return 0;
}
