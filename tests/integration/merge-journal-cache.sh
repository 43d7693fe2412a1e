#!/bin/sh
# A journaled merge copies the store as the kernel wrote it, not pages an
# earlier buffered reader of the store (blkid, dd, udev) left in its page
# cache: dm-snapshot writes the store with bios, which never update that
# cache, and the origin would get the stale copy.
# modes: plain udev-all
. /tests/lib.sh
on_exit 'remove_all'

mkfs_on /dev/vdc ext4 -b 4096
mkfs_on /dev/vdd ext4 -b 4096
mkdir -p /mnt/c /mnt/j
mount /dev/vdd /mnt/j || fail "mount the journal disk"
rosnap create /dev/vdc --ram 64M >/dev/null || fail "create"
mount /dev/mapper/rosnap-vdc /mnt/c || fail "mount"
dd if=/dev/urandom of=/tmp/a bs=1M count=4 2>/dev/null
dd if=/dev/urandom of=/tmp/b bs=1M count=4 2>/dev/null

step "write A, read the store buffered, overwrite with B in place"
cp /tmp/a /mnt/c/f && sync || fail "write A"
dd if=/dev/mapper/rosnap-vdc-cow of=/dev/null bs=1M 2>/dev/null || fail "read the store"
dd if=/tmp/b of=/mnt/c/f bs=1M conv=notrunc,fsync 2>/dev/null || fail "write B"
sync
assert_eq "$(sum_of /mnt/c/f)" "$(sum_of /tmp/b)" "the file before the merge"

step "journaled merge"
rosnap merge rosnap-vdc --journal /mnt/j/journal || fail "merge"
umount /mnt/c
rosnap remove rosnap-vdc || fail "remove"
mount -o ro /dev/vdc /mnt/c || fail "mount the origin"
got=$(sum_of /mnt/c/f)
umount /mnt/c
umount /mnt/j
[ "$got" != "$(sum_of /tmp/a)" ] || fail "the origin got the stale cached data A"
assert_eq "$got" "$(sum_of /tmp/b)" "the file on the origin after the merge"
