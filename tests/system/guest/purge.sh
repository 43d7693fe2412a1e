#!/bin/sh
# rosnap=off, though boot.conf says enable=yes: the disk itself, writable,
# no rosnap device.  Then the packages purged, as an administrator would:
# every file they installed is gone, and the update-initramfs trigger has
# taken rosnap out of the initramfs.
. /usr/local/lib/rosnap-test/lib.sh
assert_eq "$(findmnt -n -o SOURCE /)" /dev/vda "root device"
assert_eq "$(rosnap list)" "" "rosnap devices"
[ ! -e /run/motd.d/rosnap ] || fail "a login notice on an unprotected root: $(cat /run/motd.d/rosnap)"
touch /etc/rosnap-off || fail "/ is not writable"
state=$(systemctl is-system-running --wait) || true  # checked below, with the failed units
assert_eq "$state" running "systemctl is-system-running"

initrd=/boot/initrd.img-$(uname -r)
for p in rosnap librosnap1; do
	assert_eq "$(dpkg-query -W -f '${Status}' "$p")" "install ok installed" "$p's status"
done
# (The protected boots had rosnap in the initramfs: the trigger put it
# there.)  The modules this machine needs only (MODULES=dep), as an
# administrator may choose: under emulation the trigger's
# update-initramfs then takes a minute, not many.
sed -i 's/^MODULES=.*/MODULES=dep/' /etc/initramfs-tools/initramfs.conf
# The files (not the directories, which other packages share, nor /lib,
# a link to one).
files=$(dpkg -L rosnap librosnap1 | while IFS= read -r f; do
	if [ ! -d "$f" ] && { [ -f "$f" ] || [ -L "$f" ]; }; then echo "$f"; fi
done)
[ -n "$files" ] || fail "dpkg -L lists no file"
echo "the packages' files:"
echo "$files"
start=$(date +%s)
DEBIAN_FRONTEND=noninteractive dpkg --purge rosnap librosnap1
echo "dpkg --purge and its trigger took $(($(date +%s) - start))s"
for f in $files; do
	if [ -e "$f" ] || [ -L "$f" ]; then fail "$f is left after the purge"; fi
done
# Purged: unknown to dpkg, or known as not installed ("pn"), no config
# files kept.
for p in rosnap librosnap1; do
	st=$(dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null) || st=
	case $st in
	"" | ?n*) ;;
	*) fail "$p is still known to dpkg: '$st'" ;;
	esac
done
list=$(lsinitramfs "$initrd") || fail "lsinitramfs $initrd failed"
echo "$list" | grep -q 'init$' || fail "lsinitramfs listed no init: $list"
left=$(echo "$list" | grep rosnap) || true
[ -z "$left" ] || fail "rosnap is still in $initrd: $left"
sync
