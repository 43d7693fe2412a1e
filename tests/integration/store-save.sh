#!/bin/sh
# rosnap save copies a RAM store to disk, consistently even under a
# writer; after a reboot, create --restore loads it into RAM: the device
# is byte-identical to what was saved and fsck-clean.  A save replaces an
# earlier one but nothing else; a restore onto an origin written since is
# refused.
# modes: plain
# boots: 2
. /tests/lib.sh
on_exit 'touch /tmp/stop; remove_all; umount /mnt/sd 2>/dev/null'
mkdir -p /mnt/sd /mnt/sv

case $ROSNAP_TEST_BOOT in
1)
	mkfs_on /dev/vdc ext4 -b 4096
	mkfs_on /dev/vdb ext4 -b 4096
	mount /dev/vdb /mnt/sd || fail "mount the saves' disk"
	rosnap create /dev/vdc --name sv --ram 96M >/dev/null || fail "create"
	mount /dev/mapper/sv /mnt/sv || fail "mount"
	dd if=/dev/urandom of=/mnt/sv/random bs=1M count=16 2>/dev/null
	cp -a /usr/sbin /mnt/sv/sbin

	step "save under a writer"
	writer /mnt/sv/busy /tmp/stop &
	wait_written /mnt/sv/busy $!
	rosnap save sv /mnt/sd/busy.saved || fail "save under a writer"
	touch /tmp/stop
	wait
	assert_eq "$(json_value sv saved_to)" /mnt/sd/busy.saved "saved_to"
	[ "$(json_value sv saved_at)" -gt 0 ] || fail "no saved_at"
	assert_eq "$(head -c 8 /mnt/sd/busy.saved)" "ROSNAPS" "the saved store's magic"

	step "save, quiet"
	umount /mnt/sv
	echo "not a save" >/mnt/sd/other
	unchanged expect_fail 4 "/mnt/sd/other exists and is not a save of sv; --overwrite" \
		rosnap save sv /mnt/sd/other
	unchanged expect_fail 2 "saved store /tmp/saved would be in RAM" rosnap save sv /tmp/saved
	rosnap save sv /mnt/sd/saved || fail "save"
	rosnap save sv /mnt/sd/saved || fail "save again over the first save"
	# Another device's save is not replaced without being told.
	mkfs_on /dev/vdd ext4 -b 4096
	rosnap create /dev/vdd --name sv2 --ram 16M >/dev/null || fail "create sv2"
	unchanged expect_fail 4 "/mnt/sd/saved exists and is not a save of sv2; --overwrite" \
		rosnap save sv2 /mnt/sd/saved
	rosnap remove sv2 >/dev/null
	[ ! -e /mnt/sd/saved.new ] || fail "save left its temporary file"
	sum_of /dev/mapper/sv >/mnt/sd/sum
	sync
	powercut
	;;
2)
	mount /dev/vdb /mnt/sd || fail "mount the saves' disk"
	step "restore the save made under a writer"
	rosnap create /dev/vdc --name sv --restore /mnt/sd/busy.saved >/dev/null ||
		fail "restore"
	mount /dev/mapper/sv /mnt/sv || fail "mount the restored device"
	[ -s /mnt/sv/busy ] || fail "the writer's file is missing"
	umount /mnt/sv
	e2fsck -fn /dev/mapper/sv >/tmp/fsck 2>&1 || { cat /tmp/fsck; fail "e2fsck of the restored device"; }
	rosnap remove sv >/dev/null

	step "a save is restored, not attached"
	unchanged expect_fail 2 "/mnt/sd/saved is a saved RAM store: 'rosnap create /dev/vdc --restore /mnt/sd/saved'" \
		rosnap attach /dev/vdc --store /mnt/sd/saved

	step "restore: identical"
	rosnap create /dev/vdc --name sv --restore /mnt/sd/saved >/dev/null || fail "restore"
	assert_eq "$(sum_of /dev/mapper/sv)" "$(cat /mnt/sd/sum)" "the restored device"
	assert_eq "$(json_value sv backend)" zram "backend"
	rosnap remove sv >/dev/null

	step "an origin written since is refused"
	mkdir -p /mnt/o
	mount /dev/vdc /mnt/o && echo past >/mnt/o/past && umount /mnt/o
	unchanged expect_fail 2 "/dev/vdc was written since its changes were kept in /mnt/sd/saved" \
		rosnap create /dev/vdc --name sv --restore /mnt/sd/saved
	;;
esac
