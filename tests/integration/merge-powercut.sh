#!/bin/sh
# A journaled merge cut by a power loss, at three points (right after it
# started, past 40%, past 80%): after each cut, 'rosnap recover' finishes
# it, and the origin is byte-equal to the fully merged state and
# fsck-clean.  A journal that does not match the origin is refused
# without writing anything.
# modes: plain
# boots: 4
. /tests/lib.sh
j=/mnt/jd/journal
boot=$ROSNAP_TEST_BOOT
mkdir -p /mnt/jd /mnt/pc

# Protect vdc, change it through a filesystem, and remember (on the journal
# disk) what the origin must hold once the changes are merged.  The
# origin is vdc behind dm-delay, so that each cut lands in the middle of
# the merge whatever the machine's speed; recover finds vdc itself.
prepare() {
	mkfs_on /dev/vdc ext4 -b 4096
	slow_disk /dev/vdc slowvdc 5
	rosnap create /dev/mapper/slowvdc --name pc --ram 224M --backend zram >/dev/null ||
		fail "create"
	mount /dev/mapper/pc /mnt/pc || fail "mount"
	dd if=/dev/urandom of=/mnt/pc/big bs=1M count=160 2>/dev/null
	cp -a /usr/sbin /mnt/pc/sbin
	umount /mnt/pc
	sum_of /dev/mapper/pc >/mnt/jd/expected
	sync
}

# Start a journaled merge and cut the power once it has merged FRACTION.
merge_and_cut() { # FRACTION
	rosnap merge pc --journal "$j" --no-wait 2>/dev/null || fail "merge"
	[ -e "$j" ] || fail "no journal"
	while :; do
		st=$(rosnap status pc --json)
		[ "$(echo "$st" | json_key state)" = merging ] ||
			fail "the merge ended before the cut at $1 (too fast to test)"
		p=$(echo "$st" | json_key merge_progress)
		awk -v p="$p" -v f="$1" 'BEGIN { exit !(p >= f) }' && break
		sleep 0.1
	done
	echo "cutting the power at $p"
	powercut
}

recover_and_check() {
	[ -e "$j" ] || fail "the journal did not survive the power cut"
	assert_eq "$(rosnap list)" "" "rosnap devices after a power cut"
	step "a journal that does not match is refused"
	echo "no journal" >/mnt/jd/notajournal
	truncate -s 8192 /mnt/jd/notajournal
	unchanged expect_fail 2 "not a usable rosnap merge journal: it is not a rosnap merge journal" \
		rosnap recover /mnt/jd/notajournal
	mkfs_on /dev/vdd ext4 -b 4096
	before=$(sum_of /dev/vdd)
	unchanged expect_fail 2 "/dev/vdd is not the origin of $j" rosnap recover "$j" --origin /dev/vdd
	assert_eq "$(sum_of /dev/vdd)" "$before" "the wrong origin was written"
	step "recover"
	rosnap recover "$j" || fail "recover"
	[ ! -e "$j" ] || fail "the journal is still there after recover"
	assert_eq "$(sum_of /dev/vdc)" "$(cat /mnt/jd/expected)" "origin after recover"
	e2fsck -fn /dev/vdc >/tmp/fsck 2>&1 || { cat /tmp/fsck; fail "e2fsck after recover"; }
	expect_fail 3 "cannot open the journal $j" rosnap recover "$j"
}

case $boot in
1)
	mkfs_on /dev/vdb ext4 -b 4096
	mount /dev/vdb /mnt/jd
	prepare
	merge_and_cut 0
	;;
2 | 3)
	mount /dev/vdb /mnt/jd
	recover_and_check
	prepare
	[ "$boot" = 2 ] && merge_and_cut 0.4
	merge_and_cut 0.8
	;;
4)
	mount /dev/vdb /mnt/jd
	recover_and_check
	umount /mnt/jd
	;;
esac
