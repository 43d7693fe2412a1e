#!/bin/sh
# The monitor grows a store online when it crosses warn, while a writer
# keeps writing: no I/O error, the data verified afterwards, the growth
# visible in status, the extra RAM devices removed with the device.
# modes: plain udev-all
# cost: 37
# timeout: 600
. /tests/lib.sh
on_exit 'kill $mon 2>/dev/null; remove_all'

mkfs_on /dev/vda ext4 -b 4096
mkdir -p /mnt/g
rosnap create /dev/vda --name g --ram 16M >/dev/null || fail "create"
mount /dev/mapper/g /mnt/g || fail "mount"
# warn at 25%: 12M of headroom for the growth, which under emulation and a
# busy host can take seconds.
rosnap monitor g --warn 25 --grow-by 16M --grow-max 80M --interval 1 2>/tmp/mon.log &
mon=$!
dd if=/dev/urandom of=/tmp/data bs=1M count=40 2>/dev/null
# A steady writer, 1M at a time, synced, that never outruns the monitor:
# before each write it waits (up to 2 minutes) for 4M of room, which
# past the first 12M only the monitor's growing makes.
room() {
	echo $(($(json_value g cow_size_bytes) - $(json_value g cow_used_bytes)))
}
i=0
while [ $i -lt 40 ]; do
	n=0
	until [ "$(room)" -ge $((4 << 20)) ]; do
		n=$((n + 1))
		[ $n -lt 600 ] || { cat /tmp/mon.log; fail "the store never grew past $(json_value g cow_size_bytes) bytes"; }
		sleep 0.2
	done
	dd if=/tmp/data of=/mnt/g/data bs=1M count=1 seek=$i skip=$i conv=notrunc,fsync \
		2>/tmp/dd.err || { cat /tmp/dd.err; fail "write $i failed"; }
	i=$((i + 1))
done
sync
kill -TERM $mon
rc=0
wait $mon || rc=$?
cat /tmp/mon.log
assert_eq "$rc" 0 "the monitor's exit status on SIGTERM"
grep -q "grew its store" /tmp/mon.log || fail "the monitor did not grow the store"
size=$(json_value g cow_size_bytes)
[ "$size" -gt $((16 << 20)) ] || fail "store still $size bytes"
assert_eq "$(json_value g state)" active "state"
echo 3 >/proc/sys/vm/drop_caches
assert_eq "$(md5sum </mnt/g/data)" "$(md5sum </tmp/data)" "data written through the growth"
nparts=$(dmsetup table g-cow | grep -c linear)
[ "$nparts" -gt 1 ] || fail "one RAM device only"
echo "store grew to $size bytes over $nparts RAM devices"
umount /mnt/g
rosnap remove g || fail "remove"
