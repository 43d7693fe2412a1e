/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rosnap create ORIGIN [--name NAME] [--ram SIZE] [--backend B] ... */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "rosnap.h"

int cmd_create(struct rosnap_ctx *ctx, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "ram", required_argument, NULL, 'r' },
		{ "backend", required_argument, NULL, 'b' },
		{ "chunk", required_argument, NULL, 'c' },
		{ "profile", required_argument, NULL, 'p' },
		{ "compression", required_argument, NULL, 'C' },
		{ "store", required_argument, NULL, 's' },
		{ "size", required_argument, NULL, 'S' },
		{ "overwrite", no_argument, NULL, 'O' },
		{ "encrypt", no_argument, NULL, 'E' },
		{ "key-file", required_argument, NULL, 'K' },
		{ "restore", required_argument, NULL, 'R' },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct rosnap_create_opts o = { 0 };
	struct rosnap_device *dev = NULL;
	bool exit_now = false;
	const char *why;
	uint64_t v;
	int c, r;

	bool ram_given = false, chunk_given = false, profile_given = false;
	uint64_t size = 0;

	while ((c = getopt_long(argc, argv, "n:r:b:c:C:s:S:" COMMON_SHORTOPTS,
				longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (rosnap_check_name(optarg, &why) < 0)
				return usage_error("create", "invalid name '%s': %s",
						   optarg, why);
			o.name = optarg;
			break;
		case 'r':
			r = ram_option(ctx, "create", "ram", optarg, &o.ram_bytes);
			if (r)
				return r;
			ram_given = true;
			break;
		case 's':
			if (optarg[0] != '/')
				return usage_error("create", "--store needs an absolute "
						   "path, not '%s'", optarg);
			o.store = optarg;
			break;
		case 'S':
			r = rosnap_parse_size(optarg, &v);
			if (r < 0 || v == 0)
				return usage_error("create", "invalid --size '%s': give "
						   "a size such as 4G", optarg);
			size = v;
			break;
		case 'O':
			o.flags |= ROSNAP_CREATE_OVERWRITE;
			break;
		case 'E':
			o.flags |= ROSNAP_CREATE_ENCRYPT;
			break;
		case 'K':
			o.key_file = optarg;
			break;
		case 'R':
			if (optarg[0] != '/')
				return usage_error("create", "--restore needs an "
						   "absolute path, not '%s'", optarg);
			o.restore = optarg;
			break;
		case 'b':
			if (rosnap_backend_from_name(optarg, &o.backend) < 0)
				return usage_error("create", "unknown backend '%s': "
						   "use zram or brd", optarg);
			break;
		case 'c':
			r = rosnap_parse_size(optarg, &v);
			if (r < 0 || v == 0 || v > UINT32_MAX)
				return usage_error("create", "invalid --chunk '%s': "
						   "give a power of two such as 4K",
						   optarg);
			o.chunk_bytes = (uint32_t)v;
			chunk_given = true;
			break;
		case 'p':
			if (rosnap_parse_profile(optarg, &o.chunk_bytes) < 0)
				return usage_error("create", "unknown --profile '%s': "
						   "use one of " ROSNAP_PROFILES,
						   optarg);
			profile_given = true;
			break;
		case 'C':
			o.compression = optarg;
			break;
		default:
			if (common_option(ctx, c, "create", &exit_now))
				break;
			return bad_option("create");
		}
		if (exit_now)
			return EXIT_OK;
	}
	if (chunk_given && profile_given)
		return usage_error("create", "--profile names a chunk size: give "
				   "--profile or --chunk, not both");
	if (o.store && (ram_given || o.backend || o.compression))
		return usage_error("create", "--ram, --backend and --compression are "
				   "for a RAM store; a store on disk (--store) takes "
				   "--size for a new file");
	if (o.store && o.restore)
		return usage_error("create", "--restore loads a saved store into "
				   "RAM; it does not go with --store");
	if (!o.store && size)
		return usage_error("create", "--size applies to a store on disk "
				   "(--store); a RAM store takes --ram");
	if (o.store)
		o.ram_bytes = size;
	if (!o.store && (o.flags & ROSNAP_CREATE_OVERWRITE))
		return usage_error("create", "--overwrite applies to a store on "
				   "disk (--store)");
	if (!o.store && ((o.flags & ROSNAP_CREATE_ENCRYPT) ||
			 (o.key_file && !o.restore)))
		return usage_error("create", "--encrypt and --key-file apply to a "
				   "store on disk (--store), --key-file also to an "
				   "encrypted save (--restore); a RAM store is gone "
				   "at power-off anyway");
	if ((o.flags & ROSNAP_CREATE_ENCRYPT) && o.key_file)
		return usage_error("create", "--encrypt takes a random key, "
				   "--key-file a key of yours: give one of them");
	if (optind >= argc)
		return usage_error("create", "no ORIGIN given");
	if (optind + 1 < argc)
		return usage_error("create", "unexpected argument '%s'",
				   argv[optind + 1]);
	r = need_root("create");
	if (r)
		return r;
	r = rosnap_create(ctx, argv[optind], &o, &dev);
	if (r < 0)
		return fail(r, "cannot protect %s", argv[optind]);
	printf("%s\n", rosnap_device_get_path(dev));
	rosnap_device_unref(dev);
	return EXIT_OK;
}
