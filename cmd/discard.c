/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosnap discard NAME|DEVICE [--remove]
 * rosnap protect NAME|DEVICE [--ram SIZE]
 * rosnap origin NAME|DEVICE [--close]
 */
#include <stdint.h>
#include <stdio.h>

#include "rosnap.h"

/* The one positional argument of discard and protect. */
static int one_device(int argc, char *argv[], const char *verb)
{
	if (optind >= argc)
		return usage_error(verb, "no device given");
	if (optind + 1 < argc)
		return usage_error(verb, "unexpected argument '%s'",
				   argv[optind + 1]);
	return need_root(verb);
}

int cmd_discard(struct rosnap_ctx *ctx, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "remove", no_argument, NULL, 'R' },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	uint32_t flags = 0;
	bool exit_now = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "R" COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (c == 'R')
			flags |= ROSNAP_DISCARD_REMOVE;
		else if (!common_option(ctx, c, "discard", &exit_now))
			return bad_option("discard");
		if (exit_now)
			return EXIT_OK;
	}
	r = one_device(argc, argv, "discard");
	if (r)
		return r;
	r = rosnap_discard(ctx, argv[optind], flags);
	if (r < 0)
		return fail(r, "cannot discard the changes of %s", argv[optind]);
	return EXIT_OK;
}

int cmd_protect(struct rosnap_ctx *ctx, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "ram", required_argument, NULL, 'r' },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	bool exit_now = false;
	uint64_t ram = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "r:" COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (c == 'r') {
			r = ram_option(ctx, "protect", "ram", optarg, &ram);
			if (r)
				return r;
		} else if (!common_option(ctx, c, "protect", &exit_now)) {
			return bad_option("protect");
		}
		if (exit_now)
			return EXIT_OK;
	}
	r = one_device(argc, argv, "protect");
	if (r)
		return r;
	r = rosnap_protect(ctx, argv[optind], ram);
	if (r < 0)
		return fail(r, "cannot protect %s", argv[optind]);
	notice_update(ctx);
	return EXIT_OK;
}

int cmd_origin(struct rosnap_ctx *ctx, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "close", no_argument, NULL, 'x' },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct rosnap_device *dev = NULL;
	bool exit_now = false, close_view = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "x" COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (c == 'x')
			close_view = true;
		else if (!common_option(ctx, c, "origin", &exit_now))
			return bad_option("origin");
		if (exit_now)
			return EXIT_OK;
	}
	r = one_device(argc, argv, "origin");
	if (r)
		return r;
	r = rosnap_origin_view(ctx, argv[optind], !close_view);
	if (r < 0)
		return fail(r, "cannot %s the origin view of %s",
			    close_view ? "close" : "open", argv[optind]);
	if (!close_view && rosnap_device_open(ctx, argv[optind], &dev) == 0) {
		printf("/dev/mapper/%s-origin\n", rosnap_device_get_name(dev));
		rosnap_device_unref(dev);
	}
	return EXIT_OK;
}

int cmd_grow(struct rosnap_ctx *ctx, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "by", required_argument, NULL, 'b' },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	bool exit_now = false;
	uint64_t by = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "b:" COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (c == 'b') {
			r = ram_option(ctx, "grow", "by", optarg, &by);
			if (r)
				return r;
		} else if (!common_option(ctx, c, "grow", &exit_now)) {
			return bad_option("grow");
		}
		if (exit_now)
			return EXIT_OK;
	}
	if (!by)
		return usage_error("grow", "--by SIZE is needed");
	r = one_device(argc, argv, "grow");
	if (r)
		return r;
	r = rosnap_grow(ctx, argv[optind], by);
	if (r < 0)
		return fail(r, "cannot grow %s", argv[optind]);
	return EXIT_OK;
}
