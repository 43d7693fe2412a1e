#!/bin/sh
# The login notice of a protected root (/run/motd.d/rosnap, which
# pam_motd shows): rosnap boot writes one line saying where the changes
# go and the command that keeps them; it goes while the root is
# unprotected (merge --unprotect), comes back with protect, goes with
# remove; none while the root merges, and back once the merge ends, also
# when another command ends it (the monitor's rounds); a store on disk is
# named; notice=no in boot.conf, a fallback (to a device-mapper root too)
# and rosnap=off write none, and take away one left from before.
# modes: plain
. /tests/lib.sh
on_exit 'remove_all; dmsetup remove userroot 2>/dev/null; dmsetup remove slowvdc 2>/dev/null; blockdev --setrw /dev/vdc 2>/dev/null; rm -f /run/motd.d/rosnap /run/rosnap/notice-root'
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
grep -q "its changes go to RAM and are lost at power-off unless saved; 'rosnap merge rosnap-root' writes them" $n ||
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

step "none while the root merges; back when a command other than merge ends it"
# A slow root: the merge is surely under way when checked.
slow_disk /dev/vdc slowvdc 20
echo "root=/dev/mapper/slowvdc rosnap rosnap.ram=32M" >/tmp/cmdline
rosnap boot --config /dev/null --cmdline /tmp/cmdline >/tmp/out 2>/tmp/err ||
	fail "boot: $(cat /tmp/err)"
grep -q "go to RAM" $n || fail "no notice for the slow root"
# Scattered chunks: the kernel merges each alone, 20 ms apiece.
i=0
while [ $i -lt 200 ]; do
	dd if=/dev/urandom of=/dev/mapper/rosnap-root bs=4k count=1 seek=$((i * 2)) \
		conv=notrunc 2>/dev/null
	i=$((i + 1))
done
sync
rosnap merge rosnap-root --no-wait 2>/dev/null || fail "merge --no-wait"
no_notice "while the root merges"
# Its finisher killed: "status" ends the merge; whatever it did of the
# notice (taken away here, to be sure), the monitor's round puts it back.
finisher=$(pids_of "rosnap merge rosnap-root --no-wait")
[ -n "$finisher" ] || fail "no finisher process"
kill -KILL "$finisher"
k=0
until dmsetup status rosnap-root | awk '{ split($4, a, "/"); exit !(a[1] == $5) }'; do
	k=$((k + 1))
	[ $k -lt 1500 ] || fail "the kernel did not finish merging: $(dmsetup status rosnap-root)"
	sleep 0.2
done
rosnap status rosnap-root >/dev/null 2>&1 || fail "status"
assert_eq "$(json_value rosnap-root state)" active "state once status ended the merge"
rm -f $n
rosnap monitor --once 2>/tmp/mon.log || fail "monitor: $(cat /tmp/mon.log)"
grep -q "go to RAM" $n || fail "the monitor did not put the notice back: $(cat $n 2>&1)"
rosnap remove rosnap-root || fail "remove"
dmsetup remove slowvdc || fail "dmsetup remove slowvdc"
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
# A notice left from before (planted) goes too.
plant() {
	mkdir -p /run/motd.d /run/rosnap
	echo "stale notice" >$n
	echo rosnap-root >/run/rosnap/notice-root
}
plant
boot_with rosnap rosnap.ram=lots rosnap.fallback=rw
no_notice "on a fallback"
plant
boot_with rosnap=off
no_notice "with rosnap=off"
[ ! -e /run/rosnap/notice-root ] || fail "the root's record stays with rosnap=off"

step "a root that is a device-mapper device itself, fallen back to: none"
dmsetup create userroot --table "0 $(blockdev --getsz /dev/vdc) linear /dev/vdc 0" ||
	fail "dmsetup create"
dmsetup mknodes userroot
plant
echo "root=/dev/mapper/userroot rosnap rosnap.ram=lots rosnap.fallback=rw" >/tmp/cmdline
rosnap boot --config /dev/null --cmdline /tmp/cmdline >/tmp/out 2>/tmp/err ||
	fail "boot: $(cat /tmp/err)"
assert_eq "$(cat /tmp/out)" /dev/mapper/userroot "the root after the fallback"
no_notice "on a fallback to a device-mapper root"
[ ! -e /run/rosnap/notice-root ] || fail "a fallback recorded a root device for the notice"
dmsetup remove --retry userroot || fail "dmsetup remove"
