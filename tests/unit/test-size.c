/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sizes: "256M", "25%", lsblk-style formatting, /proc/meminfo. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

static void parse_ok(const char *s, uint64_t want)
{
	uint64_t v = 0;

	assert_int_equal(rosnap_parse_size(s, &v), 0);
	assert_true(v == want);
}

static void parse_sizes(void **state)
{
	(void)state;
	parse_ok("0", 0);
	parse_ok("4096", 4096);
	parse_ok("512K", 512 * 1024);
	parse_ok("512k", 512 * 1024);
	parse_ok("256M", 256ULL << 20);
	parse_ok("256MiB", 256ULL << 20);
	parse_ok("1G", 1ULL << 30);
	parse_ok("1gib", 1ULL << 30);
	parse_ok("2T", 2ULL << 40);
	parse_ok("512B", 512);
	parse_ok("1E", 1ULL << 60);
	parse_ok("3P", 3ULL << 50);
	parse_ok("18446744073709551615", UINT64_MAX);
}

static void parse_size_errors(void **state)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "1.5G", "1KB", "1MB", "1Q", "G",
		"0x10", "1e3", "1Gi", "1GiBs", "1,000", "$(reboot)", "1\n",
		"1BiB", "1Bi", "B",
	};
	uint64_t v = 42;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rosnap_parse_size(bad[i], &v), -EINVAL);
		assert_true(v == 42);
	}
	assert_int_equal(rosnap_parse_size(NULL, &v), -EINVAL);
	assert_int_equal(rosnap_parse_size("18446744073709551616", &v), -ERANGE);
	assert_int_equal(rosnap_parse_size("16777216T", &v), -ERANGE);
	assert_int_equal(rosnap_parse_size("17179869184G", &v), -ERANGE);
}

static void format_eq(uint64_t bytes, const char *want)
{
	char buf[32];

	assert_true(rosnap_format_size(bytes, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, want);
}

static void format_sizes(void **state)
{
	char tiny[3];

	(void)state;
	format_eq(0, "0B");
	format_eq(512, "512B");
	format_eq(1023, "1023B");
	format_eq(1024, "1K");
	format_eq(1536, "1.5K");
	format_eq(4096, "4K");
	format_eq(256ULL << 20, "256M");
	format_eq((1ULL << 30) + (1ULL << 29), "1.5G");
	/* Rounds to the nearest tenth, carrying into the next unit. */
	format_eq((1ULL << 30) - 1, "1G");
	format_eq(1048064, "1023.5K");
	format_eq(UINT64_MAX, "16E");
	assert_int_equal(rosnap_format_size(123456, tiny, sizeof(tiny)), -ENOSPC);
}

static const char meminfo[] =
	"MemTotal:        2030568 kB\n"
	"MemFree:         1754000 kB\n"
	"Shmem:              1234 kB\n";

static void meminfo_values(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(meminfo_parse(meminfo, "MemTotal", &v), 0);
	assert_true(v == 2030568ULL * 1024);
	assert_int_equal(meminfo_parse(meminfo, "Shmem", &v), 0);
	assert_true(v == 1234ULL * 1024);
	assert_int_equal(meminfo_parse(meminfo, "Mem", &v), -ENOENT);
	assert_int_equal(meminfo_parse(meminfo, "Cached", &v), -ENOENT);
	assert_int_equal(meminfo_parse("MemTotal: x kB\n", "MemTotal", &v),
			 -EINVAL);
	assert_int_equal(meminfo_parse("MemTotal: 12 MB\n", "MemTotal", &v),
			 -EINVAL);
}

/* A fake /proc/meminfo under a temporary root. */
static int fake_root(void **state)
{
	char *root = strdup("/tmp/rosnap-unit-XXXXXX");
	char path[256];
	FILE *f;

	if (!root || !mkdtemp(root))
		return -1;
	snprintf(path, sizeof(path), "%s/proc", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/proc/meminfo", root);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs("MemTotal:        1000000 kB\n", f);
	fclose(f);
	*state = root;
	return 0;
}

static int fake_root_free(void **state)
{
	char path[256], *root = *state;

	snprintf(path, sizeof(path), "%s/proc/meminfo", root);
	unlink(path);
	snprintf(path, sizeof(path), "%s/proc", root);
	rmdir(path);
	rmdir(root);
	free(root);
	return 0;
}

static void ram_percentages(void **state)
{
	struct rosnap_ctx *ctx;
	uint64_t v, total;

	assert_int_equal(rosnap_new(&ctx), 0);
	assert_int_equal(ctx_set_root(ctx, *state), 0);
	assert_int_equal(rosnap_ram_total(ctx, &total), 0);
	assert_true(total == 1000000ULL * 1024);
	assert_int_equal(rosnap_parse_ram(ctx, "50%", &v), 0);
	assert_true(v == (total / 100 * 50 & ~4095ULL));
	assert_true(v % 4096 == 0);
	assert_int_equal(rosnap_parse_ram(ctx, "100%", &v), 0);
	assert_true(v <= total);
	assert_int_equal(rosnap_parse_ram(ctx, "1%", &v), 0);
	assert_int_equal(rosnap_parse_ram(ctx, "256M", &v), 0);
	assert_true(v == 256ULL << 20);
	assert_int_equal(rosnap_parse_ram(ctx, "0%", &v), -ERANGE);
	assert_int_equal(rosnap_parse_ram(ctx, "101%", &v), -ERANGE);
	assert_int_equal(rosnap_parse_ram(ctx, "-5%", &v), -EINVAL);
	assert_int_equal(rosnap_parse_ram(ctx, "%", &v), -EINVAL);
	assert_int_equal(rosnap_parse_ram(ctx, "5.5%", &v), -EINVAL);
	assert_int_equal(rosnap_parse_ram(ctx, "50%%", &v), -EINVAL);
	assert_int_equal(rosnap_parse_ram(ctx, "99999999999%", &v), -ERANGE);
	rosnap_unref(ctx);
}

static void profiles(void **state)
{
	static const char *const bad[] = { "", "Edits", "read", "4K", "reads ", NULL };
	uint32_t chunk = 1;
	size_t i;

	(void)state;
	assert_int_equal(rosnap_parse_profile("edits", &chunk), 0);
	assert_int_equal(chunk, 4096);
	assert_int_equal(rosnap_parse_profile("reads", &chunk), 0);
	assert_int_equal(chunk, 65536);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rosnap_parse_profile(bad[i], &chunk), -EINVAL);
		assert_int_equal(chunk, 65536);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_sizes),
		cmocka_unit_test(parse_size_errors),
		cmocka_unit_test(format_sizes),
		cmocka_unit_test(profiles),
		cmocka_unit_test(meminfo_values),
		cmocka_unit_test_setup_teardown(ram_percentages, fake_root,
						fake_root_free),
	};

	return cmocka_run_group_tests_name("size", tests, NULL, NULL);
}
