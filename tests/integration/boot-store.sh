#!/bin/sh
# The root's changes kept on disk across boots, as the initramfs runs
# "rosnap boot": rosnap.store= makes a store on a blank device, attaches
# it at the next boot with the changes, rosnap.reset drops them; a root
# written since falls back as configured, never attaches anyway; a
# device with other data is not taken.  rosnap.restore= starts from a
# saved RAM store; with rosnap.save=, "rosnap boot --save" (a clean
# shutdown) saves it and the next boot restores it.  A store encrypted
# with LUKS2 is attached with the key file boot.conf names (key=);
# without key=, or with another key, the boot falls back; with key=,
# boot --save encrypts the save and the next boot restores it.
# modes: plain
# cost: 120
. /tests/lib.sh
on_exit 'remove_all; blockdev --setrw /dev/vdc 2>/dev/null'

# What systemd-shutdown does to the root's devices at power-off: removed
# with no word to rosnap (the store's header still says "attached").
power_off() {
	for n in rosnap-root rosnap-root-cow; do dmsetup remove "$n" || fail "dmsetup remove $n"; done
	! dmsetup info rosnap-root-cow.crypt >/dev/null 2>&1 ||
		dmsetup remove rosnap-root-cow.crypt || fail "dmsetup remove rosnap-root-cow.crypt"
	blockdev --setrw /dev/vdc
	# RAM is gone at power-off: a RAM store's zram device too.
	for z in /sys/block/zram*; do
		[ -e "$z" ] && [ "${z##*/}" != zram0 ] || continue
		echo 1 >"$z/reset" && echo "${z##*/zram}" >/sys/class/zram-control/hot_remove
	done
}

boot_with() { # CMDLINE-WORDS...
	echo "root=/dev/vdc rosnap $*" >/tmp/cmdline
	rc=0
	rosnap boot --config "${conf:-/dev/null}" --cmdline /tmp/cmdline >/tmp/out 2>/tmp/err || rc=$?
	cat /tmp/err
}

mkfs_on /dev/vdc ext4 -b 4096
wipe /dev/vdd
mkdir -p /mnt/r

step "first boot: a store is made on the blank device"
boot_with rosnap.store=/dev/vdd rosnap.profile=reads rosnap.fallback=panic
[ $rc -eq 0 ] || fail "the boot failed"
assert_eq "$(cat /tmp/out)" /dev/mapper/rosnap-root "the root to mount"
assert_eq "$(json_value rosnap-root store)" /dev/vdd "store"
assert_eq "$(json_value rosnap-root chunk_bytes)" 65536 "the chunk of rosnap.profile=reads"
mount /dev/mapper/rosnap-root /mnt/r && echo "kept" >/mnt/r/kept && umount /mnt/r
want=$(sum_of /dev/mapper/rosnap-root)
power_off

step "second boot: the changes are back"
boot_with rosnap.store=/dev/vdd rosnap.fallback=panic
[ $rc -eq 0 ] || fail "the boot failed"
grep -q "kept in /dev/vdd, as before" /tmp/err || fail "no word of the kept changes"
assert_eq "$(sum_of /dev/mapper/rosnap-root)" "$want" "the root after a reboot"
power_off

step "rosnap.reset drops them"
boot_with rosnap.store=/dev/vdd rosnap.reset rosnap.fallback=panic
[ $rc -eq 0 ] || fail "the boot failed"
assert_eq "$(sum_of /dev/mapper/rosnap-root)" "$(sum_of /dev/vdc)" "the root after a reset"
mount /dev/mapper/rosnap-root /mnt/r && echo "kept" >/mnt/r/kept && umount /mnt/r
want=$(sum_of /dev/mapper/rosnap-root)
power_off

step "a root written since falls back, and the store stays"
mount /dev/vdc /mnt/r && echo "past rosnap" >/mnt/r/past && umount /mnt/r
boot_with rosnap.store=/dev/vdd rosnap.fallback=ro
[ $rc -eq 0 ] || fail "the fallback failed"
assert_eq "$(cat /tmp/out)" /dev/vdc "the root to mount after the fallback"
assert_eq "$(blockdev --getro /dev/vdc)" 1 "the root read-only after the fallback"
grep -q "was written since" /tmp/err || fail "no reason given"
assert_eq "$(rosnap list)" "" "devices after the fallback"
assert_eq "$(head -c 7 /dev/vdd)" ROSNAPS "the store after the fallback"
blockdev --setrw /dev/vdc

