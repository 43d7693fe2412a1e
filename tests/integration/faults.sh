#!/bin/sh
# Faults injected below rosnap, the way LVM and cryptsetup test: the
# origin and the store sit on dm devices reloaded to "error" or "flakey".
# Origin read errors reach the reader as EIO and break nothing else; store
# write errors invalidate the snapshot, status says so, remove cleans up;
# a journaled merge whose origin fails writes half-way is "merge-failed",
# and "rosnap merge" finishes it once the fault is gone.
# modes: plain udev-all
# cost: 42
# timeout: 900
. /tests/lib.sh
on_exit 'remove_all; dmsetup remove forig 2>/dev/null'

faulty_origin /dev/vdc forig

step "origin read errors: EIO to the reader, nothing else breaks"
rosnap create /dev/mapper/forig --name flt --ram 64M >/dev/null || fail "create"
# The second half of the origin fails every read.
dm_swap_table forig "0 $half linear /dev/vdc 0
$half $((sectors - half)) error"
if dd if=/dev/mapper/flt of=/dev/null bs=4k skip=$((half / 8 + 16)) count=1 iflag=direct 2>/tmp/err; then
	fail "a read of a failing origin succeeded"
fi
grep -q "Input/output error" /tmp/err || fail "the reader got '$(cat /tmp/err)', want EIO"
dd if=/dev/mapper/flt of=/dev/null bs=1M count=8 iflag=direct 2>/dev/null ||
	fail "reads of the healthy half fail too"
dd if=/dev/urandom of=/dev/mapper/flt bs=4k count=16 seek=64 oflag=direct conv=fsync 2>/dev/null ||
	fail "whole-chunk writes fail while the origin's other half fails reads"
assert_eq "$(json_value flt state)" active "state after read errors"
dm_swap_table forig "$linear"
dd if=/dev/mapper/flt of=/dev/null bs=4k skip=$((half / 8 + 16)) count=1 iflag=direct 2>/dev/null ||
	fail "the read still fails after the fault cleared"
rosnap remove flt || fail "remove"
assert_eq "$(blockdev --getro /dev/mapper/forig)" 0 "origin read-only flag after remove"

step "store write errors: invalid, with the reason; remove cleans up"
before=$(sum_of /dev/mapper/forig)
rosnap create /dev/mapper/forig --name flt --ram 64M >/dev/null || fail "create"
cow=$(dmsetup table flt-cow)
dm_swap_table flt-cow "0 $(blockdev --getsz /dev/mapper/flt-cow) flakey $(echo "$cow" | awk '{ print $4 }') $(echo "$cow" | awk '{ print $5 }') 0 3600 1 error_writes"
dd if=/dev/urandom of=/dev/mapper/flt bs=4k count=4 seek=300 oflag=direct conv=fsync 2>/dev/null &&
	fail "a write to a snapshot whose store fails writes succeeded"
# The store as it was (a store rosnap did not make would be "incomplete");
# the kernel does not forget that the snapshot is invalid.
dm_swap_table flt-cow "$cow"
assert_eq "$(json_value flt state)" invalid "state after store write errors"
rosnap status flt >/tmp/status 2>&1
grep -q "flt is invalid: .*I/O error on its store (the kernel: \"Invalidating snapshot" /tmp/status ||
	fail "status does not say why it is invalid: $(cat /tmp/status)"
rosnap status flt --json | grep -q '"reason": ".*I/O error' || fail "no reason in JSON"
rosnap remove flt || fail "remove of an invalid snapshot"
[ -z "$(dmsetup ls | grep '^flt')" ] || fail "layers left: $(dmsetup ls)"
assert_eq "$(sum_of /dev/mapper/forig)" "$before" "origin after an invalid snapshot"

step "a journaled merge that fails half-way resumes once the fault clears"
rosnap create /dev/mapper/forig --name flt --ram 64M >/dev/null || fail "create"
# Changes in both halves of the disk.
dd if=/dev/urandom of=/dev/mapper/flt bs=1M count=8 seek=4 oflag=direct conv=fsync 2>/dev/null
dd if=/dev/urandom of=/dev/mapper/flt bs=1M count=8 seek=$((half / 2048 + 4)) oflag=direct conv=fsync 2>/dev/null
expected=$(sum_of /dev/mapper/flt)
mkfs_on /dev/vdd ext4 -b 4096
mkdir -p /mnt/j && mount /dev/vdd /mnt/j
# Writes to the origin's first half fail: the merge gets part-way.
dm_swap_table forig "0 $half flakey /dev/vdc 0 0 3600 1 error_writes
$half $((sectors - half)) linear /dev/vdc $half"
rosnap merge flt --journal /mnt/j/journal >/tmp/out 2>/tmp/err && fail "a merge into a failing origin succeeded"
cat /tmp/err
grep -q "stopped merging flt after an I/O error" /tmp/err || fail "merge said '$(cat /tmp/err)'"
assert_eq "$(json_value flt state)" merge-failed "state"
[ -f /mnt/j/journal ] || fail "the journal is gone after a failed merge"
expect_fail 4 "it is merging" rosnap remove flt
dm_swap_table forig "$linear"
rosnap merge flt 2>/tmp/err || fail "the retried merge failed: $(cat /tmp/err)"
assert_eq "$(json_value flt state)" active "state after the retry"
[ ! -e /mnt/j/journal ] || fail "the journal is left after the merge completed"
rosnap remove flt || fail "remove"
assert_eq "$(sum_of /dev/mapper/forig)" "$expected" "origin after the resumed merge"
umount /mnt/j
dmsetup remove forig
