#!/bin/sh
# rosnap origin: a read-only view of the origin as it is, beside the
# writable device; it refuses writes, shows none of the changes, and goes
# with --close or with remove.
# modes: plain udev-all
. /tests/lib.sh
on_exit 'umount /mnt/ov /mnt/os 2>/dev/null; remove_all'

mkfs_on /dev/vdc ext4 -b 4096
mkdir -p /mnt/os /mnt/ov
rosnap create /dev/vdc --name ov --ram 32M >/dev/null || fail "create"
mount /dev/mapper/ov /mnt/os || fail "mount"
echo changed >/mnt/os/changed
sync
view=$(rosnap origin ov) || fail "origin"
assert_eq "$view" /dev/mapper/ov-origin "view path"
assert_eq "$(blockdev --getro "$view")" 1 "the view is read-only"
if dd if=/dev/zero of="$view" bs=4k count=1 conv=fsync 2>/dev/null; then
	fail "wrote to the origin view"
fi
if [ "$ROSNAP_TEST_UDEV" = 1 ]; then
	[ -L /dev/rosnap/ov-origin ] || fail "no /dev/rosnap/ov-origin"
	uuid=$(blkid -o value -s UUID /dev/vdc)
	assert_eq "$(readlink -f "/dev/disk/by-uuid/$uuid")" "$(readlink -f /dev/mapper/ov)" \
		"by-uuid points at the writable device"
fi
mount -o ro,noload "$view" /mnt/ov || fail "mount the view"
[ ! -e /mnt/ov/changed ] || fail "the view shows a change"
expect_fail 4 "the origin view ov-origin is in use" rosnap origin ov --close
umount /mnt/ov
rosnap origin ov --close || fail "close"
[ ! -e "$view" ] || fail "the view is still there"
rosnap origin ov >/dev/null || fail "origin again"
umount /mnt/os
rosnap remove ov || fail "remove with a view"
[ ! -e "$view" ] || fail "remove left the view"
