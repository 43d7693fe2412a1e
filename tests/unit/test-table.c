/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Device-mapper table and status lines. */
#include <errno.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "unit.h"

static void snapshot_format(void **state)
{
	struct snap_table t = {
		.origin = makedev(252, 0),
		.cow = makedev(253, 1),
		.persistent = true,
		.overflow = true,
		.chunk_sectors = 8,
	};
	char buf[128];

	(void)state;
	assert_int_equal(snapshot_table(buf, sizeof(buf), &t), 0);
	assert_string_equal(buf, "252:0 253:1 PO 8");
	t.overflow = false;
	assert_int_equal(snapshot_table(buf, sizeof(buf), &t), 0);
	assert_string_equal(buf, "252:0 253:1 P 8");
	t.features = SNAP_F_DISCARD_ZEROES_COW;
	assert_int_equal(snapshot_table(buf, sizeof(buf), &t), 0);
	assert_string_equal(buf, "252:0 253:1 P 8 1 discard_zeroes_cow");
	t.features |= SNAP_F_DISCARD_PASSDOWN;
	assert_int_equal(snapshot_table(buf, sizeof(buf), &t), 0);
	assert_string_equal(buf, "252:0 253:1 P 8 2 discard_zeroes_cow "
			    "discard_passdown_origin");
	t.persistent = false;
	t.overflow = true;
	assert_int_equal(snapshot_table(buf, sizeof(buf), &t), -EINVAL);
	t.overflow = false;
	t.features = 0;
	assert_int_equal(snapshot_table(buf, sizeof(buf), &t), 0);
	assert_string_equal(buf, "252:0 253:1 N 8");
	assert_int_equal(snapshot_table(buf, 8, &t), -ENOSPC);
}

static void snapshot_parse(void **state)
{
	struct snap_table t;

	(void)state;
	assert_int_equal(snapshot_table_parse("7:0 253:12 PO 8", &t), 0);
	assert_true(t.origin == makedev(7, 0));
	assert_true(t.cow == makedev(253, 12));
	assert_true(t.persistent && t.overflow);
	assert_int_equal(t.chunk_sectors, 8);
	assert_int_equal(t.features, 0);
	assert_int_equal(snapshot_table_parse("8:2 253:0 P 128 1 discard_zeroes_cow",
					      &t), 0);
	assert_true(t.persistent && !t.overflow);
	assert_int_equal(t.chunk_sectors, 128);
	assert_int_equal(t.features, SNAP_F_DISCARD_ZEROES_COW);
	assert_int_equal(snapshot_table_parse("8:2 253:0 N 16", &t), 0);
	assert_false(t.persistent);
}

static void snapshot_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"", "8:2", "8:2 253:0", "8:2 253:0 P", "8:2 253:0 X 8",
		"8:2 253:0 P 0", "8:2 253:0 P 12", "8:2 253:0 P -8",
		"/dev/sda 253:0 P 8", "8: 253:0 P 8", ":2 253:0 P 8",
		"8:2 253:0 P 8 ", "8:2 253:0 P 8 1", "8:2 253:0 P 8 1 bogus",
		"8:2 253:0 P 8 2 discard_zeroes_cow",
		"8:2 253:0 P 8 2 discard_zeroes_cow discard_zeroes_cow",
		"8:2 253:0 P 8 1 discard_zeroes_cow extra",
		"8:2 253:0 P 8 3 a b c", "99999999:0 253:0 P 8",
		"8:2 253:0 P 99999999999999999999",
	};
	struct snap_table t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(snapshot_table_parse(bad[i], &t), -EINVAL);
}

static void status_lines(void **state)
{
	struct snap_status st;

	(void)state;
	assert_int_equal(snapshot_status_parse("16/131072 16", &st), 0);
	assert_true(st.allocated == 16 && st.total == 131072 && st.metadata == 16);
	assert_false(st.invalid || st.overflow || st.merge_failed);
	assert_int_equal(snapshot_status_parse("Invalid", &st), 0);
	assert_true(st.invalid);
	assert_int_equal(snapshot_status_parse("Overflow", &st), 0);
	assert_true(st.overflow);
	assert_int_equal(snapshot_status_parse("Merge failed", &st), 0);
	assert_true(st.merge_failed);
}

/* A merge the kernel gave up on never reads as finished. */
static void merge_verdicts(void **state)
{
	struct snap_status st;
	uint64_t left;

	(void)state;
	assert_int_equal(snapshot_status_parse("Invalid", &st), 0);
	assert_int_equal(merge_verdict(&st, &left), MERGE_INVALID);
	assert_int_equal(left, 0);
	assert_int_equal(snapshot_status_parse("Merge failed", &st), 0);
	assert_int_equal(merge_verdict(&st, &left), MERGE_FAILED);
	assert_int_equal(snapshot_status_parse("16/2048 16", &st), 0);
	assert_int_equal(merge_verdict(&st, &left), MERGE_DONE);
	assert_int_equal(left, 0);
	assert_int_equal(snapshot_status_parse("48/2048 16", &st), 0);
	assert_int_equal(merge_verdict(&st, &left), MERGE_RUNNING);
	assert_int_equal(left, 32 * 512);
}

static void status_rejects(void **state)
{
	static const char *const bad[] = {
		"", "16", "16/", "/16 8", "16/131072", "16/131072 ", "a/b c",
		"17/16 0", "16/32 17", "16/32 8 9", "invalid", "Merge",
		"18446744073709551616/1 0",
	};
	struct snap_status st;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(snapshot_status_parse(bad[i], &st), -EINVAL);
}

static void linear_lines(void **state)
{
	char buf[48];
	uint64_t off;
	dev_t dev;

	(void)state;
	assert_int_equal(linear_table(buf, sizeof(buf), makedev(251, 3), 0), 0);
	assert_string_equal(buf, "251:3 0");
	assert_int_equal(linear_table_parse("251:3 2048", &dev, &off), 0);
	assert_true(dev == makedev(251, 3) && off == 2048);
	assert_int_equal(linear_table_parse("251:3", &dev, &off), -EINVAL);
	assert_int_equal(linear_table_parse("251:3 0 0", &dev, &off), -EINVAL);
	assert_int_equal(linear_table_parse("/dev/x 0", &dev, &off), -EINVAL);
	assert_int_equal(devnum_parse("1:2", &dev), 0);
	assert_int_equal(devnum_parse("1:", &dev), -EINVAL);
	assert_int_equal(devnum_parse("1:2:3", &dev), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(snapshot_format),
		cmocka_unit_test(snapshot_parse),
		cmocka_unit_test(snapshot_parse_rejects),
		cmocka_unit_test(status_lines),
		cmocka_unit_test(status_rejects),
		cmocka_unit_test(merge_verdicts),
		cmocka_unit_test(linear_lines),
	};

	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
