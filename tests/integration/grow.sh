#!/bin/sh
# rosnap grow: a mounted filesystem's store grows live, with zram and with
# brd; what is written past the old size is kept, the status shows the
# new size and parts, the extra RAM devices go with the device; bad sizes,
# a merging device and a missing one are refused with nothing changed.
# modes: plain udev
# cost: 35
. /tests/lib.sh
on_exit 'remove_all; dmsetup remove slowvdc 2>/dev/null'

# No lazy init: its zeroing of inode tables would fill the store too.
mkfs_on /dev/vda ext4 -b 4096 -E lazy_itable_init=0,lazy_journal_init=0
mkdir -p /mnt/g
dd if=/dev/urandom of=/tmp/data bs=1M count=20 2>/dev/null
want=$(md5sum </tmp/data)

for backend in zram brd; do
	step "$backend: grow a mounted store past what it holds"
	rosnap create /dev/vda --name g --ram 8M --backend $backend >/dev/null || fail "create"
	mount /dev/mapper/g /mnt/g || fail "mount"
	rosnap grow g --by 16M || fail "grow"
	assert_eq "$(json_value g cow_size_bytes)" $((24 << 20)) "the store's size"
	assert_eq "$(json_value g cow_parts)" 2 "the store's parts"
	assert_eq "$(json_value g state)" active "the state"
	# 20M of new data: more than the first 8M could hold.
	cp /tmp/data /mnt/g/data && sync || fail "writing 20M into the grown store"
	assert_eq "$(json_value g state)" active \
		"the state after the writes ($(json_value g cow_used_bytes) bytes used)"
	umount /mnt/g
	mount -o ro /dev/mapper/g /mnt/g || fail "mount again"
	echo 3 >/proc/sys/vm/drop_caches
	assert_eq "$(md5sum </mnt/g/data)" "$want" "the data written past the old size"
	umount /mnt/g
	parts=$(dmsetup table g-cow | wc -l)
	assert_eq "$parts" 2 "the store's linear layer's segments"
	rosnap remove g || fail "remove"
	# The harness fails the test on any RAM device left behind.
done

step "bad sizes, a merging device, a missing device"
rosnap create /dev/vda --name g --ram 8M >/dev/null || fail "create"
unchanged expect_fail 2 "growing by less than 1M" rosnap grow g --by 512K
unchanged expect_fail 2 "more than this machine's memory" rosnap grow g --by 999T
unchanged expect_fail 2 "invalid|not a size" rosnap grow g --by lots
unchanged expect_fail 2 "--by" rosnap grow g
unchanged expect_fail 3 "nosuch is not a rosnap device" rosnap grow nosuch --by 8M
assert_eq "$(json_value g cow_size_bytes)" $((8 << 20)) "the store's size after the refusals"
rosnap remove g || fail "remove"
# A merge that lasts: chunks apart from each other, on a slow disk.
wipe /dev/vdc
slow_disk /dev/vdc slowvdc 20
rosnap create /dev/mapper/slowvdc --name gm --ram 8M >/dev/null || fail "create gm"
scattered_writes /dev/mapper/gm 400
rosnap merge gm --no-wait 2>/dev/null || fail "merge"
assert_eq "$(json_value gm state)" merging "the state after merge --no-wait"
unchanged expect_fail 4 "gm is merging; only an active store grows" rosnap grow gm --by 8M
assert_eq "$(json_value gm cow_size_bytes)" $((8 << 20)) "the store's size after the refusal"
fast_disk slowvdc
wait_state gm active 300
rosnap remove gm || fail "remove gm"
