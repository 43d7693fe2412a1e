#!/bin/sh
# A snapshot the kernel invalidated (an I/O error on its store) is not
# merged, with an explanation; discard starts it afresh; remove works.
# modes: plain
. /tests/lib.sh
trap remove_all EXIT

mkfs_on /dev/vdc ext4 -b 4096
origin=$(sum_of /dev/vdc)
rosnap create /dev/vdc --name inv --ram 16M >/dev/null || fail "create"
# Make the store fail writes for a moment, as a failing device would.
table=$(dmsetup table inv-cow)
dmsetup suspend inv-cow
dmsetup reload inv-cow --table "0 $(blockdev --getsz /dev/mapper/inv-cow) error"
dmsetup resume inv-cow
dd if=/dev/urandom of=/dev/mapper/inv bs=4k count=4 seek=100 conv=fsync 2>/dev/null
dmsetup suspend inv-cow
dmsetup reload inv-cow --table "$table"
dmsetup resume inv-cow
assert_eq "$(json_value inv state)" invalid "state"
unchanged expect_fail 2 "inv is invalid: the kernel dropped its changes" rosnap merge inv
rosnap discard inv || fail "discard of an invalid snapshot"
assert_eq "$(json_value inv state)" active "state after discard"
assert_eq "$(sum_of /dev/mapper/inv)" "$origin" "device after discard"
rosnap remove inv || fail "remove"
