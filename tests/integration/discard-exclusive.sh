#!/bin/sh
# discard holds the device exclusively from its "is it in use" check to
# the swap of its store: a mount in between fails (EBUSY) instead of
# seeing its device change under it.  Uses the test build's pause points.
# modes: plain
. /tests/lib.sh
on_exit 'rm -f /run/pause; remove_all'
[ "${ROSNAP_TEST_SAN:-0}" = 1 ] || skip "needs the test build with its pause points (build-san)"

mkfs_on /dev/vdc ext4 -b 4096
rosnap create /dev/vdc --name dx --ram 32M >/dev/null || fail "create"
mkdir -p /mnt/dx
mount /dev/mapper/dx /mnt/dx || fail "mount"
echo changed >/mnt/dx/changed
umount /mnt/dx

step "a mount while discard is between its check and its swap"
start_paused discard:loaded rosnap discard dx
if mount /dev/mapper/dx /mnt/dx 2>/tmp/mount.err; then
	umount /mnt/dx
	rm -f /run/pause
	wait $paused_pid || true
	fail "mounted a device that discard was about to swap"
fi
cat /tmp/mount.err
rm -f /run/pause
wait $paused_pid || fail "discard failed: $(cat /tmp/err)"

step "after the discard"
mount /dev/mapper/dx /mnt/dx || fail "mount after the discard"
[ ! -e /mnt/dx/changed ] || fail "the change survived the discard"
umount /mnt/dx
rosnap remove dx || fail "remove"
