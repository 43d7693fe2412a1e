#!/bin/sh
# ext4 with 1K blocks cannot sit on zram's 4K sectors: rosnap picks brd,
# says so, and it mounts; an explicit --backend zram is refused.
# modes: plain udev-all
# cost: 18
. /tests/lib.sh
on_exit remove_all

mkfs_on /dev/vdc ext4 -b 1024
before=$(sum_of /dev/vdc)

step "explicit zram refused"
unchanged expect_fail 2 "1024-byte blocks.*--backend brd" \
	rosnap create /dev/vdc --backend zram --ram 32M

step "automatic brd"
rosnap create /dev/vdc --ram 32M >/tmp/out 2>/tmp/err || fail "create failed: $(cat /tmp/err)"
grep -q "using brd instead of zram" /tmp/err || fail "no notice about brd: $(cat /tmp/err)"
assert_eq "$(json_value rosnap-vdc backend)" brd "backend"
case $(json_value rosnap-vdc cow_device) in /dev/ram[0-9]*) ;; *) fail "cow is not a brd device" ;; esac
mkdir -p /mnt/b
mount /dev/mapper/rosnap-vdc /mnt/b || fail "1K-block ext4 does not mount"
dd if=/dev/urandom of=/mnt/b/f bs=1k count=3000 2>/dev/null
sync
ram=$(json_value rosnap-vdc ram_used_bytes)
[ "$ram" -ge $((3000 * 1024)) ] || fail "brd RAM use $ram below the 3000K written"
umount /mnt/b
rosnap remove rosnap-vdc || fail "remove failed"
assert_eq "$(sum_of /dev/vdc)" "$before" "origin checksum"
[ ! -e /sys/module/brd ] || fail "brd still loaded after its last device went"
