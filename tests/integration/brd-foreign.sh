#!/bin/sh
# Ramdisks that are not rosnap's are never taken: one the administrator
# made, unmounted and holding data, survives a brd-backed create and
# remove; rosnap reuses only the ramdisks it marked free itself.
# modes: plain udev-all
. /tests/lib.sh
on_exit 'remove_all; rmmod brd 2>/dev/null'

[ ! -e /sys/module/brd ] || fail "brd is loaded already"
modprobe brd rd_nr=1 rd_size=65536 || fail "modprobe brd"
dd if=/dev/urandom of=/dev/ram0 bs=1M count=2 conv=fsync 2>/dev/null ||
	fail "cannot write /dev/ram0"
ram0=$(sum_of /dev/ram0)
mkfs_on /dev/vdc ext4 -b 1024

step "a brd store does not take the administrator's ram0"
rosnap create /dev/vdc --ram 16M >/dev/null || fail "create"
cow=$(json_value rosnap-vdc cow_device)
case $cow in /dev/ram[1-9]*) ;; *) fail "the store is on '$cow', want a new ramdisk" ;; esac
rosnap remove rosnap-vdc || fail "remove"
assert_eq "$(sum_of /dev/ram0)" "$ram0" "/dev/ram0 after create and remove"

step "rosnap takes its own ramdisk again"
rosnap create /dev/vdc --ram 16M >/dev/null || fail "second create"
assert_eq "$(json_value rosnap-vdc cow_device)" "$cow" "the store of the second create"
rosnap remove rosnap-vdc || fail "second remove"
assert_eq "$(sum_of /dev/ram0)" "$ram0" "/dev/ram0 after a second create and remove"
rmmod brd || fail "rmmod brd"
