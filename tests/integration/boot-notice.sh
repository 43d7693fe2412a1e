#!/bin/sh
# The login notice of a protected root (/run/motd.d/rosnap, which
# pam_motd shows): rosnap boot writes one line saying where the changes
# go and the command that keeps them; it goes while the root is
# unprotected (merge --unprotect), comes back with protect, goes with
# remove; a store on disk is named; notice=no in boot.conf, a fallback
# and rosnap=off write none.
# modes: plain
. /tests/lib.sh
on_exit 'remove_all; blockdev --setrw /dev/vdc 2>/dev/null; rm -f /run/motd.d/rosnap /run/rosnap/notice-root'
n=/run/motd.d/rosnap

boot_with() { # CMDLINE-WORDS...
	echo "root=/dev/vdc $*" >/tmp/cmdline
	rosnap boot --config "${conf:-/dev/null}" --cmdline /tmp/cmdline >/tmp/out 2>/tmp/err ||
		fail "boot: $(cat /tmp/err)"
}
no_notice() { # WHEN
	[ ! -e $n ] || fail "a login notice $1: $(cat $n)"
}

mkfs_on /dev/vdc ext4 -b 4096
wipe /dev/vdd

step "a root in RAM: one line, the command that keeps the changes"
boot_with rosnap rosnap.ram=32M
cat $n
assert_eq "$(wc -l <$n)" 1 "lines of the notice"
grep -q "its changes go to RAM and are lost at power-off; 'rosnap merge rosnap-root' writes them" $n ||
	fail "the notice says: $(cat $n)"

step "gone while unprotected, back with protect, gone with remove"
rosnap merge rosnap-root --unprotect >/dev/null 2>&1 || fail "merge --unprotect"
no_notice "on an unprotected root"
rosnap protect rosnap-root || fail "protect"
grep -q "go to RAM" $n || fail "no notice after protect"
# Another device's commands leave it alone.
mkfs_on /dev/vdd ext4 -b 4096
rosnap create /dev/vdd --name other --ram 8M >/dev/null || fail "create other"
rosnap remove other || fail "remove other"
grep -q "go to RAM" $n || fail "removing another device took the notice"
rosnap remove rosnap-root || fail "remove"
no_notice "once the root's device is gone"

step "a store on disk is named"
wipe /dev/vdd
boot_with rosnap rosnap.store=/dev/vdd
grep -q "its changes are kept in /dev/vdd, not on its disk" $n || fail "the notice says: $(cat $n)"
rosnap remove rosnap-root || fail "remove"

step "none with notice=no, on a fallback, with rosnap=off"
echo notice=no >/tmp/notice.conf
conf=/tmp/notice.conf
boot_with rosnap rosnap.ram=32M
no_notice "with notice=no"
rosnap remove rosnap-root || fail "remove"
conf=
boot_with rosnap rosnap.ram=lots rosnap.fallback=rw
no_notice "on a fallback"
boot_with rosnap=off
no_notice "with rosnap=off"
