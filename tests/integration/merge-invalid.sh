#!/bin/sh
# A snapshot the kernel invalidated (an I/O error on its store) is not
# merged, with an explanation; discard starts it afresh; remove works.
# modes: plain
# cost: 19
. /tests/lib.sh
on_exit remove_all

mkfs_on /dev/vdc ext4 -b 4096
origin=$(sum_of /dev/vdc)
make_invalid inv /dev/vdc
unchanged expect_fail 2 "inv is invalid: the kernel dropped its changes" rosnap merge inv
rosnap discard inv || fail "discard of an invalid snapshot"
assert_eq "$(json_value inv state)" active "state after discard"
assert_eq "$(sum_of /dev/mapper/inv)" "$origin" "device after discard"
rosnap remove inv || fail "remove"
