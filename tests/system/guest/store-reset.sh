#!/bin/sh
# rosnap.store= with rosnap.reset: the kept changes are dropped, and the
# store serves this boot afresh.
. /usr/local/lib/rosnap-test/lib.sh
assert_eq "$(findmnt -n -o SOURCE /)" /dev/mapper/rosnap-root "root device"
assert_eq "$(json_value rosnap-root store)" /dev/vdc "store"
for f in /etc/rosnap-kept /etc/rosnap-kept-2 /var/tmp/kept; do
	[ ! -e "$f" ] || fail "$f, a kept change, survived rosnap.reset"
done
echo fresh >/etc/rosnap-fresh || fail "/ is not writable"
