#!/bin/sh
# A store on disk keeps the changes across 'remove --keep' and a power
# cut: attach brings them back, byte for byte, with the origin untouched
# throughout; a live merge from a re-attached store gives the origin every
# change, and attach works again after it.  Attach refuses, changing
# nothing, an origin written since, another origin, and a damaged header.
# modes: plain
# cost: 125
# boots: 2
. /tests/lib.sh
on_exit 'touch /tmp/stop; rm -f /run/pause; remove_all; umount /mnt/sd 2>/dev/null'
s=/mnt/sd/store
mkdir -p /mnt/sd /mnt/ps

case $ROSNAP_TEST_BOOT in
1)
	mkfs_on /dev/vdc ext4 -b 4096
	mkfs_on /dev/vdb ext4 -b 4096
	mount /dev/vdb /mnt/sd || fail "mount the store's disk"
	sum_of /dev/vdc >/mnt/sd/origin.sum

	step "bad places for a store"
	unchanged expect_fail 2 "store /dev/vdc holds the origin|is on /dev/vdc, the origin" \
		rosnap create /dev/vdc --name ps --store /dev/vdc
	unchanged expect_fail 2 "store $s does not exist; give its size with --size" \
		rosnap create /dev/vdc --name ps --store "$s"
	unchanged expect_fail 2 "store /tmp/store would be in RAM" \
		rosnap create /dev/vdc --name ps --store /tmp/store --size 64M
	[ ! -e /tmp/store ] && [ ! -e "$s" ] || fail "a refused create left a file"

	step "create with a store on disk"
	rosnap create /dev/vdc --name ps --store "$s" --size 128M >/dev/null || fail "create"
	assert_eq "$(json_value ps backend)" disk "backend"
	assert_eq "$(json_value ps location)" disk "location"
	assert_eq "$(json_value ps persistent)" true "persistent"
	assert_eq "$(json_value ps store)" "$s" "store"
	assert_eq "$(json_value ps cow_size_bytes)" $((128 << 20)) "store size"
	assert_eq "$(head -c 8 "$s")" "ROSNAPS" "the store's magic"
	unchanged expect_fail 4 "store $s is in use: /dev/loop[0-9]+ reads it" \
		rosnap create /dev/vdd --name other --store "$s"

	step "write, keep, attach"
	mount /dev/mapper/ps /mnt/ps || fail "mount"
	dd if=/dev/urandom of=/mnt/ps/random bs=1M count=20 2>/dev/null
	cp -a /usr/sbin /mnt/ps/sbin
	umount /mnt/ps
	sum_of /dev/mapper/ps >/mnt/sd/device.sum
	rosnap remove ps --keep >/dev/null || fail "remove --keep"
	assert_eq "$(rosnap list)" "" "devices after remove --keep"
	assert_eq "$(sum_of /dev/vdc)" "$(cat /mnt/sd/origin.sum)" "origin after remove --keep"
	unchanged expect_fail 4 "$s holds a rosnap store already.*--overwrite" \
		rosnap create /dev/vdd --name other --store "$s"
	rosnap attach /dev/vdc --store "$s" >/dev/null || fail "attach"
	assert_eq "$(json_value ps state)" active "state after attach"
	assert_eq "$(sum_of /dev/mapper/ps)" "$(cat /mnt/sd/device.sum)" "device after attach"
	assert_eq "$(blockdev --getro /dev/vdc)" 1 "origin read-only while attached"

	step "power cut under a writer"
	mount /dev/mapper/ps /mnt/ps || fail "mount after attach"
	echo "kept before the cut" >/mnt/ps/marker
	tree_sums /mnt/ps >/tmp/sums
	sync
	cp /tmp/sums /mnt/sd/synced.sums
	sync
	writer /mnt/ps/busy /tmp/stop &
	wait_written /mnt/ps/busy $!
	powercut
	;;
