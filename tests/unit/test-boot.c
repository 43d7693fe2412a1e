/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Boot settings: /etc/rosnap/boot.conf and the kernel command line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

static struct rosnap_boot *boot_from(const char *conf, const char *cmdline,
				     int *conf_problems, int *cmd_problems)
{
	struct rosnap_ctx *ctx;
	struct rosnap_boot *b;
	char path[] = "/tmp/rosnap-boot-XXXXXX";
	int fd;

	assert_int_equal(rosnap_new(&ctx), 0);
	assert_int_equal(rosnap_boot_new(ctx, &b), 0);
	rosnap_unref(ctx);
	if (conf) {
		fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, conf, strlen(conf)), (int)strlen(conf));
		close(fd);
		*conf_problems = rosnap_boot_load_config(b, path);
		unlink(path);
	}
	if (cmdline)
		*cmd_problems = rosnap_boot_load_cmdline(b, cmdline);
	return b;
}

static void defaults(void **state)
{
	struct rosnap_boot *b;
	int c = -1;

	(void)state;
	b = boot_from(NULL, "BOOT_IMAGE=/vmlinuz root=UUID=abc ro quiet", NULL, &c);
	assert_int_equal(c, 0);
	assert_false(rosnap_boot_enabled(b));
	assert_string_equal(rosnap_boot_get_name(b), "rosnap-root");
	assert_string_equal(rosnap_boot_get_root(b), "UUID=abc");
	assert_int_equal(rosnap_boot_get_fallback(b), ROSNAP_FALLBACK_RO);
	rosnap_boot_unref(b);
}

static void cmdline_settings(void **state)
{
	struct rosnap_boot *b;
	int c = -1;

	(void)state;
	b = boot_from(NULL, "root=/dev/vda1 rosnap rosnap.ram=256M rosnap.backend=brd "
		      "rosnap.compression=zstd rosnap.fallback=panic rosnap.name=sys "
		      "rosnap.profile=reads "
		      "rosnap.journal=PARTLABEL=journal rosnapper=x", NULL, &c);
	assert_int_equal(c, 0);
	assert_true(rosnap_boot_enabled(b));
	assert_string_equal(b->ram, "256M");
	assert_int_equal(b->backend, ROSNAP_BACKEND_BRD);
	assert_string_equal(b->compression, "zstd");
	assert_int_equal(b->chunk_bytes, 65536);
	assert_int_equal(b->fallback, ROSNAP_FALLBACK_PANIC);
	assert_string_equal(b->name, "sys");
	assert_string_equal(b->journal, "PARTLABEL=journal");
	assert_string_equal(b->root, "/dev/vda1");
	rosnap_boot_unref(b);
}

static void switches(void **state)
{
	static const struct {
		const char *cmdline;
		bool on;
	} cases[] = {
		{ "rosnap", true },          { "rosnap=1", true },
		{ "rosnap=on", true },       { "rosnap=yes", true },
		{ "rosnap=off", false },     { "rosnap=0", false },
		{ "rosnap rosnap=off", false }, { "rosnap=off rosnap", true },
		{ "rosnap -- rosnap=off", true },
		{ "\"rosnap\"", true },
	};
	struct rosnap_boot *b;
	size_t i;
	int c;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = boot_from(NULL, cases[i].cmdline, NULL, &c);
		assert_int_equal(c, 0);
		assert_int_equal(rosnap_boot_enabled(b), cases[i].on);
		rosnap_boot_unref(b);
	}
}

static void cmdline_problems(void **state)
{
	static const char *const bad[] = {
		"rosnap=maybe", "rosnap.ram=lots", "rosnap.ram=0",
		"rosnap.ram=101%", "rosnap.backend=tmpfs", "rosnap.fallback=reboot",
		"rosnap.compression=lz4;reboot", "rosnap.compression=$(x)",
		"rosnap.name=a/b", "rosnap.name=", "rosnap.journal=relative",
		"rosnap.journal=/dev/x\\ y", "rosnap.journal=`id`", "rosnap.bogus=1",
		"rosnap.ram", "rosnap.enable=1",
		"rosnap.compression=\"lz4 zstd\"", "rosnap.profile=fast",
		"rosnap.profile=64K", "rosnap.profile=",
	};
	struct rosnap_boot *b;
	size_t i;
	int c;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = 0;
		b = boot_from(NULL, bad[i], NULL, &c);
		if (c != 1)
			fprintf(stderr, "no problem found in \"%s\"\n", bad[i]);
		assert_int_equal(c, 1);
		rosnap_boot_unref(b);
	}
	/* A bad fallback keeps the safe default. */
	b = boot_from(NULL, "rosnap.fallback=rw rosnap.fallback=bogus", NULL, &c);
	assert_int_equal(b->fallback, ROSNAP_FALLBACK_RW);
	rosnap_boot_unref(b);
}

