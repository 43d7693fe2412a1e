#!/bin/sh
# The process that finishes a "merge --no-wait" killed (the OOM killer, a
# oneshot unit's control group, a closed session): once the kernel has
# merged everything the device would map the origin plainly, writable,
# while status said "merging 100%".  The next rosnap command finishes the
# merge: the device protects the origin again, and writes go to RAM.
# modes: plain udev-all
# cost: 58
. /tests/lib.sh
on_exit 'remove_all; dmsetup remove slowvdc 2>/dev/null'

wipe /dev/vdc
slow_disk /dev/vdc slowvdc 20
rosnap create /dev/mapper/slowvdc --name fk --ram 64M --backend zram >/dev/null || fail "create"
# Scattered chunks: the kernel merges each alone, 20 ms apiece, so the
# finisher is surely still waiting when it is killed.
i=0
while [ $i -lt 400 ]; do
	dd if=/dev/urandom of=/dev/mapper/fk bs=4k count=1 seek=$((i * 2)) conv=notrunc 2>/dev/null
	i=$((i + 1))
done
sync
want=$(sum_of /dev/mapper/fk)

step "kill the finisher"
rosnap merge fk --no-wait 2>/dev/null || fail "merge --no-wait"
finisher=$(pids_of "rosnap merge fk --no-wait")
[ -n "$finisher" ] || fail "no finisher process"
# Killed once it waits: its waiter file is there.
n=0
until [ -e /run/rosnap/merge-fk ]; do
	n=$((n + 1))
	[ $n -lt 1500 ] || fail "the finisher never took /run/rosnap/merge-fk"
	sleep 0.02
done
kill -KILL "$finisher"
# The kernel goes on merging: wait for it, without rosnap.
n=0
until dmsetup status fk | awk '{ split($4, a, "/"); exit !(a[1] == $5) }'; do
	n=$((n + 1))
	[ $n -lt 1500 ] || fail "the kernel did not finish merging: $(dmsetup status fk)"
	sleep 0.2
done
assert_eq "$(dmsetup table fk | awk '{ print $3 }')" snapshot-merge "table after the kernel's merge"

step "the next command finishes it"
rosnap status fk >/tmp/status 2>/tmp/err || fail "status: $(cat /tmp/err)"
cat /tmp/err /tmp/status
grep -q "the merge of fk ended with nobody to finish it" /tmp/err ||
	fail "status did not say it finished the merge"
assert_eq "$(json_value fk state)" active "state"
# The finisher's waiter file went with the merge nobody waited for.
[ ! -e /run/rosnap/merge-fk ] || fail "/run/rosnap/merge-fk is left"
assert_eq "$(dmsetup table fk | awk '{ print $3 }')" snapshot "table"
assert_eq "$(blockdev --getro /dev/mapper/slowvdc)" 1 "origin read-only again"
assert_eq "$(dmsetup ls | awk '{ print $1 }' | grep '^fk-' | tr '\n' ' ')" "fk-cow " "layers"
assert_eq "$(json_value fk cow_used_bytes)" "$(cow_allocated fk)" "a fresh store"
before=$(sum_of /dev/mapper/slowvdc)
dd if=/dev/urandom of=/dev/mapper/fk bs=1M count=1 oflag=direct conv=fsync 2>/dev/null || fail "write after"
assert_eq "$(sum_of /dev/mapper/slowvdc)" "$before" "the origin after a write to the device"
rosnap remove fk || fail "remove"
assert_eq "$(sum_of /dev/vdc)" "$want" "the origin holds every change"
dmsetup remove slowvdc
