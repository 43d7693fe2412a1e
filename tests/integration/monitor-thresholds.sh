#!/bin/sh
# rosnap monitor reports each threshold crossing once (not once per
# reading), in order, and runs its hook once per crossing with the facts
# in its environment; it reports an overflow, survives a merge and the
# removal of the device under it, and stops cleanly on SIGTERM.
# modes: plain udev
. /tests/lib.sh
trap 'kill $mon 2>/dev/null; remove_all' EXIT

wipe /dev/vdc
rosnap create /dev/vdc --name mt --ram 16M --backend zram >/dev/null || fail "create"
monitor_with_hook mt --warn 40 --critical 70 --interval 1

# Wait until the hook has been called N times.
hooked() { # N SECONDS
	n=0
	while [ "$(grep -c . /tmp/hook.log 2>/dev/null || echo 0)" -lt "$1" ]; do
		n=$((n + 1))
		[ $n -lt $(($2 * 5)) ] || { cat /tmp/mon.log; fail "hook called $(grep -c . /tmp/hook.log 2>/dev/null) times, want $1"; }
		sleep 0.2
	done
}

step "warn"
dd if=/dev/urandom of=/dev/mapper/mt bs=1M count=8 conv=fsync 2>/dev/null
hooked 1 20
sleep 3
step "critical"
dd if=/dev/urandom of=/dev/mapper/mt bs=1M count=4 seek=8 conv=fsync 2>/dev/null
hooked 2 20
sleep 3
step "overflow"
dd if=/dev/urandom of=/dev/mapper/mt bs=1M count=8 seek=12 conv=fsync 2>/dev/null
hooked 3 20
sleep 3
cat /tmp/hook.log
assert_eq "$(sed -n 1p /tmp/hook.log | cut -d' ' -f1-4)" "warn ok mt active" "first crossing"
assert_eq "$(sed -n 2p /tmp/hook.log | cut -d' ' -f1-4)" "critical warn mt active" "second crossing"
assert_eq "$(sed -n 3p /tmp/hook.log | cut -d' ' -f1-4)" "overflow critical mt overflow" "third crossing"
assert_eq "$(grep -c . /tmp/hook.log)" 3 "one call per crossing"
grep -q "mt: store full (overflow)" /tmp/mon.log || fail "no overflow report: $(cat /tmp/mon.log)"

step "a merge under the monitor"
rosnap merge mt 2>/dev/null || fail "merge of the overflowed store"
hooked 4 20
assert_eq "$(sed -n 4p /tmp/hook.log | cut -d' ' -f1-2)" "ok overflow" "back to ok"
step "removal under the monitor"
rosnap remove mt || fail "remove"
sleep 3
kill -0 $mon || fail "the monitor died with its device"
grep -q "mt is gone" /tmp/mon.log || fail "no report of the removal"
kill -TERM $mon
wait $mon
rc=$?
assert_eq "$rc" 0 "exit status on SIGTERM"
grep -q "stopping" /tmp/mon.log || fail "no clean stop"
cat /tmp/mon.log
