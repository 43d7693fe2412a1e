#!/bin/sh
# discard: refused while mounted or open; afterwards the device shows the
# pristine origin again, same name and size, empty store.  --remove
# removes it.
# modes: plain udev
# cost: 28
. /tests/lib.sh
on_exit remove_all

mkfs_on /dev/vdc ext4 -b 4096
origin=$(sum_of /dev/vdc)
mkdir -p /mnt/d
rosnap create /dev/vdc --name dis --ram 32M --compression lz4 >/dev/null || fail "create"
mount /dev/mapper/dis /mnt/d && dd if=/dev/urandom of=/mnt/d/f bs=1M count=8 2>/dev/null
unchanged expect_fail 4 "dis is mounted on /mnt/d; unmount it first, then discard" rosnap discard dis
umount /mnt/d
hold_open dis
unchanged expect_fail 4 "dis is open" rosnap discard dis
release_hold
[ "$(sum_of /dev/mapper/dis)" != "$origin" ] || fail "the device shows no changes before discard"
size=$(json_value dis cow_size_bytes)
rosnap discard dis || fail "discard"
assert_eq "$(sum_of /dev/mapper/dis)" "$origin" "device after discard"
assert_eq "$(json_value dis state)" active "state"
assert_eq "$(json_value dis cow_size_bytes)" "$size" "store size"
assert_eq "$(json_value dis compression)" lz4 "compression kept"
[ "$(json_value dis cow_used_bytes)" -lt 65536 ] || fail "store not empty"
assert_eq "$(dmsetup ls | grep -c '^dis-cow')" 1 "one store layer"
mount /dev/mapper/dis /mnt/d && [ ! -e /mnt/d/f ] || fail "discarded file still there"
umount /mnt/d
rosnap discard dis --remove || fail "discard --remove"
expect_fail 3 "not a rosnap device" rosnap status dis
assert_eq "$(sum_of /dev/vdc)" "$origin" "origin"
