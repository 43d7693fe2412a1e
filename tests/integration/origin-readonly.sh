#!/bin/sh
# While protected the origin is read-only at the block layer: a raw write
# fails.  remove restores the flag the origin had before: writable stays
# writable, read-only stays read-only.
# modes: plain udev
# cost: 21
. /tests/lib.sh
on_exit remove_all

mkfs_on /dev/vdc ext4 -b 4096
before=$(sum_of /dev/vdc)
rosnap create /dev/vdc --ram 16M >/dev/null || fail "create failed"
assert_eq "$(blockdev --getro /dev/vdc)" 1 "BLKROGET while protected"
if dd if=/dev/zero of=/dev/vdc bs=4k count=1 seek=100 conv=fsync 2>/tmp/err; then
	fail "a raw write to the protected origin succeeded"
fi
cat /tmp/err
assert_eq "$(json_value rosnap-vdc origin_was_read_only)" false "origin_was_read_only"
rosnap remove rosnap-vdc || fail "remove failed"
assert_eq "$(blockdev --getro /dev/vdc)" 0 "origin writable after remove"
assert_eq "$(sum_of /dev/vdc)" "$before" "origin checksum"

step "an origin that was read-only stays read-only"
blockdev --setro /dev/vdc
rosnap create /dev/vdc --ram 16M >/dev/null || fail "create failed"
assert_eq "$(json_value rosnap-vdc origin_was_read_only)" true "origin_was_read_only"
rosnap remove rosnap-vdc || fail "remove failed"
assert_eq "$(blockdev --getro /dev/vdc)" 1 "read-only origin after remove"
blockdev --setrw /dev/vdc
