#!/bin/sh
# enable=yes in boot.conf, "rosnap" not on the kernel command line, and
# zram blacklisted by it (module_blacklist=zram): / is protected anyway,
# on brd, rosnap's fallback when the kernel cannot load zram.
. /usr/local/lib/rosnap-test/lib.sh
for arg in $(cat /proc/cmdline); do
	[ "$arg" != rosnap ] || fail "rosnap is on the kernel command line"
done
assert_eq "$(findmnt -n -o SOURCE /)" /dev/mapper/rosnap-root "root device"
assert_eq "$(json_value rosnap-root backend)" brd "backend"
[ ! -e /sys/module/zram ] || fail "zram is loaded"
assert_eq "$(blockdev --getro /dev/vda)" 1 "origin read-only"
echo enabled >/etc/rosnap-enabled || fail "/ is not writable"
state=$(systemctl is-system-running --wait) || true  # checked below, with the failed units
systemctl --failed --no-legend
assert_eq "$state" running "systemctl is-system-running"
