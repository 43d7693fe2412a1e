/* SPDX-License-Identifier: GPL-2.0-or-later */
/* device-mapper table and status lines, as libdevmapper returns them. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), line[256];
	struct snap_table t, t2;
	struct snap_status st;
	uint64_t offset, offset2;
	dev_t dev, dev2;

	if (snapshot_table_parse(s, &t) == 0) {
		/* A table we understood formats to one that reads the same. */
		fuzz_assert(snapshot_table(line, sizeof(line), &t) == 0);
		fuzz_assert(snapshot_table_parse(line, &t2) == 0);
		fuzz_assert(t.origin == t2.origin && t.cow == t2.cow &&
			    t.persistent == t2.persistent &&
			    t.overflow == t2.overflow &&
			    t.chunk_sectors == t2.chunk_sectors &&
			    t.features == t2.features);
	}
	if (snapshot_status_parse(s, &st) == 0)
		fuzz_assert(st.allocated <= st.total || st.invalid ||
			    st.overflow || st.merge_failed);
	if (linear_table_parse(s, &dev, &offset) == 0) {
		fuzz_assert(linear_table(line, sizeof(line), dev, offset) == 0);
		fuzz_assert(linear_table_parse(line, &dev2, &offset2) == 0);
		fuzz_assert(dev == dev2 && offset == offset2);
	}
	free(s);
	return 0;
}
