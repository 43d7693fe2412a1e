/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rosnap remove NAME|DEVICE [--keep] */
#include <stdio.h>

#include "rosnap.h"

int cmd_remove(struct rosnap_ctx *ctx, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "keep", no_argument, NULL, 'k' },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	bool exit_now = false, keep = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "k" COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (c == 'k')
			keep = true;
		else if (!common_option(ctx, c, "remove", &exit_now))
			return bad_option("remove");
		if (exit_now)
			return EXIT_OK;
	}
	if (optind >= argc)
		return usage_error("remove", "no device given");
	if (optind + 1 < argc)
		return usage_error("remove", "unexpected argument '%s'",
				   argv[optind + 1]);
	r = need_root("remove");
	if (r)
		return r;
	r = keep ? rosnap_detach(ctx, argv[optind]) : rosnap_remove(ctx, argv[optind]);
	if (r < 0)
		return fail(r, "cannot remove %s", argv[optind]);
	notice_update(ctx);
	return EXIT_OK;
}
