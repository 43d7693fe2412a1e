#!/bin/sh
# A merge from a store on disk cut by a power loss half-way: attach after
# the next boot finishes it (the store's header said "merging", so the
# origin's fingerprint is not asked for), and the origin then holds every
# change, fsck-clean; the device protects it again and can be kept and
# attached once more.
# modes: plain
# cost: 30
# boots: 2
. /tests/lib.sh
on_exit 'remove_all; dmsetup remove slowvdc 2>/dev/null; umount /mnt/sd 2>/dev/null'
s=/mnt/sd/store
mkdir -p /mnt/sd /mnt/pm

case $ROSNAP_TEST_BOOT in
1)
	mkfs_on /dev/vdc ext4 -b 4096
	mkfs_on /dev/vdb ext4 -b 4096
	mount /dev/vdb /mnt/sd || fail "mount the store's disk"
	# Behind dm-delay, so that the cut lands in the middle of the merge
	# whatever the machine's speed; attach finds vdc itself.
	slow_disk /dev/vdc slowvdc 5
	rosnap create /dev/mapper/slowvdc --name pm --store "$s" --size 200M >/dev/null ||
		fail "create"
	mount /dev/mapper/pm /mnt/pm || fail "mount"
	dd if=/dev/urandom of=/mnt/pm/big bs=1M count=64 2>/dev/null
	cp -a /usr/sbin /mnt/pm/sbin
	umount /mnt/pm
	sum_of /dev/mapper/pm >/mnt/sd/expected
	sync
	rosnap merge pm --no-wait 2>/dev/null || fail "merge"
	while :; do
		st=$(rosnap status pm --json)
		[ "$(echo "$st" | json_key state)" = merging ] ||
			fail "the merge ended before the cut (too fast to test)"
		p=$(echo "$st" | json_key merge_progress)
		awk -v p="$p" 'BEGIN { exit !(p >= 0.3) }' && break
		sleep 0.1
	done
	echo "cutting the power at $p"
	powercut
	;;
2)
	mount /dev/vdb /mnt/sd || fail "mount the store's disk"
	[ "$(sum_of /dev/vdc)" != "$(cat /mnt/sd/expected)" ] ||
		fail "the origin was fully merged before the cut: nothing to test"
	step "the store of a cut merge is never dropped"
	mkfs_on /dev/vdd ext4 -b 4096
	unchanged expect_fail 4 "$s holds the store of a merge into .* that was cut short" \
		rosnap create /dev/vdd --name other --store "$s" --overwrite
	step "attach finishes the merge"
	rosnap attach /dev/vdc --store "$s" >/dev/null || fail "attach"
	assert_eq "$(json_value pm state)" active "state after attach"
	assert_eq "$(sum_of /dev/vdc)" "$(cat /mnt/sd/expected)" "origin after the merge"
	assert_eq "$(sum_of /dev/mapper/pm)" "$(cat /mnt/sd/expected)" "device after the merge"
	e2fsck -fn /dev/vdc >/tmp/fsck 2>&1 || { cat /tmp/fsck; fail "e2fsck of the origin"; }
	assert_eq "$(blockdev --getro /dev/vdc)" 1 "origin read-only again"
	step "kept and attached again"
	rosnap remove pm --keep >/dev/null || fail "remove --keep"
	rosnap attach /dev/vdc --store "$s" >/dev/null || fail "attach again"
	assert_eq "$(sum_of /dev/mapper/pm)" "$(cat /mnt/sd/expected)" "device attached again"
	;;
esac
