/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosnap boot [ROOT] [--config FILE] [--cmdline FILE] [--link PATH]
 * rosnap boot --generator DIR
 * rosnap boot --save
 *
 * Run by the initramfs integration, before the root filesystem is
 * mounted: prints the device to mount as root; or, as a systemd
 * generator in the initrd, writes the units that do so; or, at a clean
 * shutdown (rosnap-save.service), saves the root's RAM store where the
 * save= setting says (rosnap-boot(7)).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rosnap.h"

static int read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* Point PATH at target, replacing what was there in one rename. */
static int make_link(const char *target, const char *path)
{
	char tmp[4096], *slash;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	slash = strrchr(tmp, '/');
	if (slash && slash != tmp) {
		*slash = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*slash = '/';
	}
	unlink(tmp);
	if (symlink(target, tmp) < 0 || rename(tmp, path) < 0)
		return -errno;
	return 0;
}

int cmd_boot(struct rosnap_ctx *ctx, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "cmdline", required_argument, NULL, 'k' },
		{ "link", required_argument, NULL, 'l' },
		{ "generator", required_argument, NULL, 'g' },
		{ "save", no_argument, NULL, 'S' },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *config = "/etc/rosnap/boot.conf", *cmdfile = "/proc/cmdline";
	const char *link = NULL, *generator = NULL, *root, *newroot;
	struct rosnap_boot *boot = NULL;
	bool exit_now = false, save = false, other_mode = false;
	char cmdline[65536];
	int c, r;

	while ((c = getopt_long(argc, argv, "c:k:l:g:" COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'k':
			cmdfile = optarg;
			break;
		case 'l':
			link = optarg;
			other_mode = true;
			break;
		case 'g':
			generator = optarg;
			other_mode = true;
			break;
		case 'S':
			save = true;
			break;
		default:
			if (common_option(ctx, c, "boot", &exit_now))
				break;
			return bad_option("boot");
		}
		if (exit_now)
			return EXIT_OK;
	}
	if (optind + 1 < argc || (save && optind < argc))
		return usage_error("boot", "unexpected argument '%s'",
				   argv[argc - 1]);
	if (save && other_mode)
		return usage_error("boot", "--save goes alone: it saves the "
				   "root's store at shutdown");
	r = need_root("boot");
	if (r)
		return r;
	r = read_text(cmdfile, cmdline, sizeof(cmdline));
	if (r < 0)
		return fail(r, "cannot read %s", cmdfile);
	r = rosnap_boot_new(ctx, &boot);
	if (r < 0)
		return fail(r, "cannot start");
	/* Even when boot.conf cannot be read: rosnap=off there still wins. */
	rosnap_boot_load_config(boot, config);
	rosnap_boot_load_cmdline(boot, cmdline);
	if (generator) {
		r = rosnap_boot_write_units(boot, generator);
		rosnap_boot_unref(boot);
		return r < 0 ? exit_code(r) : EXIT_OK;
	}
	if (save) {
		r = rosnap_boot_save(boot);
		rosnap_boot_unref(boot);
		return r < 0 ? fail(r, "cannot save the root's changes") : EXIT_OK;
	}
	root = optind < argc ? argv[optind] : rosnap_boot_get_root(boot);
	if (!root) {
		rosnap_boot_unref(boot);
		return usage_error("boot", "no ROOT given, and no root= on the "
				   "kernel command line");
	}
	r = rosnap_boot_protect_root(boot, root, &newroot);
	/* Protected (not a fallback to the disk, which may be a device-mapper
	 * device too): the login notice. */
	if (r == 0) {
		char dev[300];

		snprintf(dev, sizeof(dev), "/dev/mapper/%s",
			 rosnap_boot_get_name(boot));
		notice_boot(ctx, rosnap_boot_get_name(boot),
			    rosnap_boot_get_notice(boot) &&
			    strcmp(newroot, dev) == 0);
	}
	if (r == 0 && link)
		r = make_link(newroot, link);
	if (r == 0)
		printf("%s\n", newroot);
	rosnap_boot_unref(boot);
	if (r < 0)
		return fail(r, "cannot boot %s", root);
	return EXIT_OK;
}
