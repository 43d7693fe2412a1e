#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# dracut pre-mount hook (an initrd without systemd), sourced by dracut's
# init: protect the root device before it is mounted.  rosnap decides from
# the kernel command line and /etc/rosnap/boot.conf and prints the device
# to mount; nothing of the command line is evaluated here.
type die >/dev/null 2>&1 || . /lib/dracut-lib.sh

rosnap_dev=${root#block:}
case $rosnap_dev in
/dev/*)
	if rosnap_new=$(/usr/sbin/rosnap boot "$rosnap_dev"); then
		[ "$rosnap_new" = "$rosnap_dev" ] || root="block:$rosnap_new"
	else
		die "rosnap: the root filesystem $rosnap_dev could not be protected (rosnap.fallback=panic)"
	fi
	;;
esac
unset rosnap_dev rosnap_new
