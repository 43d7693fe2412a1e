/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel command line and /etc/rosnap/boot.conf, as the initramfs
 * reads them: first byte picks which, the rest is the text.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

static struct rosnap_ctx *ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rosnap_boot *boot;
	char path[64];
	char *s;
	int fd;

	if (size < 1)
		return 0;
	if (!ctx && rosnap_new(&ctx) < 0)
		abort();
	if (rosnap_boot_new(ctx, &boot) < 0)
		abort();
	if (data[0] & 1) {
		fd = memfd_create("boot.conf", MFD_CLOEXEC);
		if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		(void)rosnap_boot_load_config(boot, path);
		close(fd);
	} else {
		s = fuzz_string(data + 1, size - 1);
		(void)rosnap_boot_load_cmdline(boot, s);
		free(s);
	}
	/* Whatever was read, what it says is well-formed. */
	fuzz_assert(rosnap_boot_get_name(boot) != NULL);
	fuzz_assert(rosnap_check_name(rosnap_boot_get_name(boot), NULL) == 0);
	rosnap_boot_unref(boot);
	return 0;
}
