#!/bin/sh
# merge --no-wait returns at once; status shows "merging" with progress
# until a background process finishes the merge; a second "merge" waits
# for the one in progress.
# modes: plain udev-all
# cost: 46
. /tests/lib.sh
on_exit 'remove_all; dmsetup remove slowvda 2>/dev/null'

wipe /dev/vda
slow_disk /dev/vda slowvda 20
rosnap create /dev/mapper/slowvda --name nw --ram 256M --backend zram >/dev/null || fail "create"
dd if=/dev/urandom of=/dev/mapper/nw bs=1M count=160 conv=fsync 2>/dev/null
want=$(sum_of /dev/mapper/nw)
rosnap merge nw --no-wait 2>/tmp/err || fail "merge --no-wait: $(cat /tmp/err)"
grep -q "in the background" /tmp/err || fail "no note: $(cat /tmp/err)"
rosnap status nw | tee /tmp/human
grep -q '^nw .* merging [0-9]*%' /tmp/human || fail "human status does not show the progress"

# A second merge of a device that is merging waits for that merge (the
# origin held suspended meanwhile, so the merge cannot end): it must not
# return while the merge cannot have ended, then return 0 once it has.
dmsetup suspend slowvda
assert_eq "$(json_value nw state)" merging "state, the origin held"
rosnap merge nw 2>/tmp/err2 &
joiner=$!
n=0
while [ $n -lt 20 ]; do
	kill -0 $joiner 2>/dev/null || { dmsetup resume slowvda; fail "merge of a merging device returned at once: $(cat /tmp/err2)"; }
	n=$((n + 1))
	sleep 0.1
done
dmsetup resume slowvda
seen=0
while :; do
	st=$(rosnap status nw --json)
	[ "$(echo "$st" | json_key state)" = merging ] || break
	p=$(echo "$st" | json_key merge_progress)
	case $p in
	null) fail "merge_progress is null while merging" ;;
	esac
	awk -v p="$p" 'BEGIN { exit !(p >= 0 && p <= 1) }' || fail "merge_progress $p"
	seen=$((seen + 1))
	sleep 0.3
done
[ "$seen" -gt 0 ] || fail "never saw the merge in progress"
wait $joiner || fail "the second merge failed: $(cat /tmp/err2)"
# Two waited (the background finisher and the joiner): once both are
# gone, so is their waiter file.
n=0
while [ -n "$(pids_of "rosnap merge nw --no-wait")" ]; do
	n=$((n + 1))
	[ $n -lt 3000 ] || fail "the background finisher did not end with the merge"
	sleep 0.1
done
[ ! -e /run/rosnap/merge-nw ] || fail "the merge's waiter file is left"
assert_eq "$(json_value nw state)" active "final state"
assert_eq "$(json_value nw merge_progress)" null "merge_progress after"
rosnap remove nw || fail "remove"
dmsetup remove slowvda
assert_eq "$(sum_of /dev/vda)" "$want" "origin after the merge"
