#!/bin/sh
# rosnap.fallback=rw: the disk itself, writable.
. /usr/local/lib/rosnap-test/lib.sh
assert_eq "$(findmnt -n -o SOURCE /)" /dev/vda "root device"
touch /etc/rosnap-fallback-rw || fail "/ is not writable"
