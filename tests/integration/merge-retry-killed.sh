#!/bin/sh
# A retried merge (after "merge-failed") swaps twice: to a plain snapshot
# of the store, then to a new snapshot-merge.  Killed between the two, the
# device looks like an ordinary snapshot although its origin is partly
# merged: the next command must merge on, never treat the rest as changes
# to keep, discard or protect.  Uses the test build's pause points.
# modes: plain
# cost: 17
# timeout: 900
. /tests/lib.sh
on_exit 'rm -f /run/pause; remove_all; dmsetup remove forig 2>/dev/null'
[ "${ROSNAP_TEST_SAN:-0}" = 1 ] || skip "needs the test build with its pause points (build-san)"

faulty_origin /dev/vdc forig
rosnap create /dev/mapper/forig --name rk --ram 64M >/dev/null || fail "create"
dd if=/dev/urandom of=/dev/mapper/rk bs=1M count=8 seek=4 oflag=direct conv=fsync 2>/dev/null
dd if=/dev/urandom of=/dev/mapper/rk bs=1M count=8 seek=$((half / 2048 + 4)) oflag=direct conv=fsync 2>/dev/null
expected=$(sum_of /dev/mapper/rk)

step "a merge that fails half-way"
dm_swap_table forig "0 $half flakey /dev/vdc 0 0 3600 1 error_writes
$half $((sectors - half)) linear /dev/vdc $half"
rosnap merge rk 2>/dev/null && fail "a merge into a failing origin succeeded"
assert_eq "$(json_value rk state)" merge-failed "state"
dm_swap_table forig "$linear"

step "its retry killed between its two swaps"
start_paused merge-retry:resumed rosnap merge rk
kill -KILL $paused_pid
wait $paused_pid || true  # killed: 137
rm -f /run/pause
assert_eq "$(dmsetup table rk | awk '{ print $3 }')" snapshot "table left by the kill"

step "the next command merges on"
rosnap status rk >/dev/null 2>/tmp/err || fail "status: $(cat /tmp/err)"
cat /tmp/err
grep -q "the retried merge of rk was cut short: merging on" /tmp/err ||
	fail "status did not merge on"
st=$(json_value rk state)
case $st in merging | active) ;; *) fail "state '$st' after the repair" ;; esac
if [ "$st" = merging ]; then
	expect_fail 4 "rk is merging: part of its changes are in" rosnap discard rk
fi
rosnap merge rk 2>/tmp/err || fail "the merge did not finish: $(cat /tmp/err)"
assert_eq "$(json_value rk state)" active "state"
rosnap remove rk || fail "remove"
assert_eq "$(sum_of /dev/mapper/forig)" "$expected" "the origin after the merge"
dmsetup remove forig
