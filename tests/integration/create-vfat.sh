#!/bin/sh
# vfat (512-byte sectors) gets brd, mounts, takes writes, origin intact.
# modes: plain
. /tests/lib.sh
on_exit remove_all

mkfs_on /dev/vdd vfat
before=$(sum_of /dev/vdd)
rosnap create /dev/vdd --ram 16M >/dev/null 2>/tmp/err || fail "create: $(cat /tmp/err)"
assert_eq "$(json_value rosnap-vdd backend)" brd "backend"
mkdir -p /mnt/v
mount -t vfat /dev/mapper/rosnap-vdd /mnt/v || fail "mount failed"
dd if=/dev/urandom of=/mnt/v/f bs=1k count=5000 2>/dev/null
echo hello >/mnt/v/hello.txt
umount /mnt/v
fsck.vfat -n /dev/mapper/rosnap-vdd >/tmp/fsck 2>&1 || { cat /tmp/fsck; fail "fsck.vfat on the snapshot"; }
mount -t vfat /dev/mapper/rosnap-vdd /mnt/v && assert_eq "$(cat /mnt/v/hello.txt)" hello "file"
umount /mnt/v
rosnap remove rosnap-vdd || fail "remove failed"
assert_eq "$(sum_of /dev/vdd)" "$before" "origin checksum"