static void quoting(void **state)
{
	struct rosnap_boot *b;
	int c = -1;

	(void)state;
	b = boot_from(NULL, "foo=\"a b rosnap.ram=1T\" rosnap.ram=\"64M\" root=/dev/sda2",
		      NULL, &c);
	assert_int_equal(c, 0);
	assert_string_equal(b->ram, "64M");
	assert_string_equal(b->root, "/dev/sda2");
	rosnap_boot_unref(b);
}

static void config_file(void **state)
{
	struct rosnap_boot *b;
	int f = -1, c = -1;

	(void)state;
	b = boot_from("# an appliance, protected by default\n"
		      "\n"
		      "enable = yes\n"
		      "  ram=25%\n"
		      "backend=\"zram\"\n"
		      "fallback=rw\t\n"
		      "journal=/dev/disk/by-partlabel/rosnap-journal\n",
		      "root=/dev/vda rosnap.fallback=panic", &f, &c);
	assert_int_equal(f, 0);
	assert_int_equal(c, 0);
	assert_true(rosnap_boot_enabled(b));
	assert_string_equal(b->ram, "25%");
	assert_int_equal(b->backend, ROSNAP_BACKEND_ZRAM);
	/* The command line wins. */
	assert_int_equal(b->fallback, ROSNAP_FALLBACK_PANIC);
	assert_string_equal(b->journal, "/dev/disk/by-partlabel/rosnap-journal");
	rosnap_boot_unref(b);

	b = boot_from("enable=yes\n", "rosnap=off", &f, &c);
	assert_false(rosnap_boot_enabled(b));
	rosnap_boot_unref(b);
}

static void monitor_settings(void **state)
{
	struct rosnap_monitor_settings s;
	struct rosnap_boot *b;
	int f = -1, c = -1;

	(void)state;
	b = boot_from("", "", &f, &c);
	rosnap_boot_get_monitor(b, &s);
	assert_int_equal(s.warn_percent, 80);
	assert_int_equal(s.critical_percent, 95);
	assert_true(s.grow_by == 0 && s.min_free_bytes == 0);
	assert_null(s.exec);
	rosnap_boot_unref(b);

	b = boot_from("warn=60\ncritical=90\ngrow_by=64M\ngrow_max=1G\n"
		      "min_free=128M\nexec=/usr/local/bin/alert\n", NULL, &f, &c);
	assert_int_equal(f, 0);
	rosnap_boot_get_monitor(b, &s);
	assert_int_equal(s.warn_percent, 60);
	assert_int_equal(s.critical_percent, 90);
	assert_true(s.grow_by == 64ULL << 20 && s.grow_max == 1ULL << 30);
	assert_true(s.min_free_bytes == 128ULL << 20);
	assert_string_equal(s.exec, "/usr/local/bin/alert");
	rosnap_boot_unref(b);

	b = boot_from("warn=0\ncritical=101\nwarn=08\nexec=alert\n"
		      "exec=/bin/a b\ngrow_by=lots\n", NULL, &f, &c);
	assert_int_equal(f, 6);
	rosnap_boot_unref(b);
}

static void config_problems(void **state)
{
	struct rosnap_boot *b;
	int f = -1, c = -1;

	(void)state;
	b = boot_from("enable=perhaps\nram\nunknown=1\nname=x/y\n$(reboot)\n"
		      "backend=zram\n", NULL, &f, &c);
	assert_int_equal(f, 5);
	assert_int_equal(b->backend, ROSNAP_BACKEND_ZRAM);
	rosnap_boot_unref(b);
}

static enum boot_decision decide(const char *conf, const char *cmdline)
{
	struct rosnap_boot *b;
	enum boot_decision d;
	int c = 0, k = 0;

	b = boot_from(conf, cmdline, &c, &k);
	d = boot_decide(b);
	rosnap_boot_unref(b);
	return d;
}

