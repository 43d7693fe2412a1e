#!/bin/sh
# The monitor learns from udev's events that a rosnap device came: with
# an interval of an hour (and no device, a look every 5 minutes), a device
# made after it started is in its metrics within a minute.  Other
# devices' events (a loop device) make no round.  A device removed is
# reported gone (by udev's event or its event waiter, whichever first).  A
# hook that ended is reaped at once, not a zombie until the next look an
# hour later.  (Without
# udevd, as in the plain mode and an initramfs, it looks every
# --interval seconds: the other monitor tests.)
# modes: udev
. /tests/lib.sh
on_exit 'kill ${mon:-} 2>/dev/null; losetup -D; remove_all; rm -f /tmp/hook'

wipe /dev/vdc
f=/tmp/ev.prom
rosnap monitor --interval 3600 --metrics $f 2>/tmp/mon.log &
mon=$!
wait_line /tmp/mon.log "watching every rosnap device" "start"
n=0
until [ -e $f ]; do
	n=$((n + 1))
	[ $n -lt 300 ] || fail "no first round: $(cat /tmp/mon.log)"
	sleep 0.2
done

step "another device's events: no round"
before=$(stat -c %i $f)
modprobe loop
truncate -s 16M /tmp/loop.img
loop=$(losetup -f --show /tmp/loop.img) || fail "losetup"
udevadm settle
losetup -d "$loop"
udevadm settle
# The monitor reads the events after udev handled them: give it a moment.
# (A wait for nothing to happen: too short, the check misses a wrong
# round, it never fails a right monitor.)
sleep 2
assert_eq "$(stat -c %i $f)" "$before" "the metrics after a loop device's events"

step "a device made after the monitor started"
rosnap create /dev/vdc --name ev --ram 16M >/dev/null || fail "create"
wait_line $f 'rosnap_cow_capacity_bytes{name="ev"}' "device ev in the metrics"

step "and removed"
rosnap remove ev || fail "remove"
wait_line /tmp/mon.log "ev is gone" "report"
kill $mon
wait $mon || fail "the monitor exited $? on SIGTERM"
mon=

step "a hook that ended is reaped at once"
# Before: it stayed a zombie until the monitor woke, an hour later.
rosnap create /dev/vdc --name hk --ram 16M >/dev/null || fail "create hk"
dd if=/dev/urandom of=/dev/mapper/hk bs=1M count=4 conv=fsync 2>/dev/null
cat >/tmp/hook <<'HOOK'
#!/bin/sh
echo $$ >/tmp/hook.pid
HOOK
chmod +x /tmp/hook
rm -f /tmp/hook.pid
rosnap monitor --interval 3600 --warn 1 --exec /tmp/hook hk 2>/tmp/mon.log &
mon=$!
n=0
until [ -s /tmp/hook.pid ]; do
	n=$((n + 1))
	[ $n -lt 300 ] || fail "the hook did not run: $(cat /tmp/mon.log)"
	sleep 0.2
done
hook=$(cat /tmp/hook.pid)
# A zombie keeps its /proc entry: gone once it is reaped.
n=0
while [ -e /proc/$hook ]; do
	n=$((n + 1))
	[ $n -lt 300 ] || fail "the hook ($hook) is not reaped: $(cat /proc/$hook/stat)"
	sleep 0.2
done
kill $mon
wait $mon || fail "the monitor exited $? on SIGTERM"
mon=
