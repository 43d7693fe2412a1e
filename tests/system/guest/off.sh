#!/bin/sh
# rosnap=off: the disk itself, writable, no rosnap device.
. /usr/local/lib/rosnap-test/lib.sh
assert_eq "$(findmnt -n -o SOURCE /)" /dev/vda "root device"
assert_eq "$(rosnap list)" "" "rosnap devices"
[ ! -e /run/motd.d/rosnap ] || fail "a login notice on an unprotected root: $(cat /run/motd.d/rosnap)"
touch /etc/rosnap-off || fail "/ is not writable"
state=$(systemctl is-system-running --wait) || true  # checked below, with the failed units
assert_eq "$state" running "systemctl is-system-running"