/* The order of precedence rosnap-boot(7) documents. */
static void precedence(void **state)
{
	struct rosnap_boot *b;

	(void)state;
	/* rosnap=off on the command line wins, even over bad settings. */
	assert_int_equal(decide("enable=yes\nwarn=x\n", "root=/dev/vda1 rosnap=off"),
			 BOOT_DISK);
	assert_int_equal(decide("enable=yes\n", "root=/dev/vda1 rosnap=off rosnap.ram=lots"),
			 BOOT_DISK);
	/* A later "rosnap" switches it on again. */
	assert_int_equal(decide(NULL, "root=/dev/vda1 rosnap=off rosnap"), BOOT_PROTECT);
	/* Any other problem falls back, whoever switched rosnap on or off. */
	assert_int_equal(decide("enable=no\nfrobnicate=1\n", "root=/dev/vda1"),
			 BOOT_FALLBACK);
	assert_int_equal(decide("enable=yes\n", "root=/dev/vda1 rosnap=maybe"),
			 BOOT_FALLBACK);
	assert_int_equal(decide("enable=yes\n", "root=/dev/vda1"), BOOT_PROTECT);
	assert_int_equal(decide("enable=no\n", "root=/dev/vda1 rosnap"), BOOT_PROTECT);
	assert_int_equal(decide(NULL, "root=/dev/vda1"), BOOT_DISK);
	/* boot.conf that cannot be read: a problem, yet rosnap=off still wins. */
	b = boot_from(NULL, NULL, NULL, NULL);
	assert_true(rosnap_boot_load_config(b, "/etc/passwd/boot.conf") < 0);
	rosnap_boot_load_cmdline(b, "root=/dev/vda1 rosnap");
	assert_int_equal(boot_decide(b), BOOT_FALLBACK);
	rosnap_boot_load_cmdline(b, "rosnap=off");
	assert_int_equal(boot_decide(b), BOOT_DISK);
	rosnap_boot_unref(b);
	/* A missing boot.conf is no problem. */
	b = boot_from(NULL, NULL, NULL, NULL);
	assert_int_equal(rosnap_boot_load_config(b, "/nonexistent/boot.conf"), 0);
	rosnap_boot_load_cmdline(b, "root=/dev/vda1 rosnap");
	assert_int_equal(boot_decide(b), BOOT_PROTECT);
	rosnap_boot_unref(b);
}

