#!/bin/sh
# rosnap protects a disk: writes land in RAM, the origin stays unchanged,
# the device node is there when create returns (made by udev through
# libdevmapper's cookie, or by rosnap itself without udev).
# modes: plain udev
. /tests/lib.sh
on_exit remove_all

mkfs_on /dev/vdb ext4 -b 4096
before=$(sum_of /dev/vdb)
dev=$(rosnap create /dev/vdb --ram 64M) || fail "create failed"
assert_eq "$dev" /dev/mapper/rosnap-vdb "device path"
[ -b "$dev" ] || fail "$dev is not a block device"
if [ "$ROSNAP_TEST_UDEV" = 1 ]; then
	[ -L "$dev" ] || fail "with udev, $dev should be udev's symlink"
	[ -L /dev/rosnap/rosnap-vdb ] || fail "udev rule did not make /dev/rosnap/rosnap-vdb"
	[ "$(readlink -f /dev/rosnap/rosnap-vdb)" = "$(readlink -f "$dev")" ] ||
		fail "/dev/rosnap link points elsewhere"
	[ ! -e /dev/mapper/rosnap-vdb-cow ] || [ -L /dev/mapper/rosnap-vdb-cow ] ||
		fail "cow node not made by udev"
else
	[ ! -L "$dev" ] || fail "without udev, $dev should be a device node"
fi
mkdir -p /mnt/s
mount "$dev" /mnt/s || fail "mount failed"
dd if=/dev/urandom of=/tmp/data bs=1M count=8 2>/dev/null
cp /tmp/data /mnt/s/data && sync || fail "write"
umount /mnt/s
# Read back from the store, not the page cache.
mount "$dev" /mnt/s || fail "mount again"
assert_eq "$(sum_of /mnt/s/data)" "$(sum_of /tmp/data)" "the file read back"
umount /mnt/s
rosnap remove rosnap-vdb || fail "remove failed"
[ ! -e "$dev" ] || fail "$dev still exists after remove"
[ ! -e /dev/rosnap/rosnap-vdb ] || fail "/dev/rosnap link left after remove"
assert_eq "$(sum_of /dev/vdb)" "$before" "origin checksum"
