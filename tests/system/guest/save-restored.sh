#!/bin/sh
# The boot after save-made, with the same rosnap.save=: the RAM store the
# last shutdown saved is restored, with the last boot's changes.
. /usr/local/lib/rosnap-test/lib.sh
assert_eq "$(findmnt -n -o SOURCE /)" /dev/mapper/rosnap-root "root device"
assert_eq "$(json_value rosnap-root location)" ram "where the changes live"
md5sum -c --quiet /data/saved.md5 || fail "the last boot's changes were not restored intact"
assert_eq "$(blockdev --getro /dev/vda)" 1 "origin read-only"
