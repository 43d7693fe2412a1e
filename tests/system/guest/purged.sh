#!/bin/sh
# After the purge, "rosnap" on the command line and enable=yes in the
# boot.conf the administrator wrote (kept: it is not the package's), but
# nothing of rosnap's in the initramfs or on the disk: the system boots
# from the disk itself, writable.
. /usr/local/lib/rosnap-test/lib.sh
assert_eq "$(findmnt -n -o SOURCE /)" /dev/vda "root device"
if command -v rosnap; then fail "rosnap is still installed"; fi
[ ! -e /dev/mapper/rosnap-root ] || fail "/dev/mapper/rosnap-root exists"
assert_eq "$(blockdev --getro /dev/vda)" 0 "the disk's read-only flag"
[ ! -e /run/motd.d/rosnap ] || fail "a login notice: $(cat /run/motd.d/rosnap)"
touch /etc/rosnap-purged || fail "/ is not writable"
state=$(systemctl is-system-running --wait) || true  # checked below, with the failed units
systemctl --failed --no-legend
assert_eq "$state" running "systemctl is-system-running"
