#!/bin/sh
# The boot after the cut: the initramfs finished the merge from the
# journal before mounting /; everything merged is there; the journal is
# wiped.
. /usr/local/lib/rosnap-test/lib.sh
mountpoint -q /data || fail "/data (the data disk) is not mounted"
assert_eq "$(findmnt -n -o SOURCE /)" /dev/mapper/rosnap-root "root device"
md5sum -c /data/expected || fail "the merged files are not right"
[ "$(head -c 7 /dev/vdc)" != ROSNAPJ ] || fail "the journal is still there"
