#!/bin/sh
# rosnap protects a disk: writes land in RAM, the origin stays unchanged.
# modes: plain udev
. /tests/lib.sh
trap remove_all EXIT

wipe /dev/vdb
mkfs.ext4 -q -b 4096 /dev/vdb
before=$(sum_of /dev/vdb)
dev=$(rosnap create /dev/vdb --ram 64M) || fail "create failed"
assert_eq "$dev" /dev/mapper/rosnap-vdb "device path"
[ -b "$dev" ] || fail "$dev is not a block device"
mkdir -p /mnt/s
mount "$dev" /mnt/s || fail "mount failed"
dd if=/dev/urandom of=/mnt/s/data bs=1M count=8 2>/dev/null
sync
umount /mnt/s
rosnap status
rosnap remove rosnap-vdb || fail "remove failed"
assert_eq "$(sum_of /dev/vdb)" "$before" "origin checksum"