step "a device with other data is not taken"
mkfs_on /dev/vdd ext4 -b 4096
boot_with rosnap.store=/dev/vdd rosnap.fallback=panic
[ $rc -ne 0 ] || fail "the boot took a device with a filesystem"
grep -q "holds ext4 data" /tmp/err || fail "no reason given"
assert_eq "$(blkid -o value -s TYPE /dev/vdd)" ext4 "the other data"

step "an encrypted store without key= in boot.conf: the boot falls back"
head -c 32 /dev/urandom >/tmp/key
head -c 32 /dev/urandom >/tmp/other.key
rosnap create /dev/vdc --name enc --store /dev/vdd --overwrite --key-file /tmp/key >/dev/null ||
	fail "create --key-file"
mount /dev/mapper/enc /mnt/r && echo "kept, encrypted" >/mnt/r/kept && umount /mnt/r
want=$(sum_of /dev/mapper/enc)
rosnap remove enc --keep >/dev/null || fail "remove --keep"
fell_back() { # WHY
	[ $rc -eq 0 ] || fail "the fallback failed"
	assert_eq "$(cat /tmp/out)" /dev/vdc "the root to mount after the fallback"
	grep -q "$1" /tmp/err || fail "no reason given"
	assert_eq "$(rosnap list)" "" "devices after the fallback"
	assert_eq "$(dmsetup ls --target crypt 2>&1)" "No devices found" "crypt devices after the fallback"
	blockdev --setrw /dev/vdc
}
boot_with rosnap.store=/dev/vdd rosnap.fallback=ro
fell_back "it is encrypted (LUKS2), and /etc/rosnap/boot.conf names no key file"
echo "key=/tmp/other.key" >/tmp/key.conf
conf=/tmp/key.conf
boot_with rosnap.store=/dev/vdd rosnap.fallback=ro
fell_back "the key from /tmp/other.key opens no key slot of /dev/vdd"

step "an encrypted store with key= in boot.conf: attached"
echo "key=/tmp/key" >/tmp/key.conf
boot_with rosnap.store=/dev/vdd rosnap.fallback=panic
[ $rc -eq 0 ] || fail "the boot failed"
assert_eq "$(json_value rosnap-root encryption)" luks2 "encryption"
assert_eq "$(sum_of /dev/mapper/rosnap-root)" "$want" "the root with the kept changes"
power_off

step "key= with rosnap.save: the save encrypted, restored by the next boot"
wipe /dev/vdd
boot_with rosnap.ram=32M rosnap.save=/dev/vdd rosnap.fallback=panic
[ $rc -eq 0 ] || fail "the boot failed"
mount /dev/mapper/rosnap-root /mnt/r || fail "mount"
for i in $(seq 1 50); do echo "rosnap-marker-123456789 $i"; done >/mnt/r/secret
umount /mnt/r
want=$(sum_of /dev/mapper/rosnap-root)
rosnap boot --save --config /tmp/key.conf --cmdline /tmp/cmdline 2>/tmp/err ||
	fail "boot --save: $(cat /tmp/err)"
power_off
echo 3 >/proc/sys/vm/drop_caches
assert_eq "$(head -c 7 /dev/vdd)" ROSNAPS "the save"
! grep -aqF rosnap-marker-123456789 /dev/vdd || fail "the save holds the marker in plaintext"
boot_with rosnap.ram=32M rosnap.save=/dev/vdd rosnap.fallback=panic
[ $rc -eq 0 ] || fail "the boot failed"
grep -q "restored from /dev/vdd" /tmp/err || fail "no word of the restore"
assert_eq "$(sum_of /dev/mapper/rosnap-root)" "$want" "the root restored"
assert_eq "$(dmsetup ls | grep -c crypt)" 0 "crypt devices after the restore"
power_off
conf=
boot_with rosnap.ram=32M rosnap.restore=/dev/vdd rosnap.fallback=ro
fell_back "rosnap.restore: it is encrypted (LUKS2), and /etc/rosnap/boot.conf names no key file"

step "rosnap.restore starts from a saved RAM store"
wipe /dev/vdd
boot_with rosnap.ram=32M rosnap.fallback=panic
[ $rc -eq 0 ] || fail "the boot failed"
mount /dev/mapper/rosnap-root /mnt/r && echo "saved" >/mnt/r/saved && umount /mnt/r
want=$(sum_of /dev/mapper/rosnap-root)
rosnap save rosnap-root /dev/vdd || fail "save"
power_off
# A save keeps its chunks (4K here): rosnap.profile is for a new store.
boot_with rosnap.restore=/dev/vdd rosnap.profile=reads rosnap.fallback=panic
[ $rc -eq 0 ] || fail "the boot failed"
grep -q "keeps the chunk size it was saved with" /tmp/err || fail "no word of the profile left aside"
assert_eq "$(json_value rosnap-root chunk_bytes)" 4096 "the saved store's chunk"
assert_eq "$(sum_of /dev/mapper/rosnap-root)" "$want" "the root restored"
assert_eq "$(json_value rosnap-root backend)" zram "backend"
rosnap remove rosnap-root

