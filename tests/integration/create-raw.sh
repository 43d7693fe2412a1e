#!/bin/sh
# Raw block writes through the snapshot, no filesystem: each 4K chunk
# written costs exactly one chunk of COW; reads return what was written;
# unwritten areas read as the origin.
# modes: plain
. /tests/lib.sh
on_exit remove_all

wipe /dev/vdc
dd if=/dev/urandom of=/dev/vdc bs=1M count=16 conv=fsync 2>/dev/null
before=$(sum_of /dev/vdc)
rosnap create /dev/vdc --name raw --ram 32M --backend zram >/dev/null || fail "create failed"
base=$(cow_allocated raw)
dd if=/dev/urandom of=/tmp/chunk bs=1M count=8 2>/dev/null
dd if=/tmp/chunk of=/dev/mapper/raw bs=1M seek=4 conv=fsync 2>/dev/null
after=$(cow_allocated raw)
# 2048 data chunks, plus metadata: one 4K area per 256 chunks.
grew=$((after - base))
[ "$grew" -ge $((8 << 20)) ] && [ "$grew" -le $(((8 << 20) + 16 * 4096)) ] ||
	fail "8M written grew the COW by $grew bytes"
assert_eq "$(dd if=/dev/mapper/raw bs=1M skip=4 count=8 2>/dev/null | md5sum)" \
	"$(md5sum </tmp/chunk)" "data written"
assert_eq "$(dd if=/dev/mapper/raw bs=1M count=4 2>/dev/null | md5sum)" \
	"$(dd if=/dev/vdc bs=1M count=4 2>/dev/null | md5sum)" "unwritten area"
rosnap remove raw || fail "remove failed"
assert_eq "$(sum_of /dev/vdc)" "$before" "origin checksum"
