#!/bin/sh
# A journal device holding another disk's interrupted merge must not make
# the root fall back at every boot: "rosnap boot" leaves it alone, says
# so, protects the root, and keeps the journal for "rosnap recover".
# modes: plain udev
# timeout: 600
. /tests/lib.sh
on_exit 'remove_all; dmsetup remove slowvdc 2>/dev/null; rm -f /tmp/journal.img'

step "a journal of vdc's merge, as a power cut leaves it"
mkfs_on /dev/vdc ext4 -b 4096
slow_disk /dev/vdc slowvdc 5
rosnap create /dev/mapper/slowvdc --name other --ram 64M >/dev/null || fail "create"
# Raw changes past the superblock: the filesystem's UUID stays.
dd if=/dev/urandom of=/dev/mapper/other bs=1M count=16 seek=8 oflag=direct conv=fsync 2>/dev/null ||
	fail "write"
wipe /dev/vdd
rosnap merge other --journal /dev/vdd --no-wait 2>/dev/null || fail "merge"
dd if=/dev/vdd of=/tmp/journal.img bs=1M 2>/dev/null || fail "copy the journal"
rosnap merge other 2>/dev/null || fail "the merge did not finish"
rosnap remove other || fail "remove"
dmsetup remove slowvdc || fail "dmsetup remove slowvdc"
dd if=/tmp/journal.img of=/dev/vdd bs=1M conv=fsync 2>/dev/null || fail "restore the journal"
rm -f /tmp/journal.img
[ "$(head -c 7 /dev/vdd)" = ROSNAPJ ] || fail "no journal on /dev/vdd"

step "booting another root with that journal configured"
mkfs_on /dev/vdb ext4 -b 4096
echo "root=/dev/vdb rosnap rosnap.journal=/dev/vdd rosnap.fallback=panic rosnap.ram=32M" >/tmp/cmdline
rosnap boot --config /dev/null --cmdline /tmp/cmdline >/tmp/out 2>/tmp/err ||
	fail "the boot fell back: $(cat /tmp/err)"
cat /tmp/err
grep -q "the journal /dev/vdd holds an interrupted merge of another disk, not of /dev/vdb" /tmp/err ||
	fail "no word about the journal: $(cat /tmp/err)"
assert_eq "$(cat /tmp/out)" /dev/mapper/rosnap-root "the root to mount"
assert_eq "$(json_value rosnap-root state)" active "state"
rosnap remove rosnap-root || fail "remove"
[ "$(head -c 7 /dev/vdd)" = ROSNAPJ ] || fail "the other disk's journal was wiped"
wipe /dev/vdd
