#!/bin/sh
# The boot after a protected one: its changes are gone, the data disk's stay.
. /usr/local/lib/rosnap-test/lib.sh
mountpoint -q /data || fail "/data (the data disk) is not mounted"
assert_eq "$(findmnt -n -o SOURCE /)" /dev/mapper/rosnap-root "root device"
[ ! -e /etc/rosnap-boot1 ] || fail "a change of the last boot survived"
[ ! -e /var/tmp/big ] || fail "a change of the last boot survived"
assert_eq "$(cat /data/persistent)" persistent "data disk"
