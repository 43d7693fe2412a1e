#!/bin/sh
# The boot after store-made, with the same rosnap.store=: the store is
# attached again, and the last boot's changes are back, intact.
. /usr/local/lib/rosnap-test/lib.sh
assert_eq "$(findmnt -n -o SOURCE /)" /dev/mapper/rosnap-root "root device"
assert_eq "$(json_value rosnap-root store)" /dev/vdc "store"
assert_eq "$(blockdev --getro /dev/vda)" 1 "origin read-only"
md5sum -c --quiet /data/kept.md5 || fail "the last boot's changes are not back intact"
state=$(systemctl is-system-running --wait) || true  # checked below, with the failed units
systemctl --failed --no-legend
assert_eq "$state" running "systemctl is-system-running"
echo again >/etc/rosnap-kept-2
sync
