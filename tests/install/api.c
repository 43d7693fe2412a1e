// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A program built against the installed librosnap, as a user of the
 * library would build it (pkg-config librosnap): it must compile, link
 * and run without a kernel's device-mapper (tests/install/run).
 */
#include <inttypes.h>
#include <stdio.h>

#include <librosnap.h>

int main(void)
{
	struct rosnap_ctx *ctx;
	const char *why = NULL;
	char text[32];
	uint64_t bytes;

	if (rosnap_new(&ctx) < 0)
		return 1;
	if (rosnap_parse_size("256M", &bytes) < 0 ||
	    rosnap_format_size(bytes, text, sizeof(text)) < 0)
		return 1;
	printf("size %" PRIu64 " %s\n", bytes, text);
	printf("name a/b %s\n", rosnap_check_name("a/b", &why) < 0 ? why : "accepted");
	printf("backend %s\n", rosnap_backend_name(ROSNAP_BACKEND_ZRAM));
	rosnap_unref(ctx);
	return 0;
}
