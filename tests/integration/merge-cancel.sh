#!/bin/sh
# Ctrl-C (SIGINT), SIGTERM or SIGHUP during a journaled merge's first copy
# into the journal (rosnap's lock holds signals back meanwhile) cancels the
# merge before it starts: exit non-zero, the device still protected with
# its changes, the origin unchanged and read-only, the journal gone.  A
# signal held back by the lock must not wait for the merge to run.
# modes: plain
# cost: 49
. /tests/lib.sh
on_exit 'rm -f /run/pause; remove_all'
[ "${ROSNAP_TEST_SAN:-0}" = 1 ] || skip "needs the test build with its pause points (build-san)"

mkfs_on /dev/vdc ext4 -b 4096
origin_sum=$(sum_of /dev/vdc)
rosnap create /dev/vdc --name mc --ram 64M >/dev/null
dd if=/dev/urandom of=/dev/mapper/mc bs=1M count=8 seek=8 oflag=direct conv=fsync 2>/dev/null
changed=$(sum_of /dev/mapper/mc)
wipe /dev/vdb

for sig in INT TERM HUP; do
	step "SIG$sig during the copy into the journal"
	signal_at_pause journal:precopy $sig rosnap merge mc --journal /dev/vdb
	cat /tmp/err
	case $sig in HUP) n=1 ;; INT) n=2 ;; TERM) n=15 ;; esac
	assert_eq "$rc" "$((128 + n))" "exit status: killed by SIG$sig once the lock let it go"
	grep -q "the merge was cancelled while its store was copied into the journal; nothing changed" /tmp/err ||
		fail "no word of the cancel"
	assert_eq "$(json_value mc state)" active "state"
	assert_eq "$(dmsetup table mc | awk '{ print $3 }')" snapshot "table"
	assert_eq "$(sum_of /dev/mapper/mc)" "$changed" "the device's contents"
	assert_eq "$(blockdev --getro /dev/vdc)" 1 "origin read-only"
	[ "$(head -c 7 /dev/vdb)" != ROSNAPJ ] || fail "the journal is left on /dev/vdb"
	[ ! -e /dev/mapper/mc-cow.merge ] || fail "a merge layer is left"
done

step "the origin was never written"
rosnap remove mc
assert_eq "$(sum_of /dev/vdc)" "$origin_sum" "origin"
