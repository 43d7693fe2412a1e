#!/bin/sh
# A journaled merge whose new table went live though its resume failed
# (test build: ROSNAP_TEST_FAIL_AT=resume, after the kernel swapped the
# table in): the command fails, but the kernel merges on, so the journal
# must stay while the merge reads it and the origin must stay writable;
# "rosnap merge" then waits for that merge and ends it, the origin equal
# to what the device showed.
# modes: plain
# cost: 18
. /tests/lib.sh
on_exit 'remove_all; umount /mnt/jd 2>/dev/null'
[ "${ROSNAP_TEST_SAN:-0}" = 1 ] || skip "needs the test build with its fault injection (build-san)"

mkfs_on /dev/vdc ext4 -b 4096
mkfs_on /dev/vdb ext4 -b 4096
mkdir -p /mnt/jd /mnt/rf
mount /dev/vdb /mnt/jd || fail "mount the journal's disk"
slow_disk /dev/vdc slowvdc 10
rosnap create /dev/mapper/slowvdc --name rf --ram 64M >/dev/null || fail "create"
mount /dev/mapper/rf /mnt/rf || fail "mount"
dd if=/dev/urandom of=/mnt/rf/big bs=1M count=24 2>/dev/null
umount /mnt/rf
want=$(sum_of /dev/mapper/rf)

# The origin held suspended: the merge cannot end before we look.
dmsetup suspend slowvdc
rc=0
ROSNAP_TEST_FAIL_AT=resume rosnap merge rf --journal /mnt/jd/j --no-wait 2>/tmp/err || rc=$?
st=$(json_value rf state)
journal_kept=no
[ -e /mnt/jd/j ] && journal_kept=yes
ro=$(blockdev --getro /dev/mapper/slowvdc)
dmsetup resume slowvdc
cat /tmp/err
[ $rc != 0 ] || fail "the merge with a failed resume exited 0"
assert_eq "$st" merging "state after the failed resume (the new table is live)"
assert_eq "$journal_kept" yes "the journal, while the live merge reads it"
assert_eq "$ro" 0 "the origin's read-only flag while it is merged into"
grep -q "rf is merging nonetheless, from the journal /mnt/jd/j" /tmp/err ||
	fail "no word of the merge going on"
rosnap merge rf 2>/tmp/err || fail "rosnap merge after the failure: $(cat /tmp/err)"
assert_eq "$(json_value rf state)" active "state"
[ ! -e /mnt/jd/j ] || fail "the journal is left after the merge ended"
rosnap remove rf || fail "remove"
dmsetup remove slowvdc
assert_eq "$(sum_of /dev/vdc)" "$want" "the origin"
