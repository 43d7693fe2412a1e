#!/bin/sh
# remove refuses a mounted or open device, names the mount point, and
# changes nothing; after unmount it works.
# modes: plain udev
. /tests/lib.sh
on_exit remove_all

mkfs_on /dev/vdc ext4 -b 4096
rosnap create /dev/vdc --ram 16M >/dev/null || fail "create failed"
mkdir -p /mnt/busy
mount /dev/mapper/rosnap-vdc /mnt/busy || fail "mount"
unchanged expect_fail 4 "mounted on /mnt/busy; unmount it first" rosnap remove rosnap-vdc
umount /mnt/busy

step "open by a program"
hold_open rosnap-vdc
unchanged expect_fail 4 "it is open" rosnap remove rosnap-vdc
release_hold
rosnap remove rosnap-vdc || fail "remove after unmount failed"
expect_fail 3 "not a rosnap device" rosnap remove rosnap-vdc
