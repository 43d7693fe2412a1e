#!/bin/sh
# Several rosnap devices on brd at once, each its own RAM disk; brd is
# unloaded (its memory given back) with the last.  A brd someone else
# loaded with small devices is used within its size (on a ramdisk of
# rosnap's own), refused beyond it, and never unloaded by rosnap.
# modes: plain udev-all
# cost: 26
. /tests/lib.sh
on_exit 'remove_all; rmmod brd 2>/dev/null'

mkfs_on /dev/vdc ext4 -b 1024
mkfs_on /dev/vdd vfat
mkfs_on /dev/vdb ext4 -b 4096
sc=$(sum_of /dev/vdc)
sd=$(sum_of /dev/vdd)

step "two brd devices and a zram one"
rosnap create /dev/vdc --name one --ram 32M >/dev/null 2>&1 || fail "create one"
rosnap create /dev/vdd --name two --ram 16M >/dev/null 2>&1 || fail "create two"
rosnap create /dev/vdb --name three --ram 16M >/dev/null 2>&1 || fail "create three"
c1=$(json_value one cow_device)
c2=$(json_value two cow_device)
[ "$c1" != "$c2" ] || fail "both use $c1"
assert_eq "$(json_value one cow_size_bytes)" $((32 << 20)) "size of one"
assert_eq "$(json_value two cow_size_bytes)" $((16 << 20)) "size of two"
assert_eq "$(json_value three backend)" zram "backend of three"
assert_eq "$(cat /sys/module/brd/parameters/rd_nr)" 0 "brd loaded by rosnap"
dd if=/dev/urandom of=/tmp/a bs=1k count=2048 2>/dev/null
dd if=/dev/urandom of=/tmp/b bs=1k count=2048 2>/dev/null
dd if=/tmp/a of=/dev/mapper/one bs=1k seek=8192 conv=fsync 2>/dev/null
dd if=/tmp/b of=/dev/mapper/two bs=1k seek=8192 conv=fsync 2>/dev/null
assert_eq "$(dd if=/dev/mapper/one bs=1k skip=8192 count=2048 2>/dev/null | md5sum)" "$(md5sum </tmp/a)" "one's data"
assert_eq "$(dd if=/dev/mapper/two bs=1k skip=8192 count=2048 2>/dev/null | md5sum)" "$(md5sum </tmp/b)" "two's data"
rosnap status

step "removing one keeps brd for the other"
rosnap remove one || fail "remove one"
[ -e /sys/module/brd ] || fail "brd unloaded while two uses it"
assert_eq "$(dd if=/dev/mapper/two bs=1k skip=8192 count=2048 2>/dev/null | md5sum)" "$(md5sum </tmp/b)" "two's data after removing one"
rosnap remove two || fail "remove two"
[ ! -e /sys/module/brd ] || fail "brd still loaded after its last device"
rosnap remove three || fail "remove three"
assert_eq "$(sum_of /dev/vdc)" "$sc" "vdc checksum"
assert_eq "$(sum_of /dev/vdd)" "$sd" "vdd checksum"

step "a brd loaded by someone else, with 8M devices"
modprobe brd rd_nr=1 rd_size=8192
unchanged expect_fail 7 "brd was loaded with devices of 8M.*smaller than the 32M" \
	rosnap create /dev/vdc --ram 32M
rosnap create /dev/vdc --ram 4M >/dev/null 2>&1 || fail "create within brd's size"
# ram0 is the loader's, not rosnap's: never taken (brd-foreign.sh).
assert_eq "$(json_value rosnap-vdc cow_device)" /dev/ram1 "a ramdisk of its own"
rosnap remove rosnap-vdc || fail "remove"
[ -e /sys/module/brd ] || fail "rosnap unloaded a brd it did not load"
rmmod brd
