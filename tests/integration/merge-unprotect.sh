#!/bin/sh
# merge --unprotect leaves a plain mapping (servicing mode): writes reach
# the origin.  protect turns protection on again live: writes after it
# do not.
# modes: plain udev-all
. /tests/lib.sh
on_exit remove_all

mkfs_on /dev/vdc ext4 -b 4096
mkdir -p /mnt/u
rosnap create /dev/vdc --name svc --ram 64M >/dev/null || fail "create"
mount /dev/mapper/svc /mnt/u || fail "mount"
echo "before" >/mnt/u/before
rosnap merge svc --unprotect 2>/dev/null || fail "merge --unprotect"
assert_eq "$(json_value svc state)" unprotected "state"
assert_eq "$(json_value svc backend)" none "backend"
assert_eq "$(blockdev --getro /dev/vdc)" 0 "origin writable while unprotected"
[ -z "$(dmsetup ls | grep svc-cow)" ] || fail "store left: $(dmsetup ls)"
rosnap status svc
echo "serviced" >/mnt/u/serviced
sync

step "writes while unprotected reach the origin"
echo 3 >/proc/sys/vm/drop_caches
expect_fail 2 "is unprotected: writes already go to" rosnap merge svc
expect_fail 2 "is unprotected: its writes went to" rosnap discard svc
umount /mnt/u
expect_fail 2 "is unprotected" rosnap discard svc
mount /dev/mapper/svc /mnt/u || fail "mount again"

step "protect again, live"
rosnap protect svc --ram 32M || fail "protect"
assert_eq "$(json_value svc state)" active "state"
assert_eq "$(json_value svc cow_size_bytes)" $((32 << 20)) "store size"
assert_eq "$(blockdev --getro /dev/vdc)" 1 "origin read-only again"
expect_fail 2 "is active, not unprotected" rosnap protect svc
echo "protected" >/mnt/u/protected
sync
umount /mnt/u
rosnap remove svc || fail "remove"
mount -o ro /dev/vdc /mnt/u
[ -f /mnt/u/before ] && [ -f /mnt/u/serviced ] || fail "servicing writes missing on the origin"
[ ! -e /mnt/u/protected ] || fail "a write after protect reached the origin"
umount /mnt/u
