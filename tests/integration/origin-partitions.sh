#!/bin/sh
# A whole disk with a mounted partition is refused; a partition beside a
# mounted one is fine.
# modes: plain
. /tests/lib.sh
on_exit 'remove_all; umount /mnt/p1 2>/dev/null; wipe /dev/vdb'

wipe /dev/vdb
printf 'label: gpt\nsize=100M\nsize=100M\n' | sfdisk -q /dev/vdb || fail "sfdisk"
for i in $(seq 50); do [ -b /dev/vdb2 ] && break; sleep 0.1; done
mkfs.ext4 -q -b 4096 /dev/vdb1
mkfs.ext4 -q -b 4096 /dev/vdb2
mkdir -p /mnt/p1 && mount /dev/vdb1 /mnt/p1
unchanged expect_fail 4 "or one of its partitions is mounted on /mnt/p1" rosnap create /dev/vdb
rosnap create /dev/vdb2 --ram 16M >/dev/null || fail "partition beside a mounted one"
assert_eq "$(json_value rosnap-vdb2 origin)" /dev/vdb2 "origin"
rosnap remove rosnap-vdb2
