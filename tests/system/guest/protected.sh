#!/bin/sh
# Booted with "rosnap": / is the rosnap device, the system runs clean,
# /dev/disk/by-uuid points at the protected device, the origin is
# read-only and can be viewed read-only, writes to / go to RAM, and the
# data disk (in fstab) is written for real.
. /usr/local/lib/rosnap-test/lib.sh
mountpoint -q /data || fail "/data (the data disk) is not mounted"
assert_eq "$(findmnt -n -o SOURCE /)" /dev/mapper/rosnap-root "root device"
assert_eq "$(json_value rosnap-root state)" active "state"
assert_eq "$(json_value rosnap-root origin)" /dev/vda "origin"
uuid=$(findmnt -n -o UUID /)
assert_eq "$(readlink -f "/dev/disk/by-uuid/$uuid")" "$(readlink -f /dev/mapper/rosnap-root)" \
	"/dev/disk/by-uuid/$uuid"
[ -L /dev/rosnap/rosnap-root ] || fail "no /dev/rosnap/rosnap-root"
assert_eq "$(blockdev --getro /dev/vda)" 1 "origin read-only"
state=$(systemctl is-system-running --wait) || true  # checked below, with the failed units
systemctl --failed --no-legend
assert_eq "$state" running "systemctl is-system-running"
assert_eq "$(systemctl is-active rosnap-monitor.service)" active \
	"rosnap-monitor.service, started by udev for the rosnap device"
rosnap status
assert_eq "$(json_value rosnap-root level)" ok "level"
# The login notice where pam_motd reads it, come over from the initramfs.
grep -q "its changes go to RAM and are lost at power-off unless saved; 'rosnap merge rosnap-root'" \
	/run/motd.d/rosnap || fail "no login notice: $(cat /run/motd.d/rosnap 2>&1)"
echo "boot 1" >/etc/rosnap-boot1
dd if=/dev/urandom of=/var/tmp/big bs=1M count=20 2>/dev/null
sync
findmnt /data >/dev/null || fail "/data is not mounted"
echo persistent >/data/persistent
sync
view=$(rosnap origin rosnap-root) || fail "origin view"
mkdir -p /mnt/pristine
mount -o ro,noload "$view" /mnt/pristine || fail "mount the origin view"
[ -e /mnt/pristine/etc/hostname ] || fail "the view is not the root filesystem"
[ ! -e /mnt/pristine/etc/rosnap-boot1 ] || fail "the view shows a change"
umount /mnt/pristine
rosnap origin rosnap-root --close
