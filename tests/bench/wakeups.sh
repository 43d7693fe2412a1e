#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# How often an idle "rosnap monitor" wakes up, in the test VM with
# systemd-udevd (make bench runs it after bench.sh): its context switches
# and its waiter processes', over a minute, with no rosnap device (udev's
# events would wake it; nothing else should) and with one device left
# alone (the store's use is read every --interval seconds, 2 by default).
# Prints "BENCH <key> 0 <value>" lines (measured once, not in rounds).
# modes: udev
# timeout: 600
. /tests/lib.sh
set +eu
on_exit 'kill $mon 2>/dev/null; remove_all'

out() {
	echo "BENCH $1 0 $2"
}

# Context switches of the monitor and its children, voluntary or not.
switches() {
	for p in $mon $(pids_children $mon); do
		awk '/ctxt_switches/ { n += $2 } END { print n + 0 }' "/proc/$p/status" 2>/dev/null
	done | awk '{ n += $1 } END { print n + 0 }'
}
pids_children() {
	cat "/proc/$1/task/$1/children" 2>/dev/null
}
per_minute() { # WHAT
	a=$(switches)
	sleep 60
	b=$(switches)
	out "$1" $((b - a))
}

wipe /dev/vdc
rosnap monitor 2>/tmp/mon.log &
mon=$!
wait_line /tmp/mon.log "watching every rosnap device" "start"
sleep 5
per_minute monitor_idle_wakeups_per_min.none
rosnap create /dev/vdc --name wk --ram 64M >/dev/null
sleep 5
per_minute monitor_idle_wakeups_per_min.one_device
kill $mon
