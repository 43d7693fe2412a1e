/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rosnap save NAME|DEVICE PATH [--overwrite] [--key-file FILE] */
#include <stdio.h>

#include "rosnap.h"

int cmd_save(struct rosnap_ctx *ctx, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "overwrite", no_argument, NULL, 'O' },
		{ "key-file", required_argument, NULL, 'K' },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *key_file = NULL;
	bool exit_now = false;
	uint32_t flags = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (c == 'O')
			flags |= ROSNAP_SAVE_OVERWRITE;
		else if (c == 'K')
			key_file = optarg;
		else if (!common_option(ctx, c, "save", &exit_now))
			return bad_option("save");
		if (exit_now)
			return EXIT_OK;
	}
	if (optind >= argc)
		return usage_error("save", "no device given");
	if (optind + 1 >= argc)
		return usage_error("save", "no PATH given: where to save the store");
	if (optind + 2 < argc)
		return usage_error("save", "unexpected argument '%s'",
				   argv[optind + 2]);
	if (argv[optind + 1][0] != '/')
		return usage_error("save", "PATH must be absolute, not '%s'",
				   argv[optind + 1]);
	r = need_root("save");
	if (r)
		return r;
	r = rosnap_save_key(ctx, argv[optind], argv[optind + 1], flags,
			    key_file);
	if (r < 0)
		return fail(r, "cannot save %s", argv[optind]);
	return EXIT_OK;
}
