#!/bin/sh
# merge --no-wait returns at once; status shows "merging" with progress
# until a background process finishes the merge.
# modes: plain udev
. /tests/lib.sh
trap 'remove_all; dmsetup remove slowvda 2>/dev/null' EXIT

wipe /dev/vda
slow_disk /dev/vda slowvda 20
rosnap create /dev/mapper/slowvda --name nw --ram 256M --backend zram >/dev/null || fail "create"
dd if=/dev/urandom of=/dev/mapper/nw bs=1M count=160 conv=fsync 2>/dev/null
want=$(sum_of /dev/mapper/nw)
rosnap merge nw --no-wait 2>/tmp/err || fail "merge --no-wait: $(cat /tmp/err)"
grep -q "in the background" /tmp/err || fail "no note: $(cat /tmp/err)"
rosnap status nw | tee /tmp/human
grep -q '^nw .* merging [0-9]*%' /tmp/human || fail "human status does not show the progress"
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
assert_eq "$(json_value nw state)" active "final state"
assert_eq "$(json_value nw merge_progress)" null "merge_progress after"
rosnap remove nw || fail "remove"
dmsetup remove slowvda
assert_eq "$(sum_of /dev/vda)" "$want" "origin after the merge"
