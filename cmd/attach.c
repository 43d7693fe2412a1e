/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rosnap attach ORIGIN --store PATH [--name NAME] [--force] [--key-file F] */
#include <stdio.h>

#include "rosnap.h"

int cmd_attach(struct rosnap_ctx *ctx, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'F' },
		{ "key-file", required_argument, NULL, 'K' },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct rosnap_device *dev = NULL;
	const char *store = NULL, *name = NULL, *key_file = NULL, *why;
	bool exit_now = false;
	uint32_t flags = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "s:n:" COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		switch (c) {
		case 's':
			store = optarg;
			break;
		case 'n':
			if (rosnap_check_name(optarg, &why) < 0)
				return usage_error("attach", "invalid name '%s': %s",
						   optarg, why);
			name = optarg;
			break;
		case 'F':
			flags |= ROSNAP_ATTACH_FORCE;
			break;
		case 'K':
			key_file = optarg;
			break;
		default:
			if (common_option(ctx, c, "attach", &exit_now))
				break;
			return bad_option("attach");
		}
		if (exit_now)
			return EXIT_OK;
	}
	if (optind >= argc)
		return usage_error("attach", "no ORIGIN given");
	if (optind + 1 < argc)
		return usage_error("attach", "unexpected argument '%s'",
				   argv[optind + 1]);
	if (!store)
		return usage_error("attach", "no store given: --store PATH");
	if (store[0] != '/')
		return usage_error("attach", "--store needs an absolute path, not "
				   "'%s'", store);
	r = need_root("attach");
	if (r)
		return r;
	r = rosnap_attach_key(ctx, argv[optind], store, name, flags, key_file,
			      &dev);
	if (r < 0)
		return fail(r, "cannot attach %s to %s", store, argv[optind]);
	printf("%s\n", rosnap_device_get_path(dev));
	rosnap_device_unref(dev);
	return EXIT_OK;
}
