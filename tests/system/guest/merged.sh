#!/bin/sh
# The boot after a merge of /: the merged change is on the disk, what
# came after the merge is not.
. /usr/local/lib/rosnap-test/lib.sh
assert_eq "$(cat /etc/rosnap-merged)" merged "merged file"
[ ! -e /etc/rosnap-after ] || fail "a write after the merge reached the disk"
[ ! -e /etc/rosnap-fallback-rw ] || fail "a file removed before the merge is back"
