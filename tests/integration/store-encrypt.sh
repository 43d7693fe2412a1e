#!/bin/sh
# A store on disk encrypted with a random key (create --encrypt): the disk
# holds none of what was written, neither the files nor the kernel's own
# store header; the device works as any (fsck, merge, discard); removing
# it leaves no crypt device or loop behind; it cannot be kept or attached
# (its key is gone), and after a power cut attach refuses it, changing
# nothing, and --overwrite makes a new store there.  On a block device
# and on a file.
# modes: plain udev
# cost: 70
# boots: 2
. /tests/lib.sh
on_exit 'remove_all; umount /mnt/sd 2>/dev/null'
s=/mnt/sd/store
marker=rosnap-marker-$(seq 1 9 | tr -d '\n')
mkdir -p /mnt/sd /mnt/ps

# No byte of the marker, nor the kernel's store magic "SnAp", in PATH.
plaintext_absent() {
	! grep -aqF "$marker" "$1" || fail "$1 holds the marker in plaintext"
	[ "$(dd if="$1" bs=1 skip=4096 count=4 2>/dev/null)" != SnAp ] ||
		fail "$1 holds the kernel's store header in plaintext"
}

case $ROSNAP_TEST_BOOT in
1)
	mkfs_on /dev/vdc ext4 -b 4096
	mkfs_on /dev/vdb ext4 -b 4096
	mount /dev/vdb /mnt/sd || fail "mount the store's disk"
	sum_of /dev/vdc >/mnt/sd/origin.sum

	step "an encrypted store on a block device"
	rosnap create /dev/vdc --name ps --store /dev/vdd --overwrite --encrypt --verbose \
		>/dev/null 2>/tmp/err || fail "create --encrypt: $(cat /tmp/err)"
	grep -q "encrypted with a random key" /tmp/err || fail "create did not say: $(cat /tmp/err)"
	assert_eq "$(json_value ps location)" disk "location"
	assert_eq "$(json_value ps encryption)" random "encryption"
	assert_eq "$(json_value ps persistent)" false "persistent"
	assert_eq "$(json_value ps store)" /dev/vdd "store"
	assert_eq "$(head -c 8 /dev/vdd)" "ROSNAPS" "the header, outside the encryption"
	mount /dev/mapper/ps /mnt/ps || fail "mount"
	for i in $(seq 1 200); do echo "$marker $i"; done >/mnt/ps/secret
	cp -a /usr/sbin /mnt/ps/sbin
	tree_sums /mnt/ps >/tmp/sums
	umount /mnt/ps
	e2fsck -fn /dev/mapper/ps >/tmp/fsck 2>&1 || { cat /tmp/fsck; fail "e2fsck"; }
	sync
	echo 3 >/proc/sys/vm/drop_caches
	plaintext_absent /dev/vdd

	step "refused: keep, a journal"
	unchanged expect_fail 2 "encrypted with a random key that goes with the device" \
		rosnap remove ps --keep
	unchanged expect_fail 2 "a journal would hold its changes in plaintext" \
		rosnap merge ps --journal /mnt/sd/journal

	step "merge, live, from the encrypted store"
	mount /dev/mapper/ps /mnt/ps || fail "mount for the merge"
	rosnap merge ps >/dev/null 2>/tmp/err || fail "merge: $(cat /tmp/err)"
	grep -q "half merged, for good" /tmp/err || fail "no word of the merge's risk"
	assert_eq "$(json_value ps encryption)" random "encryption after the merge"
	umount /mnt/ps
	# The unmount wrote to the fresh store: merge that too.
	rosnap merge ps >/dev/null 2>&1 || fail "merge after unmounting"
	assert_eq "$(sum_of /dev/mapper/ps)" "$(sum_of /dev/vdc)" "device and origin after the merge"
	mkdir -p /mnt/o && mount -o ro /dev/mapper/ps /mnt/o && tree_sums /mnt/o | diff /tmp/sums - ||
		fail "the merged files differ"
	umount /mnt/o
	sum_of /dev/vdc >/mnt/sd/origin.sum

	step "remove leaves nothing"
	rosnap remove ps >/dev/null || fail "remove"
	assert_eq "$(dmsetup ls --target crypt 2>&1)" "No devices found" "crypt devices after remove"
	assert_eq "$(rosnap list)" "" "devices after remove"
	[ "$(head -c 8 /dev/vdd)" != ROSNAPS ] || fail "remove left the store's header"

	step "an encrypted store in a file, cut by the power"
	rosnap create /dev/vdc --name ps --store "$s" --size 64M --encrypt >/dev/null ||
		fail "create --encrypt on a file"
	assert_eq "$(json_value ps store)" "$s" "store"
	assert_eq "$(json_value ps encryption)" random "encryption"
	mount /dev/mapper/ps /mnt/ps || fail "mount"
	for i in $(seq 1 200); do echo "$marker $i"; done >/mnt/ps/secret
	sync
	plaintext_absent "$s"
	powercut
	;;
2)
	mount /dev/vdb /mnt/sd || fail "mount the store's disk"
	assert_eq "$(sum_of /dev/vdc)" "$(cat /mnt/sd/origin.sum)" "origin after the power cut"
	plaintext_absent "$s"
	step "after a power cut: unreadable, refused, reusable"
	unchanged expect_fail 2 "$s was encrypted with a random key, which went with its device: its changes can never be read" \
		rosnap attach /dev/vdc --store "$s"
	unchanged expect_fail 2 "was encrypted with a random key" \
		rosnap attach /dev/vdc --store "$s" --force
	unchanged expect_fail 4 "$s holds a rosnap store already .*random key that is gone.*--overwrite" \
		rosnap create /dev/vdc --name ps --store "$s" --encrypt
	rosnap create /dev/vdc --name ps --store "$s" --overwrite --encrypt >/dev/null ||
		fail "create --overwrite --encrypt"
	assert_eq "$(sum_of /dev/mapper/ps)" "$(sum_of /dev/vdc)" "a new store shows the origin"
	rosnap remove ps >/dev/null || fail "remove"
	assert_eq "$(dmsetup ls --target crypt 2>&1)" "No devices found" "crypt devices after remove"
	assert_eq "$(losetup -a)" "" "loop devices after remove"
	;;
esac
