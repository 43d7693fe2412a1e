#!/bin/sh
# A live merge of / itself: the change reaches the disk, / stays mounted
# and protected.
. /usr/local/lib/rosnap-test/lib.sh
echo "merged" >/etc/rosnap-merged
rm -f /etc/rosnap-fallback-rw
sync
rosnap merge rosnap-root || fail "merge of /"
assert_eq "$(json_value rosnap-root state)" active "state after the merge"
assert_eq "$(blockdev --getro /dev/vda)" 1 "origin read-only again"
echo "after the merge" >/etc/rosnap-after
