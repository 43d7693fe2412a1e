#!/bin/sh
# The snapshot could not be made, rosnap.fallback=ro (the default): the
# disk itself, read-only at the block layer, so nothing can write it.
. /usr/local/lib/rosnap-test/lib.sh
assert_eq "$(findmnt -n -o SOURCE /)" /dev/vda "root device"
assert_eq "$(blockdev --getro /dev/vda)" 1 "block-layer read-only flag"
if touch /etc/written 2>/dev/null; then
	fail "/ is writable"
fi
if mount -o remount,rw / 2>/dev/null; then
	fail "/ could be remounted writable"
fi
assert_eq "$(rosnap list)" "" "rosnap devices"
