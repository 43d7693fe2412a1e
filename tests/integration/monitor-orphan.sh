#!/bin/sh
# A watched device whose snapshot goes away behind rosnap's back is left
# as a store without a device (incomplete): the monitor still runs its
# hook for it, with no ROSNAP_DEVICE (there is none).
# modes: plain udev
. /tests/lib.sh
on_exit 'kill $mon 2>/dev/null; remove_all'

wipe /dev/vdc
rosnap create /dev/vdc --name mo --ram 16M --backend zram >/dev/null || fail "create"
monitor_with_hook mo --warn 30 --critical 90 --interval 1

step "warn"
dd if=/dev/urandom of=/dev/mapper/mo bs=1M count=8 conv=fsync 2>/dev/null
wait_line /tmp/hook.log "^warn ok mo active [0-9]* /dev/mapper/mo$" "hook call"
step "the snapshot goes, its store stays"
dmsetup remove mo || fail "dmsetup remove"
wait_line /tmp/hook.log "^ok warn mo incomplete [0-9]* none$" "hook call"
kill $mon
wait $mon || fail "the monitor exited $? on SIGTERM"
rosnap remove mo || fail "remove the leftover"
blockdev --setrw /dev/vdc
