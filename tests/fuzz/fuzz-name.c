/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Names: device names, algorithm names, DM UUIDs, MAJ:MIN numbers. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	const char *why = NULL;
	struct rosnap_uuid u;
	dev_t dev;
	size_t i;

	if (rosnap_check_name(s, &why) == 0) {
		/* Nothing a shell, a path or a udev rule would treat specially. */
		fuzz_assert(*s && *s != '-' && strlen(s) <= 100);
		for (i = 0; s[i]; i++)
			fuzz_assert(strchr("/ \t\n$`'\"\\;&|<>(){}*?[]~", s[i]) == NULL);
	} else {
		fuzz_assert(why != NULL);
	}
	if (algorithm_name_ok(s))
		fuzz_assert(strpbrk(s, " \n/;$") == NULL);
	(void)uuid_parse(s, &u);
	(void)devnum_parse(s, &dev);
	free(s);
	return 0;
}
