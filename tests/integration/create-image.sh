#!/bin/sh
# A disk image file: attached to a loop device rosnap owns, shown as the
# origin, detached again on remove; the file is unchanged.  A file on a
# read-only filesystem is attached read-only.
# modes: plain udev-all
. /tests/lib.sh
on_exit 'remove_all; umount /mnt/img 2>/dev/null'

mkfs_on /dev/vdc ext4
mkdir -p /mnt/img && mount /dev/vdc /mnt/img
truncate -s 64M /mnt/img/disk.img
mkfs.ext4 -q -b 4096 /mnt/img/disk.img
before=$(sum_of /mnt/img/disk.img)

step "create over an image"
dev=$(rosnap create /mnt/img/disk.img --ram 16M) || fail "create failed"
loop=$(json_value "$dev" origin)
case $loop in /dev/loop[0-9]*) ;; *) fail "origin is $loop, not a loop device" ;; esac
assert_eq "$dev" "/dev/mapper/rosnap-${loop#/dev/}" "default name"
assert_eq "$(json_value "$dev" origin_file)" /mnt/img/disk.img "origin file"
rosnap status | grep -q /mnt/img/disk.img || fail "status does not show the image"
assert_eq "$(cat /sys/block/${loop#/dev/}/loop/autoclear)" 1 "loop autoclear"
mkdir -p /mnt/s && mount "$dev" /mnt/s && dd if=/dev/zero of=/mnt/s/z bs=1M count=4 2>/dev/null
umount /mnt/s

step "the same image again is refused"
unchanged expect_fail 4 "already attached to $loop" rosnap create /mnt/img/disk.img --name again

step "remove detaches the loop"
rosnap remove "$dev" || fail "remove failed"
[ ! -e "/sys/block/${loop#/dev/}/loop/backing_file" ] || fail "$loop still attached"
assert_eq "$(sum_of /mnt/img/disk.img)" "$before" "image checksum"

step "an image on a read-only filesystem"
mount -o remount,ro /mnt/img
dev=$(rosnap create /mnt/img/disk.img --ram 16M -v 2>/tmp/err) || fail "create failed: $(cat /tmp/err)"
grep -q "attached read-only" /tmp/err || fail "no note about read-only: $(cat /tmp/err)"
assert_eq "$(json_value "$dev" origin_was_read_only)" true "origin was read-only"
mount "$dev" /mnt/s && echo x >/mnt/s/x && umount /mnt/s || fail "no writes on a read-only image"
rosnap remove "$dev" || fail "remove failed"
umount /mnt/img
