#!/bin/sh
# A rosnap device cut short (here: its snapshot removed behind rosnap's
# back) shows as "incomplete"; remove cleans up the rest.
# modes: plain udev
. /tests/lib.sh
on_exit remove_all

mkfs_on /dev/vdc ext4 -b 4096
rosnap create /dev/vdc --ram 16M --name half >/dev/null || fail "create"
zram=$(json_value half cow_device)
dmsetup remove half || fail "dmsetup remove"
rosnap list | tee /tmp/list
grep -q '^half .*incomplete' /tmp/list || fail "list does not show the leftover"
assert_eq "$(json_value half state)" incomplete "state"
rosnap remove half || fail "remove of the leftover failed"
[ ! -e /dev/mapper/half-cow ] || fail "half-cow left"
[ ! -e "/sys/block/${zram#/dev/}" ] || fail "$zram left"
assert_eq "$(rosnap list)" "" "list after cleanup"
# Without its snapshot's table rosnap cannot know the origin: the flag
# stays set, as rosnap(8) says.
assert_eq "$(blockdev --getro /dev/vdc)" 1 "origin flag"
blockdev --setrw /dev/vdc
