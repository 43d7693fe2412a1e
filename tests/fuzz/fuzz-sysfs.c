/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Files the kernel writes: zram's mm_stat and comp_algorithm, meminfo. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), cur[32];
	struct zram_mm_stat mm;
	uint64_t bytes;
	int r;

	(void)zram_mm_stat_parse(s, &mm);
	r = zram_algorithms_parse(s, "lz4", cur, sizeof(cur));
	if (r >= 0)
		fuzz_assert(strlen(cur) < sizeof(cur));
	(void)meminfo_parse(s, "MemTotal", &bytes);
	(void)meminfo_parse(s, "MemAvailable", &bytes);
	free(s);
	return 0;
}
