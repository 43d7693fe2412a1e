#!/bin/sh
# Booted with rosnap.save=/dev/vdc, a blank disk: nothing saved yet, so
# the changes start afresh in RAM; rosnap-save.service, started with the
# device, saves them there at the clean shutdown that ends this boot.
. /usr/local/lib/rosnap-test/lib.sh
assert_eq "$(findmnt -n -o SOURCE /)" /dev/mapper/rosnap-root "root device"
assert_eq "$(json_value rosnap-root location)" ram "where the changes live"
state=$(systemctl is-system-running --wait) || true  # checked below, with the failed units
systemctl --failed --no-legend
assert_eq "$state" running "systemctl is-system-running"
assert_eq "$(systemctl is-active rosnap-save.service)" active \
	"rosnap-save.service, started by udev for the rosnap device"
# The host looks for this in the save's disk.
echo "saved rosnap-plaintext-marker-$(seq 1 9 | tr -d '\n')" >/etc/rosnap-saved
dd if=/dev/urandom of=/var/tmp/saved bs=1M count=8 2>/dev/null
md5sum /etc/rosnap-saved /var/tmp/saved >/data/saved.md5
sync
