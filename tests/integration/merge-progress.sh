#!/bin/sh
# rosnap merge draws a progress bar on a terminal: redrawn in place as the
# merge goes, up to 100%, with its rate and time left, ended by a newline;
# with stderr not a terminal, no bar at all.  A journaled merge first
# draws a bar of its own for the copy of the store into the journal.
# modes: plain
# cost: 65
. /tests/lib.sh
on_exit 'remove_all; dmsetup remove slowvdd 2>/dev/null'

wipe /dev/vdd
slow_disk /dev/vdd slowvdd 20
merge_in() { # HOW: on a terminal (script(1)), or into a file [MERGE-OPTIONS]
	rosnap create /dev/mapper/slowvdd --name pb --ram 16M >/dev/null || fail "create"
	scattered_writes /dev/mapper/pb 300
	want=$(sum_of /dev/mapper/pb)
	case $1 in
	terminal) script -q -e -c "rosnap merge pb ${2:-} && echo after-the-merge" \
		/tmp/ts >/dev/null </dev/null ||
		fail "merge on a terminal: $(cat /tmp/ts)" ;;
	file) rosnap merge pb 2>/tmp/ts || fail "merge: $(cat /tmp/ts)" ;;
	esac
	assert_eq "$(sum_of /dev/mapper/slowvdd)" "$want" "the merged origin"
	rosnap remove pb || fail "remove"
}

step "on a terminal"
merge_in terminal
# Each redraw begins with a carriage return: one line per redraw.
tr '\r' '\n' </tmp/ts | grep 'pb \[.*\] *[0-9]*% .*/s ETA [0-9-]*:[0-9-]*' >/tmp/bars ||
	fail "no progress bar: $(od -c /tmp/ts | head -n 20)"
cat /tmp/bars
[ "$(sort -u /tmp/bars | wc -l)" -ge 3 ] || fail "the bar was not redrawn as the merge went"
tail -n 1 /tmp/bars | grep -q '\[##############################\] 100% .* ETA 0:00' ||
	fail "the last bar is not at 100%: $(tail -n 1 /tmp/bars)"
# The bar's line is ended: what comes next is on a line of its own.
tr -d '\r' </tmp/ts | grep -q '^after-the-merge$' ||
	fail "the bar's line is not ended: $(tr '\r' '\n' </tmp/ts | tail -n 3)"

step "journaled, on a terminal"
wipe /dev/vdc
merge_in terminal "--journal /dev/vdc"
tr '\r' '\n' </tmp/ts | grep 'pb: copy into the journal \[.*\] *[0-9]*% .*/s ETA' >/tmp/copybars ||
	fail "no bar for the copy: $(tr '\r' '\n' </tmp/ts | head -n 20)"
[ "$(sort -u /tmp/copybars | wc -l)" -ge 3 ] || fail "the copy's bar was not redrawn"
tail -n 1 /tmp/copybars | grep -q '\] 100% .* ETA 0:00' ||
	fail "the copy's last bar is not at 100%: $(tail -n 1 /tmp/copybars)"
# Then the merge's own bar, on a line of its own, up to 100%.
tr '\r' '\n' </tmp/ts | grep '^pb \[' | tail -n 1 | grep -q '100% .* ETA 0:00' ||
	fail "no merge bar at 100% after the copy's: $(tr '\r' '\n' </tmp/ts | tail -n 5)"
tr '\r' '\n' </tmp/ts | grep -n 'copy into the journal\|^pb \[' | tail -n 1 | grep -q ':pb \[' ||
	fail "the copy's bar came after the merge's"

step "not on a terminal"
merge_in file
cat /tmp/ts
if grep -q 'ETA' /tmp/ts || tr -d '\n' </tmp/ts | grep -q "$(printf '\r')"; then
	fail "a progress bar drawn into a file: $(od -c /tmp/ts | head -n 20)"
fi
