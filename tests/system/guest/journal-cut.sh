#!/bin/sh
# A journaled merge of / (journal on its own disk), cut by a power loss.
. /usr/local/lib/rosnap-test/lib.sh
mountpoint -q /data || fail "/data (the data disk) is not mounted"
dd if=/dev/urandom of=/var/tmp/big bs=1M count=150 2>/dev/null
echo "journaled" >/etc/rosnap-journaled
sync
md5sum /var/tmp/big /etc/rosnap-journaled >/data/expected
sync
rosnap merge rosnap-root --journal /dev/vdc --no-wait || fail "merge"
assert_eq "$(json_value rosnap-root state)" merging "state before the cut"
assert_eq "$(head -c 7 /dev/vdc)" ROSNAPJ "journal header"
powercut
