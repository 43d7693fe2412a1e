#!/bin/sh
# rosnap save copies a RAM store to disk, consistently even under a
# writer; after a reboot, create --restore loads it into RAM: the device
# is byte-identical to what was saved and fsck-clean.  A save replaces an
# earlier one but nothing else; a restore onto an origin written since is
# refused.  Encrypted with LUKS2 (save --key-file), in a file and on a
# device, a save holds none of the plaintext; create --restore refuses it
# without its key or with another, changing nothing, and with the key
# restores it identical, leaving no crypt device or loop behind.
# modes: plain
# boots: 2
. /tests/lib.sh
on_exit 'touch /tmp/stop; remove_all; umount /mnt/sd 2>/dev/null'
mkdir -p /mnt/sd /mnt/sv
marker=rosnap-marker-$(seq 1 9 | tr -d '\n')

# No crypt device or loop device left by a save or a restore.
nothing_left() {
	assert_eq "$(dmsetup ls | grep -c crypt)" 0 "crypt devices left"
	assert_eq "$(losetup -a | wc -l)" 0 "loop devices left"
}

case $ROSNAP_TEST_BOOT in
1)
	mkfs_on /dev/vdc ext4 -b 4096
	mkfs_on /dev/vdb ext4 -b 4096
	mount /dev/vdb /mnt/sd || fail "mount the saves' disk"
	rosnap create /dev/vdc --name sv --ram 96M >/dev/null || fail "create"
	mount /dev/mapper/sv /mnt/sv || fail "mount"
	dd if=/dev/urandom of=/mnt/sv/random bs=1M count=16 2>/dev/null
	for i in $(seq 1 200); do echo "$marker $i"; done >/mnt/sv/secret
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

	step "encrypted saves: a file, a device"
	# The check below has teeth: a plain save holds the marker.
	grep -aqF "$marker" /mnt/sd/saved || fail "no marker in the plain save"
	head -c 64 /dev/urandom >/mnt/sd/key
	head -c 64 /dev/urandom >/mnt/sd/other.key
	rosnap save sv /mnt/sd/enc.saved --key-file /mnt/sd/key ||
		fail "save --key-file"
	rosnap save sv /dev/vda --overwrite --key-file - </mnt/sd/key ||
		fail "save --key-file - to a device"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	for f in /mnt/sd/enc.saved /dev/vda; do
		assert_eq "$(head -c 8 $f)" "ROSNAPS" "$f's magic, in the clear"
		! grep -aqF "$marker" $f || fail "$f holds the marker in plaintext"
		# The kernel's store header, where the area starts (after LUKS2's).
		[ "$(dd if=$f bs=4096 skip=257 count=1 2>/dev/null | head -c 4)" != SnAp ] ||
			fail "$f holds the kernel's store header in plaintext"
	done
	nothing_left
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

	step "an encrypted save: refused without its key"
	unchanged expect_fail 2 "/mnt/sd/enc.saved is encrypted \(LUKS2\): give its key with --key-file" \
		rosnap create /dev/vdc --name sv --restore /mnt/sd/enc.saved
	unchanged expect_fail 2 "opens no key slot of /mnt/sd/enc.saved" \
		rosnap create /dev/vdc --name sv --restore /mnt/sd/enc.saved \
		--key-file /mnt/sd/other.key
	unchanged expect_fail 2 "/mnt/sd/saved is not encrypted: leave --key-file out" \
		rosnap create /dev/vdc --name sv --restore /mnt/sd/saved \
		--key-file /mnt/sd/key
	nothing_left

	step "an encrypted save: restored with its key, identical"
	rosnap create /dev/vdc --name sv --restore /mnt/sd/enc.saved \
		--key-file /mnt/sd/key >/dev/null || fail "restore with the key"
	assert_eq "$(sum_of /dev/mapper/sv)" "$(cat /mnt/sd/sum)" "restored from a file"
	rosnap remove sv >/dev/null
	rosnap create /dev/vdc --name sv --restore /dev/vda \
		--key-file - </mnt/sd/key >/dev/null || fail "restore from a device"
	assert_eq "$(sum_of /dev/mapper/sv)" "$(cat /mnt/sd/sum)" "restored from a device"
	rosnap remove sv >/dev/null
	nothing_left

	step "an origin written since is refused"
	mkdir -p /mnt/o
	mount /dev/vdc /mnt/o && echo past >/mnt/o/past && umount /mnt/o
	unchanged expect_fail 2 "/dev/vdc was written since its changes were kept in /mnt/sd/saved" \
		rosnap create /dev/vdc --name sv --restore /mnt/sd/saved
	;;
esac
