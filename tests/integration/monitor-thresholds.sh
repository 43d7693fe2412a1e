#!/bin/sh
# rosnap monitor reports each threshold crossing once (not once per
# reading), in order, and runs its hook once per crossing with the facts
# in its environment; it reports an overflow, survives a merge and the
# removal of the device under it, and stops cleanly on SIGTERM.
# modes: plain udev-all
. /tests/lib.sh
on_exit 'kill $mon 2>/dev/null; remove_all'

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

# No sleeps between the steps: a crossing reported twice shows up in the
# whole run's log, checked once the device is gone (the monitor's rounds
# keep coming while the later steps run, at one a second).
step "warn"
dd if=/dev/urandom of=/dev/mapper/mt bs=1M count=8 conv=fsync 2>/dev/null
hooked 1 20
step "critical"
dd if=/dev/urandom of=/dev/mapper/mt bs=1M count=4 seek=8 conv=fsync 2>/dev/null
hooked 2 20
step "overflow"
# Past the store: the writes that do not fit fail (EIO), the overflow.
dd if=/dev/urandom of=/dev/mapper/mt bs=1M count=8 seek=12 conv=fsync 2>/dev/null || true
hooked 3 20
wait_line /tmp/mon.log "mt: store full (overflow)" "the overflow"

step "a merge under the monitor"
rosnap merge mt 2>/dev/null || fail "merge of the overflowed store"
hooked 4 20
step "removal under the monitor"
rosnap remove mt || fail "remove"
# The round that finds the device gone comes after the one that reported
# "ok": any report repeated by a later reading is in the log by then.
wait_line /tmp/mon.log "mt is gone" "the removal"
kill -0 $mon || fail "the monitor died with its device"
cat /tmp/hook.log
# LEVEL PREVIOUS NAME STATE; back to ok, the state may be either.
sed 's/^\(ok overflow mt\) \(active\|merging\) .*/\1 active-or-merging/' /tmp/hook.log |
	cut -d' ' -f1-4 >/tmp/hook.levels
printf '%s\n' "warn ok mt active" "critical warn mt active" "overflow critical mt overflow" \
	"ok overflow mt active-or-merging" >/tmp/hook.want
diff /tmp/hook.want /tmp/hook.levels || fail "the hook's calls in the whole run: one per crossing, in order"
kill -TERM $mon
rc=0
wait $mon || rc=$?
assert_eq "$rc" 0 "exit status on SIGTERM"
grep -q "stopping" /tmp/mon.log || fail "no clean stop"
cat /tmp/mon.log