static void escape_eq(const char *path, const char *want)
{
	char buf[256];

	assert_int_equal(unit_path_escape(path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void unit_names(void **state)
{
	char buf[8];

	(void)state;
	/* As "systemd-escape --path" prints them. */
	escape_eq("/dev/vda1", "dev-vda1");
	escape_eq("/dev/disk/by-uuid/0a1b-22", "dev-disk-by\\x2duuid-0a1b\\x2d22");
	escape_eq("//dev//mapper/x//", "dev-mapper-x");
	escape_eq("/", "-");
	escape_eq("/.hidden/a.b", "\\x2ehidden-a.b");
	escape_eq("/a b", "a\\x20b");
	assert_int_equal(unit_path_escape("/dev/disk/by-uuid", buf, sizeof(buf)),
			 -ENOSPC);
}

static void root_path_eq(const char *spec, const char *want)
{
	char buf[128];

	assert_int_equal(boot_root_path(spec, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void root_paths(void **state)
{
	static const char *const bad[] = {
		"UUID=", "LABEL=.", "LABEL=..", "nfs:server:/x", "/etc/passwd",
		"/dev/vda%n", "/dev/../etc/x", "tmpfs",
	};
	char buf[128];
	size_t i;

	(void)state;
	root_path_eq("UUID=ab-12", "/dev/disk/by-uuid/ab-12");
	root_path_eq("PARTLABEL=root", "/dev/disk/by-partlabel/root");
	root_path_eq("block:/dev/sda2", "/dev/sda2");
	/* Any label, named as udev names its link: never a path of its own. */
	root_path_eq("LABEL=my root", "/dev/disk/by-label/my\\x20root");
	root_path_eq("LABEL=a/../b", "/dev/disk/by-label/a\\x2f..\\x2fb");
	root_path_eq("LABEL=$(x)", "/dev/disk/by-label/\\x24\\x28x\\x29");
	root_path_eq("PARTLABEL=d\xc3\xa9j\xc3\xa0", "/dev/disk/by-partlabel/d\xc3\xa9j\xc3\xa0");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(boot_root_path(bad[i], buf, sizeof(buf)), -EINVAL);
}

/* The service the generator writes for COMMAND-LINE, in TEXT. */
static void generated_service(const char *cmdline, char *text, size_t size)
{
	char dir[] = "/tmp/rosnap-gen-XXXXXX", path[256];
	struct rosnap_boot *b;
	int cp = 0;
	FILE *f;
	size_t n;

	b = boot_from(NULL, cmdline, NULL, &cp);
	assert_int_equal(cp, 0);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(rosnap_boot_write_units(b, dir), 0);
	snprintf(path, sizeof(path), "%s/rosnap-root.service", dir);
	f = fopen(path, "re");
	assert_non_null(f);
	n = fread(text, 1, size - 1, f);
	fclose(f);
	text[n] = '\0';
	rosnap_boot_unref(b);
	assert_int_equal(rm_tree(dir), 0);
}

/* The generator's service for a root named by an odd label. */
static void generator_label(void **state)
{
	char text[4096];

	(void)state;
	generated_service("root=\"LABEL=my root\" rosnap", text, sizeof(text));
	/* systemd unescapes ExecStart=: the backslash is doubled there. */
	assert_non_null(strstr(text, "ExecStart=/usr/sbin/rosnap boot --link "
				     "/run/rosnap/root /dev/disk/by-label/my\\\\x20root\n"));
	assert_non_null(strstr(text, "Requires=dev-disk-by\\x2dlabel-my\\x5cx20root.device\n"));
	assert_null(strstr(text, "Wants="));
}

/*
 * With journal=, the service waits for the journal's device (Wants=, so
 * a missing one delays the boot but does not stop it): started before
 * it, rosnap boot would not see the interrupted merge it must finish.
 */
static void generator_journal(void **state)
{
	char text[4096];

	(void)state;
	generated_service("root=/dev/vda rosnap rosnap.journal=UUID=ab-12", text,
			  sizeof(text));
	assert_non_null(strstr(text, "Wants=dev-disk-by\\x2duuid-ab\\x2d12.device\n"
				     "After=dev-disk-by\\x2duuid-ab\\x2d12.device\n"));
	generated_service("root=/dev/vda rosnap rosnap.journal=/dev/vdc", text,
			  sizeof(text));
	assert_non_null(strstr(text, "Wants=dev-vdc.device\nAfter=dev-vdc.device\n"));
	assert_null(strstr(text, "Requires=dev-vdc"));
}

/*
 * The root's store on disk: store=, restore= (devices, as journal=),
 * and rosnap.reset, a bare word of the command line for one boot only.
 * The generated service waits for the store's device too.
 */
static void store_settings(void **state)
{
	struct rosnap_boot *b;
	char text[4096];
	int c = -1, f = -1;

	(void)state;
	b = boot_from(NULL, "root=/dev/vda rosnap rosnap.store=LABEL=keep "
		      "rosnap.reset", NULL, &c);
	assert_int_equal(c, 0);
	assert_string_equal(b->store, "LABEL=keep");
	assert_true(b->reset);
	rosnap_boot_unref(b);
	b = boot_from("enable=yes\nrestore=/dev/vdd\n", "root=/dev/vda", &f, &c);
	assert_int_equal(f, 0);
	assert_int_equal(c, 0);
	assert_string_equal(b->restore, "/dev/vdd");
	assert_false(b->reset);
	rosnap_boot_unref(b);
	/* Like journal=: a device, never a relative path or a shell word. */
	b = boot_from(NULL, "root=/dev/vda rosnap rosnap.store=relative "
		      "rosnap.restore=`id`", NULL, &c);
	assert_int_equal(c, 2);
	rosnap_boot_unref(b);
	/* reset belongs to one boot: the file does not take it. */
	b = boot_from("enable=yes\nreset=yes\n", "root=/dev/vda", &f, &c);
	assert_int_equal(f, 1);
	rosnap_boot_unref(b);
	generated_service("root=/dev/vda rosnap rosnap.store=/dev/vdc", text,
			  sizeof(text));
	assert_non_null(strstr(text, "Wants=dev-vdc.device\nAfter=dev-vdc.device\n"));
	/* save= (shutdown saves there, boot restores from there): in either
	 * place, a device the systemd initrd waits for too. */
	b = boot_from("enable=yes\nsave=PARTLABEL=saved\n", "root=/dev/vda", &f, &c);
	assert_int_equal(f, 0);
	assert_int_equal(c, 0);
	assert_string_equal(b->save, "PARTLABEL=saved");
	assert_string_equal(b->restore, "");
	assert_string_equal(b->store, "");
	rosnap_boot_unref(b);
	b = boot_from(NULL, "root=/dev/vda rosnap rosnap.save=saved", NULL, &c);
	assert_int_equal(c, 1);
	assert_string_equal(b->save, "");
	rosnap_boot_unref(b);
	generated_service("root=/dev/vda rosnap rosnap.save=/dev/vdd", text,
			  sizeof(text));
	assert_non_null(strstr(text, "Wants=dev-vdd.device\nAfter=dev-vdd.device\n"));
	/* Without save=, a shutdown has nothing to save: not even a look. */
	b = boot_from(NULL, "root=/dev/vda rosnap", NULL, &c);
	assert_int_equal(rosnap_boot_save(b), 0);
	rosnap_boot_unref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(cmdline_settings),
		cmocka_unit_test(store_settings),
		cmocka_unit_test(switches),
		cmocka_unit_test(cmdline_problems),
		cmocka_unit_test(quoting),
		cmocka_unit_test(config_file),
		cmocka_unit_test(config_problems),
		cmocka_unit_test(monitor_settings),
		cmocka_unit_test(unit_names),
		cmocka_unit_test(root_paths),
		cmocka_unit_test(generator_label),
		cmocka_unit_test(generator_journal),
		cmocka_unit_test(precedence),
	};

	return cmocka_run_group_tests_name("boot", tests, NULL, NULL);
}
