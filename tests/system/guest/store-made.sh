#!/bin/sh
# Booted with rosnap.store=/dev/vdc, a blank disk: rosnap made a store
# there, and this boot's changes go to it, to be found by the next boot.
. /usr/local/lib/rosnap-test/lib.sh
assert_eq "$(findmnt -n -o SOURCE /)" /dev/mapper/rosnap-root "root device"
assert_eq "$(json_value rosnap-root location)" disk "where the changes live"
assert_eq "$(json_value rosnap-root store)" /dev/vdc "store"
assert_eq "$(json_value rosnap-root persistent)" true "persistent"
# Encrypted with LUKS2 when boot.conf names a key (key=).
want=null
! grep -q '^key=' /etc/rosnap/boot.conf 2>/dev/null || want=luks2
assert_eq "$(json_value rosnap-root encryption)" "$want" "encryption"
assert_eq "$(blockdev --getro /dev/vda)" 1 "origin read-only"
grep -q "its changes are kept in /dev/vdc, not on its disk" /run/motd.d/rosnap ||
	fail "no login notice of the store: $(cat /run/motd.d/rosnap 2>&1)"
state=$(systemctl is-system-running --wait) || true  # checked below, with the failed units
systemctl --failed --no-legend
assert_eq "$state" running "systemctl is-system-running"
# The host looks for this in the store's disk.
echo "kept rosnap-plaintext-marker-$(seq 1 9 | tr -d '\n')" >/etc/rosnap-kept
dd if=/dev/urandom of=/var/tmp/kept bs=1M count=20 2>/dev/null
md5sum /etc/rosnap-kept /var/tmp/kept >/data/kept.md5
sync
