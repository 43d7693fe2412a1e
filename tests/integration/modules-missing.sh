#!/bin/sh
# A kernel without a module rosnap needs: the error names the kernel
# option, the exit status is 6, nothing changes.  Without zram, rosnap
# uses brd, its fallback, and says why, unless zram was asked for
# (--backend zram, or --compression).
# modes: plain
. /tests/lib.sh
kdir=/lib/modules/$(uname -r)/kernel
on_exit 'umount $kdir/drivers/block/zram 2>/dev/null; umount $kdir/drivers/md/dm-snapshot.ko 2>/dev/null; remove_all'

mkfs_on /dev/vdc ext4 -b 4096

step "no zram"
rmmod zram 2>/dev/null || true  # not loaded, or in use: checked next
[ ! -e /sys/module/zram ] || skip "zram is in use and cannot be unloaded"
mount -t tmpfs tmpfs "$kdir/drivers/block/zram"
unchanged expect_fail 6 "no zram support.*CONFIG_ZRAM" \
	rosnap create /dev/vdc --ram 16M --backend zram
# A compression algorithm asks for zram too.
unchanged expect_fail 6 "no zram support.*CONFIG_ZRAM" \
	rosnap create /dev/vdc --ram 16M --compression lz4
rosnap create /dev/vdc --ram 16M 2>/tmp/err >/dev/null
grep -q "using brd instead of zram for /dev/vdc: the kernel has no zram support" /tmp/err ||
	fail "no notice about brd: $(cat /tmp/err)"
assert_eq "$(json_value rosnap-vdc backend)" brd "backend without zram"
[ ! -e /sys/module/zram ] || fail "zram loaded"
mount /dev/mapper/rosnap-vdc /mnt
echo kept >/mnt/f
umount /mnt
rosnap remove rosnap-vdc
umount "$kdir/drivers/block/zram"

step "a dm-snapshot module that cannot load"
rmmod dm_snapshot 2>/dev/null || true  # not loaded, or in use: checked next
[ ! -e /sys/module/dm_snapshot ] || skip "dm_snapshot is in use and cannot be unloaded"
: >/tmp/empty.ko
mount --bind /tmp/empty.ko "$kdir/drivers/md/dm-snapshot.ko"
unchanged expect_fail 6 "cannot load kernel module dm_snapshot \\(CONFIG_DM_SNAPSHOT\\)" \
	rosnap create /dev/vdc --ram 16M
umount "$kdir/drivers/md/dm-snapshot.ko"

step "modules load on demand"
rosnap create /dev/vdc --ram 16M >/dev/null || fail "create with modules available"
[ -e /sys/module/dm_snapshot ] && [ -e /sys/module/zram ] || fail "modules not loaded"
rosnap remove rosnap-vdc
