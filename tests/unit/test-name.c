/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Device names, backend and state names, DM UUIDs. */
#include <errno.h>
#include <string.h>

#include "unit.h"

static void valid_names(void **state)
{
	static const char *const ok[] = {
		"rosnap-sda2", "root", "a", "A_b.c+d-1", "rosnap-loop0",
		"cow", "x-cowboy", "0start", "a-cow-b", "a-cowboy.x",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(rosnap_check_name(ok[i], NULL), 0);
}

static void invalid_names(void **state)
{
	static const char *const bad[] = {
		"", "a/b", "/dev/x", "..", ".hidden", "-x", "a b", "a\nb",
		"$(reboot)", "a;b", "a`b`", "é", "x-cow", "rosnap-sda2-cow",
		"a*", "a:b", "x-cow.crypt", "x-cow.new", "a-cow-b-cow",
	};
	const char *why;
	char longname[ROSNAP_NAME_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(rosnap_check_name(bad[i], &why), -EINVAL);
		assert_non_null(why);
	}
	assert_int_equal(rosnap_check_name(NULL, NULL), -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(rosnap_check_name(longname, &why), -ENAMETOOLONG);
	longname[ROSNAP_NAME_MAX] = '\0';
	assert_int_equal(rosnap_check_name(longname, NULL), 0);
}

static void backends_and_states(void **state)
{
	enum rosnap_backend b;

	(void)state;
	assert_int_equal(rosnap_backend_from_name("zram", &b), 0);
	assert_int_equal(b, ROSNAP_BACKEND_ZRAM);
	assert_int_equal(rosnap_backend_from_name("brd", &b), 0);
	assert_int_equal(b, ROSNAP_BACKEND_BRD);
	assert_int_equal(rosnap_backend_from_name("auto", &b), 0);
	assert_int_equal(b, ROSNAP_BACKEND_AUTO);
	assert_int_equal(rosnap_backend_from_name("file", &b), -EINVAL);
	assert_int_equal(rosnap_backend_from_name("ZRAM", &b), -EINVAL);
	assert_int_equal(rosnap_backend_from_name("", &b), -EINVAL);
	assert_int_equal(rosnap_backend_from_name(NULL, &b), -EINVAL);
	assert_string_equal(rosnap_backend_name(ROSNAP_BACKEND_ZRAM), "zram");
	assert_string_equal(rosnap_backend_name((enum rosnap_backend)99),
			    "unknown");
	assert_string_equal(rosnap_state_name(ROSNAP_STATE_MERGE_FAILED),
			    "merge-failed");
	assert_string_equal(rosnap_state_name(ROSNAP_STATE_OVERFLOW), "overflow");
	assert_string_equal(rosnap_state_name((enum rosnap_state)99), "unknown");
}

static void uuid_roundtrip(void **state)
{
	struct rosnap_uuid u, v;
	char buf[129];
	unsigned flags;

	(void)state;
	for (flags = 0; flags < 4; flags++) {
		assert_int_equal(uuid_new(&u, UUID_SNAP, flags), 0);
		assert_int_equal(strlen(u.id), UUID_ID_LEN);
		assert_int_equal(uuid_format(&u, buf, sizeof(buf)), 0);
		assert_true(uuid_is_rosnap(buf));
		assert_int_equal(uuid_parse(buf, &v), 0);
		assert_int_equal(v.role, UUID_SNAP);
		assert_int_equal(v.flags, flags);
		assert_string_equal(v.id, u.id);
	}
	assert_int_equal(uuid_new(&u, UUID_COW, 0), 0);
	assert_int_equal(uuid_format(&u, buf, sizeof(buf)), 0);
	assert_int_equal(strncmp(buf, "ROSNAP-cow-", 11), 0);
	assert_int_equal(uuid_new(&v, UUID_COW, 0), 0);
	assert_string_not_equal(u.id, v.id);
	assert_int_equal(uuid_format(&u, buf, 10), -ENOSPC);
}

static void uuid_parse_exact(void **state)
{
	struct rosnap_uuid u;
	char buf[129];

	(void)state;
	assert_int_equal(uuid_parse("ROSNAP-cow-0123456789abcdef-unprotect-n123456",
				    &u), 0);
	assert_int_equal(u.role, UUID_COW);
	assert_int_equal(u.flags, UUID_F_UNPROTECT);
	assert_true(u.merge_total == 123456);
	assert_int_equal(uuid_format(&u, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ROSNAP-cow-0123456789abcdef-unprotect-n123456");
	assert_int_equal(uuid_parse("ROSNAP-cow-0123456789abcdef-n18446744073709551615",
				    &u), 0);
	assert_true(u.merge_total == UINT64_MAX);
	assert_int_equal(uuid_parse("ROSNAP-snap-0123456789abcdef-ro-loop", &u), 0);
	assert_int_equal(u.flags, UUID_F_ORIGIN_RO | UUID_F_LOOP);
	assert_string_equal(u.id, "0123456789abcdef");
	assert_int_equal(uuid_parse("ROSNAP-recover-0123456789abcdef", &u), 0);
	assert_int_equal(u.role, UUID_RECOVER);
}

static void uuid_rejects(void **state)
{
	static const char *const bad[] = {
		"", "LVM-abc", "CRYPT-LUKS2-x", "ROSNAP-", "ROSNAP-snap",
		"ROSNAP-snap-", "ROSNAP-snap-0123456789abcde",
		"ROSNAP-snap-0123456789abcdef0", "ROSNAP-snap-0123456789ABCDEF",
		"ROSNAP-boom-0123456789abcdef", "ROSNAP-snap-0123456789abcdef-",
		"ROSNAP-snap-0123456789abcdef-rw", "ROSNAP-snap-0123456789abcdef-ro-ro",
		"rosnap-snap-0123456789abcdef",
		"ROSNAP-cow-0123456789abcdef-n", "ROSNAP-cow-0123456789abcdef-n0",
		"ROSNAP-cow-0123456789abcdef-n012", "ROSNAP-cow-0123456789abcdef-nx",
		"ROSNAP-cow-0123456789abcdef-n5-ro", "ROSNAP-cow-0123456789abcdef-n5-n6",
		"ROSNAP-cow-0123456789abcdef-n18446744073709551616",
	};
	struct rosnap_uuid u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(uuid_parse(bad[i], &u), -EINVAL);
	assert_false(uuid_is_rosnap(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_names),
		cmocka_unit_test(invalid_names),
		cmocka_unit_test(backends_and_states),
		cmocka_unit_test(uuid_roundtrip),
		cmocka_unit_test(uuid_parse_exact),
		cmocka_unit_test(uuid_rejects),
	};

	return cmocka_run_group_tests_name("name", tests, NULL, NULL);
}
