#!/bin/sh
# An origin whose size is not a multiple of 4096 bytes cannot sit on
# zram's 4096-byte sectors (the kernel refuses the table): rosnap picks
# brd, says why, and the filesystem mounts; an explicit --backend zram
# is refused, changing nothing.
# modes: plain udev-all
. /tests/lib.sh
on_exit 'remove_all; rm -f /tmp/odd.img'

truncate -s $((64 * 1048576 + 512)) /tmp/odd.img
mkfs.ext4 -q -F -b 4096 /tmp/odd.img || fail "mkfs"
before=$(sum_of /tmp/odd.img)

step "explicit zram refused"
unchanged expect_fail 2 "size, 67109376 bytes, is not a multiple of 4096.*--backend brd" \
	rosnap create /tmp/odd.img --name odd --backend zram --ram 16M

step "automatic brd"
rosnap create /tmp/odd.img --name odd --ram 16M >/dev/null 2>/tmp/err ||
	fail "create failed: $(cat /tmp/err)"
grep -q "using brd instead of zram .*not a multiple of 4096" /tmp/err ||
	fail "no notice about brd: $(cat /tmp/err)"
assert_eq "$(json_value odd backend)" brd "backend"
mkdir -p /mnt/odd
mount /dev/mapper/odd /mnt/odd || fail "mount"
dd if=/dev/urandom of=/mnt/odd/f bs=1M count=4 conv=fsync 2>/dev/null || fail "write"
want=$(sum_of /mnt/odd/f)
umount /mnt/odd
mount /dev/mapper/odd /mnt/odd || fail "mount again"
assert_eq "$(sum_of /mnt/odd/f)" "$want" "the file read back"
umount /mnt/odd
rosnap remove odd || fail "remove"
assert_eq "$(sum_of /tmp/odd.img)" "$before" "the image"