2)
	mount /dev/vdb /mnt/sd || fail "mount the store's disk"
	assert_eq "$(sum_of /dev/vdc)" "$(cat /mnt/sd/origin.sum)" "origin after the power cut"
	step "attach after a power cut"
	rosnap attach /dev/vdc --store "$s" >/dev/null || fail "attach after the power cut"
	mount /dev/mapper/ps /mnt/ps || fail "mount after the power cut"
	umount /mnt/ps
	e2fsck -fn /dev/mapper/ps >/tmp/fsck 2>&1 || { cat /tmp/fsck; fail "e2fsck after the power cut"; }
	mount /dev/mapper/ps /mnt/ps || fail "mount"
	tree_sums /mnt/ps | grep -v ' ./busy$' >/tmp/now
	grep -v ' ./busy$' /mnt/sd/synced.sums | diff - /tmp/now ||
		fail "what was synced before the cut differs"

	step "merge from the re-attached store, live"
	unchanged expect_fail 2 "the store of ps is on disk already, so a merge from it needs no journal" \
		rosnap merge ps --journal /mnt/sd/journal
	echo "written after the reboot" >/mnt/ps/after
	rosnap merge ps >/dev/null || fail "merge"
	assert_eq "$(json_value ps state)" active "state after the merge"
	assert_eq "$(json_value ps store)" "$s" "store after the merge"
	# Writes after the merge go to the store again; merge those too.
	echo "written after the merge" >/mnt/ps/later
	tree_sums /mnt/ps >/tmp/merged
	umount /mnt/ps
	# The header says "attached" before the merged device switches to its
	# fresh store: a power cut after the switch must not find "merging",
	# or attach would merge the new changes into the origin unasked.
	start_paused merge:header rosnap merge ps
	assert_eq "$(od -An -tu4 -j12 -N4 "$s" | tr -d ' ')" 1 \
		"the store's state (1: attached) as the merged device switches"
	rm -f /run/pause
	wait $paused_pid || fail "merge after unmounting"
	assert_eq "$(sum_of /dev/mapper/ps)" "$(sum_of /dev/vdc)" "device and origin after the merge"
	e2fsck -fn /dev/vdc >/tmp/fsck 2>&1 || { cat /tmp/fsck; fail "e2fsck of the merged origin"; }
	mkdir -p /mnt/o && mount -o ro /dev/mapper/ps /mnt/o && tree_sums /mnt/o | diff /tmp/merged - ||
		fail "the merged files differ"
	umount /mnt/o
	sum_of /dev/vdc >/mnt/sd/origin.sum
	rosnap remove ps --keep >/dev/null || fail "remove --keep after the merge"
	rosnap attach /dev/vdc --store "$s" >/dev/null || fail "attach after the merge"
	rosnap remove ps --keep >/dev/null || fail "remove --keep"

	step "refusals"
	cp "$s" /mnt/sd/damaged
	printf 'X' | dd of=/mnt/sd/damaged bs=1 seek=300 conv=notrunc 2>/dev/null
	unchanged expect_fail 2 "/mnt/sd/damaged is not a usable rosnap store: its header checksum is wrong" \
		rosnap attach /dev/vdc --store /mnt/sd/damaged
	mkfs_on /dev/vdd ext4 -b 4096
	unchanged expect_fail 2 "$s does not belong to /dev/vdd: it has [0-9]+ bytes" \
		rosnap attach /dev/vdd --store "$s"
	mount /dev/vdc /mnt/o || fail "mount the origin read-write"
	echo "written past rosnap" >/mnt/o/past
	umount /mnt/o
	unchanged expect_fail 2 "/dev/vdc was written since its changes were kept in $s.*--force" \
		rosnap attach /dev/vdc --store "$s"
	rosnap attach /dev/vdc --store "$s" --force >/dev/null 2>/tmp/err || fail "attach --force"
	grep -q "although" /tmp/err || fail "attach --force did not warn"

	step "a discard that fails keeps the changes"
	dd if=/dev/urandom of=/dev/mapper/ps bs=64k count=16 seek=50 conv=fsync 2>/dev/null
	want=$(sum_of /dev/mapper/ps)
	rc=0
	ROSNAP_TEST_FAIL_AT=discard-loaded rosnap discard ps 2>/dev/null || rc=$?
	[ $rc -ne 0 ] || fail "the failing discard succeeded"
	assert_eq "$(sum_of /dev/mapper/ps)" "$want" "device after a failed discard"
	rosnap remove ps --keep >/dev/null || fail "remove --keep after a failed discard"
	rosnap attach /dev/vdc --store "$s" >/dev/null || fail "attach after a failed discard"
	assert_eq "$(sum_of /dev/mapper/ps)" "$want" "device attached after a failed discard"

	step "discard empties the store on disk"
	rosnap discard ps >/dev/null || fail "discard"
	assert_eq "$(sum_of /dev/mapper/ps)" "$(sum_of /dev/vdc)" "device after discard"
	assert_eq "$(json_value ps store)" "$s" "store after discard"
	rosnap remove ps --keep >/dev/null || fail "remove --keep after discard"
	rosnap attach /dev/vdc --store "$s" >/dev/null || fail "attach after discard"
	assert_eq "$(sum_of /dev/mapper/ps)" "$(sum_of /dev/vdc)" "device attached after discard"

	step "remove without --keep drops the store"
	rosnap remove ps >/dev/null || fail "remove"
	unchanged expect_fail 2 "$s is not a usable rosnap store: it holds no rosnap store" \
		rosnap attach /dev/vdc --store "$s"

	step "a block device as the store; merge --unprotect lets it go"
	unchanged expect_fail 4 "/dev/vdd holds ext4 data; --overwrite" \
		rosnap create /dev/vdc --name pb --store /dev/vdd
	rosnap create /dev/vdc --name pb --store /dev/vdd --overwrite >/dev/null ||
		fail "create on a block device"
	assert_eq "$(json_value pb store)" /dev/vdd "block store"
	dd if=/dev/urandom of=/dev/mapper/pb bs=64k count=16 seek=100 conv=fsync 2>/dev/null
	want=$(sum_of /dev/mapper/pb)
	rosnap remove pb --keep >/dev/null || fail "remove --keep of a block store"
	rosnap attach /dev/vdc --store /dev/vdd >/dev/null || fail "attach a block store"
	assert_eq "$(sum_of /dev/mapper/pb)" "$want" "device on a block store attached again"
	rosnap merge pb --unprotect >/dev/null || fail "merge --unprotect"
	assert_eq "$(json_value pb state)" unprotected "state"
	assert_eq "$(sum_of /dev/vdc)" "$want" "origin after merge --unprotect"
	assert_eq "$(head -c 8 /dev/vdd | tr -d '\0')" "" "the store's header after merge --unprotect"
	rosnap remove pb >/dev/null || fail "remove pb"

	step "a store in use is refused"
	truncate -s 32M /mnt/sd/img1
	mkfs.ext4 -q -F /mnt/sd/img1
	cp /mnt/sd/img1 /mnt/sd/img2
	rosnap create /mnt/sd/img1 --name i1 --store /mnt/sd/istore --size 8M >/dev/null ||
		fail "create over an image"
	unchanged expect_fail 4 "store /mnt/sd/istore is in use: /dev/loop[0-9]+ reads it" \
		rosnap attach /mnt/sd/img2 --store /mnt/sd/istore --name i2
	rosnap remove i1 >/dev/null || fail "remove i1"
	;;
esac
