#!/bin/sh
# A full store (PO): writes fail, reads work, state "overflow"; it still
# merges, and the origin then holds exactly what the device showed.
# modes: plain
# cost: 15
. /tests/lib.sh
on_exit remove_all

wipe /dev/vdc
rosnap create /dev/vdc --name ov --ram 4M >/dev/null || fail "create"
if dd if=/dev/urandom of=/dev/mapper/ov bs=1M count=8 seek=16 conv=fsync 2>/tmp/err; then
	fail "8M fit in a 4M store"
fi
grep -q "Input/output error" /tmp/err || fail "not an I/O error: $(cat /tmp/err)"
assert_eq "$(json_value ov state)" overflow "state"
assert_eq "$(json_value ov cow_used_bytes)" "$(json_value ov cow_size_bytes)" "full"
shown=$(sum_of /dev/mapper/ov) || fail "reads fail on an overflowed snapshot"
rosnap merge ov 2>/dev/null || fail "merge of an overflowed store"
assert_eq "$(json_value ov state)" active "state after merge"
rosnap remove ov || fail "remove"
assert_eq "$(sum_of /dev/vdc)" "$shown" "origin after merging the overflowed store"
