#!/bin/sh
# xfs: with 512-byte sectors (mkfs.xfs's default here) on brd, with 4K
# sectors on zram; both mount, take writes, and leave the origin intact;
# the filesystem on the snapshot checks clean.
# modes: plain
# cost: 47
. /tests/lib.sh
on_exit remove_all
mkdir -p /mnt/x

for variant in 512 4096; do
	step "xfs, $variant-byte sectors"
	mkfs_on /dev/vda xfs -s size=$variant
	before=$(sum_of /dev/vda)
	rosnap create /dev/vda --ram 128M --name x >/dev/null 2>/tmp/err || fail "create: $(cat /tmp/err)"
	want=zram
	[ $variant = 4096 ] || want=brd
	assert_eq "$(json_value x backend)" $want "backend for $variant-byte sectors"
	mount /dev/mapper/x /mnt/x || fail "mount failed"
	dd if=/dev/urandom of=/mnt/x/f bs=1M count=20 2>/dev/null
	mkdir /mnt/x/d && cp -a /usr/sbin /mnt/x/d/
	umount /mnt/x
	xfs_repair -n /dev/mapper/x >/tmp/repair 2>&1 || { cat /tmp/repair; fail "xfs_repair on the snapshot"; }
	rosnap remove x || fail "remove failed"
	assert_eq "$(sum_of /dev/vda)" "$before" "origin checksum"
done