step "rosnap.save: a boot starts afresh, the shutdown saves, the next boot restores"
# A store of 128M saved to a 64M disk: a save takes what the store
# holds, not its capacity.
wipe /dev/vdd
boot_with rosnap.ram=128M rosnap.save=/dev/vdd rosnap.fallback=panic
[ $rc -eq 0 ] || fail "the boot failed"
grep -q "nothing saved in /dev/vdd yet" /tmp/err || fail "no word of the blank save device"
mount /dev/mapper/rosnap-root /mnt/r && echo "saved at shutdown" >/mnt/r/saved && umount /mnt/r
want=$(sum_of /dev/mapper/rosnap-root)
rosnap boot --save --config /dev/null --cmdline /tmp/cmdline 2>/tmp/err ||
	fail "boot --save: $(cat /tmp/err)"
grep -q "saved the root's changes to /dev/vdd" /tmp/err || fail "boot --save said nothing"
power_off
boot_with rosnap.ram=128M rosnap.save=/dev/vdd rosnap.fallback=panic
[ $rc -eq 0 ] || fail "the boot failed"
grep -q "restored from /dev/vdd" /tmp/err || fail "no word of the restore"
assert_eq "$(json_value rosnap-root cow_size_bytes)" $((128 << 20)) "the restored store's capacity"
assert_eq "$(sum_of /dev/mapper/rosnap-root)" "$want" "the root restored"
power_off

step "rosnap.save: a boot that does not protect the root keeps the last save"
saved=$(sum_of /dev/vdd)
echo "root=/dev/vdc rosnap=off rosnap.save=/dev/vdd" >/tmp/cmdline
rosnap boot --save --config /dev/null --cmdline /tmp/cmdline 2>/tmp/err ||
	fail "boot --save with rosnap=off: $(cat /tmp/err)"
grep -q "the last save stays" /tmp/err || fail "no word of the save kept"
echo "root=/dev/vdc rosnap rosnap.save=/dev/vdd" >/tmp/cmdline
rosnap boot --save --config /dev/null --cmdline /tmp/cmdline 2>/tmp/err ||
	fail "boot --save without the root's device: $(cat /tmp/err)"
grep -q "no device rosnap-root" /tmp/err || fail "no word of the missing device"
! grep -q "not a rosnap device" /tmp/err || fail "an expected fallback logged as an error: $(cat /tmp/err)"
assert_eq "$(sum_of /dev/vdd)" "$saved" "the last save"

step "rosnap.reset: not restored; the shutdown replaces the save"
boot_with rosnap.ram=32M rosnap.save=/dev/vdd rosnap.reset rosnap.fallback=panic
[ $rc -eq 0 ] || fail "the boot failed"
assert_eq "$(sum_of /dev/mapper/rosnap-root)" "$(sum_of /dev/vdc)" "the root after a reset"
rosnap boot --save --config /dev/null --cmdline /tmp/cmdline 2>/tmp/err ||
	fail "boot --save: $(cat /tmp/err)"
power_off
boot_with rosnap.ram=32M rosnap.save=/dev/vdd rosnap.fallback=panic
[ $rc -eq 0 ] || fail "the boot failed"
assert_eq "$(sum_of /dev/mapper/rosnap-root)" "$(sum_of /dev/vdc)" "the root restored from the save after the reset"
power_off

step "rosnap.save to a device with other data: nothing written, the boot goes on"
mkfs_on /dev/vdd ext4 -b 4096
boot_with rosnap.ram=32M rosnap.save=/dev/vdd rosnap.fallback=panic
[ $rc -eq 0 ] || fail "the boot failed"
mount /dev/mapper/rosnap-root /mnt/r && echo "unsaved" >/mnt/r/unsaved && umount /mnt/r
rc=0
rosnap boot --save --config /dev/null --cmdline /tmp/cmdline 2>/tmp/err || rc=$?
assert_eq "$rc" 4 "boot --save onto other data"
grep -q "/dev/vdd holds ext4 data" /tmp/err || fail "no reason given: $(cat /tmp/err)"
assert_eq "$(blkid -o value -s TYPE /dev/vdd)" ext4 "the other data"
power_off
