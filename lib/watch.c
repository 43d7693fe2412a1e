/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rosnap devices coming and going, from udev's events: a udev monitor on
 * block disks, its events kept when their DM_UUID is rosnap's.  udev's
 * own events, not the kernel's: they come after the rules ran, with the
 * device-mapper properties (the kernel's "add" of a dm device has no UUID
 * yet), and the device's node and links are in place.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libudev.h>

#include "internal.h"

struct rosnap_watch {
	struct rosnap_ctx *ctx;   /* a reference: the monitor uses its udev */
	struct udev_monitor *mon;
};

_public_ int rosnap_watch_new(struct rosnap_ctx *ctx, struct rosnap_watch **out)
{
	struct rosnap_watch *w;
	struct udev *u;
	char control[PATH_MAX];

	/* No udevd, no udev events: the caller polls instead. */
	if (path_build(ctx, control, sizeof(control), "/run/udev/control") < 0 ||
	    access(control, F_OK) < 0)
		return -ENOTSUP;
	u = blkdev_udev(ctx);
	if (!u)
		return -ENOMEM;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->ctx = rosnap_ref(ctx);
	w->mon = udev_monitor_new_from_netlink(u, "udev");
	if (!w->mon ||
	    udev_monitor_filter_add_match_subsystem_devtype(w->mon, "block",
							    "disk") < 0 ||
	    udev_monitor_enable_receiving(w->mon) < 0) {
		log_err(ctx, "cannot listen to udev's events");
		rosnap_watch_unref(w);
		return -EIO;
	}
	*out = w;
	return 0;
}

_public_ int rosnap_watch_get_fd(const struct rosnap_watch *w)
{
	return udev_monitor_get_fd(w->mon);
}

_public_ int rosnap_watch_read(struct rosnap_watch *w)
{
	struct udev_device *d;
	const char *uuid;
	int ours = 0;

	/* The socket is non-blocking: NULL once it is drained. */
	errno = 0;
	while ((d = udev_monitor_receive_device(w->mon))) {
		uuid = udev_device_get_property_value(d, "DM_UUID");
		if (uuid && strncmp(uuid, UUID_PREFIX, strlen(UUID_PREFIX)) == 0)
			ours = 1;
		udev_device_unref(d);
		errno = 0;
	}
	/* Events lost to a full socket may have been ours. */
	return errno == ENOBUFS ? 1 : ours;
}

_public_ struct rosnap_watch *rosnap_watch_unref(struct rosnap_watch *w)
{
	if (!w)
		return NULL;
	udev_monitor_unref(w->mon);
	rosnap_unref(w->ctx);
	free(w);
	return NULL;
}
