/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading the kernel's files against a fake /sys and /proc tree: brd's
 * parameters and pages, numbers, the mount table; zram's lines.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "unit.h"

struct fake {
	char root[64];
	struct rosnap_ctx *ctx;
};

static void mkdirs(const char *root, const char *rel)
{
	char p[512], *s;

	assert_true(snprintf(p, sizeof(p), "%s/%s", root, rel) < (int)sizeof(p));
	for (s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

static void put(const struct fake *f, const char *rel, const char *text)
{
	char p[512], dir[512], *slash;
	FILE *fp;

	snprintf(dir, sizeof(dir), "%s", rel);
	slash = strrchr(dir, '/');
	*slash = '\0';
	mkdirs(f->root, dir);
	snprintf(p, sizeof(p), "%s/%s", f->root, rel);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/*
 * brd's files, laid out the way the kernel does it.  (Block devices'
 * names, attributes, holders and partitions come through libudev, which
 * reads the real /sys: the VM tests cover them.)
 */
static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/rosnap-sysfs-XXXXXX");
	if (!mkdtemp(f->root) || rosnap_new(&f->ctx) < 0 ||
	    ctx_set_root(f->ctx, f->root) < 0)
		return -1;
	put(f, "sys/kernel/debug/ramdisk_pages/ram2", "100\n");
	put(f, "sys/module/brd/parameters/rd_nr", "0\n");
	put(f, "sys/module/brd/parameters/rd_size", "garbage\n");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	rm_tree(f->root);
	rosnap_unref(f->ctx);
	free(f);
	return 0;
}

/* zram's mm_stat as the kernel writes it (libudev reads the file). */
static void zram_mm_stat_lines(void **state)
{
	struct zram_mm_stat st;

	(void)state;
	assert_int_equal(zram_mm_stat_parse(" 10485760  2621440  2752512        0  "
					    "2752512        3        0        0        0", &st), 0);
	assert_true(st.orig_data_size == 10485760);
	assert_true(st.compr_data_size == 2621440);
	assert_true(st.mem_used_total == 2752512);
	assert_int_equal(zram_mm_stat_parse("1 2", &st), -EINVAL);
	assert_int_equal(zram_mm_stat_parse("", &st), -EINVAL);
}

static void zram_algorithm_lists(void **state)
{
	char cur[16];

	(void)state;
	assert_int_equal(zram_algorithms_parse("lzo [lzo-rle] lz4", "lz4", cur,
					       sizeof(cur)), 1);
	assert_string_equal(cur, "lzo-rle");
	assert_int_equal(zram_algorithms_parse("lzo [lzo-rle] lz4", "lzo-rle",
					       NULL, 0), 1);
	assert_int_equal(zram_algorithms_parse("lzo [lzo-rle] lz4", "lz", NULL,
					       0), 0);
	assert_int_equal(zram_algorithms_parse("lzo [lzo-rle] lz4", "zstd", NULL,
					       0), 0);
	assert_int_equal(zram_algorithms_parse("[zstd]\n", "zstd", cur,
					       sizeof(cur)), 1);
	assert_string_equal(cur, "zstd");
	assert_int_equal(zram_algorithms_parse("", "lzo", cur, sizeof(cur)), 0);
	assert_string_equal(cur, "");
}

static void store_usage(void **state)
{
	struct fake *f = *state;
	struct cow cow = { .backend = ROSNAP_BACKEND_BRD, .nparts = 1 };
	uint64_t ram, data;
	bool exact;

	/* brd's pages from debugfs (zram's come through libudev: the VM). */
	cow.part[0].id = 2;
	assert_int_equal(cow_ram_used(f->ctx, &cow, &ram, &data, &exact), 0);
	assert_true(exact && ram == 100 * 4096);
	cow.part[0].id = 5;
	assert_int_equal(cow_ram_used(f->ctx, &cow, &ram, &data, &exact), 0);
	assert_false(exact);
}

static void numbers(void **state)
{
	struct fake *f = *state;
	uint64_t v;

	assert_int_equal(path_read_u64(f->ctx, &v,
				       "/sys/module/brd/parameters/rd_nr"), 0);
	assert_true(v == 0);
	assert_int_equal(path_read_u64(f->ctx, &v,
				       "/sys/module/brd/parameters/rd_size"),
			 -EINVAL);
	assert_int_equal(parse_u64("18446744073709551615", &v), 0);
	assert_int_equal(parse_u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(parse_u64("12\n", &v), 0);
	assert_int_equal(parse_u64("12\n\n", &v), -EINVAL);
	assert_int_equal(parse_u64("", &v), -EINVAL);
	assert_int_equal(parse_u64("-1", &v), -EINVAL);
}

/* The mount table under the context's root, read through libmount. */
static void mounts(void **state)
{
	struct fake *f = *state;
	struct mount_hit hit;
	dev_t devs[2] = { makedev(252, 0), makedev(252, 1) };
	dev_t loop = makedev(7, 0), none = makedev(8, 0), dev;

	assert_int_equal(mount_find(f->ctx, devs, 2, &hit), -ENOENT);
	put(f, "proc/self/mountinfo",
	    "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
	    "30 1 252:1 / /mnt/my\\040disk rw,relatime - ext4 /dev/vda1 rw,errors=remount-ro\n"
	    "31 1 7:0 / /media/img ro,relatime - ext4 /dev/loop0 ro\n");
	assert_int_equal(mount_find(f->ctx, devs, 2, &hit), 1);
	assert_string_equal(hit.target, "/mnt/my disk");
	assert_false(hit.read_only);
	assert_int_equal(mount_find(f->ctx, &loop, 1, &hit), 1);
	assert_string_equal(hit.target, "/media/img");
	assert_true(hit.read_only);
	assert_int_equal(mount_find(f->ctx, &none, 1, &hit), 0);
	/* A real device number is its own block device; none is not. */
	assert_int_equal(mount_block_device(f->ctx, makedev(252, 1), &dev), 0);
	assert_true(dev == makedev(252, 1));
	assert_int_equal(mount_block_device(f->ctx, makedev(0, 21), &dev), -ENODEV);
	put(f, "proc/self/mountinfo", "");
	assert_int_equal(mount_find(f->ctx, &loop, 1, &hit), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zram_mm_stat_lines),
		cmocka_unit_test(zram_algorithm_lists),
		cmocka_unit_test_setup_teardown(store_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(mounts, setup, teardown),
	};

	return cmocka_run_group_tests_name("sysfs", tests, NULL, NULL);
}
