#!/bin/sh
# The monitor's settings: boot.conf's defaults and the options over them,
# --once, --min-free, a --config that is missing, devices that appear and
# go while it runs, and --grow-max as a cap (the last step only up to it,
# then a note, once).
# modes: plain
. /tests/lib.sh
on_exit 'kill $mon 2>/dev/null; remove_all'

wipe /dev/vdc
wipe /dev/vdd
rosnap create /dev/vdc --name mo --ram 16M --backend zram >/dev/null || fail "create mo"
# Half the store.
dd if=/dev/urandom of=/dev/mapper/mo bs=1M count=8 conv=fsync 2>/dev/null
# The monitor's whole percent.
pct=$(json_value mo cow_used_percent)
pct=${pct%%.*}
[ "$pct" -ge 45 ] && [ "$pct" -le 60 ] || fail "mo is $pct% full, want about 50%"

cat >/tmp/hook <<'HOOK'
#!/bin/sh
echo "$ROSNAP_LEVEL $ROSNAP_PREVIOUS_LEVEL ${ROSNAP_NAME:-memory} ${ROSNAP_COW_USED_PERCENT:-}" >>/tmp/hook.log
HOOK
chmod +x /tmp/hook
# One round; its reports and hook calls.
once() {
	rm -f /tmp/hook.log
	rosnap monitor --once "$@" 2>/tmp/mon.log || {
		cat /tmp/mon.log
		fail "rosnap monitor --once $* exited $?"
	}
}

step "boot.conf's settings are the defaults"
cat >/tmp/mon.conf <<EOF
# as in /etc/rosnap/boot.conf
warn=30
critical=90
exec=/tmp/hook
EOF
once --config /tmp/mon.conf
grep -q "watching every rosnap device: warn at 30%, critical at 90%" /tmp/mon.log ||
	fail "the settings file's thresholds are not used: $(cat /tmp/mon.log)"
grep -q "^rosnap monitor: mo: store $pct% full (warn at 30%)$" /tmp/mon.log ||
	fail "no warn report: $(cat /tmp/mon.log)"
assert_eq "$(cat /tmp/hook.log)" "warn ok mo $pct" "the settings file's hook"

step "options win over it"
once --config /tmp/mon.conf --warn 20 --critical 40
grep -q "^rosnap monitor: mo: store $pct% full (critical at 40%)$" /tmp/mon.log ||
	fail "no critical report at --critical 40: $(cat /tmp/mon.log)"
once --config /tmp/mon.conf --warn 70
grep -q "mo: store" /tmp/mon.log && fail "reported below --warn 70: $(cat /tmp/mon.log)"
[ ! -e /tmp/hook.log ] || fail "hook called below --warn 70: $(cat /tmp/hook.log)"

step "--min-free"
once --min-free 100% --warn 70 --exec /tmp/hook
grep -q "^rosnap monitor: memory low: [0-9]*M available, below the floor of [0-9]*M$" /tmp/mon.log ||
	fail "no memory report at --min-free 100%: $(cat /tmp/mon.log)"
assert_eq "$(cat /tmp/hook.log)" "memory-low memory-ok memory " "the hook at the memory floor"
once --min-free 1M --warn 70 --exec /tmp/hook
grep -q "memory" /tmp/mon.log && fail "memory reported at --min-free 1M: $(cat /tmp/mon.log)"
[ ! -e /tmp/hook.log ] || fail "hook called at --min-free 1M: $(cat /tmp/hook.log)"

step "a --config that is missing"
unchanged expect_fail 2 "rosnap monitor: --config /tmp/no.conf: No such file or directory" \
	rosnap monitor --once --config /tmp/no.conf

step "devices appearing and going while it runs"
monitor_with_hook --warn 30 --critical 90 --interval 1
wait_line /tmp/mon.log "mo: store $pct% full (warn at 30%)" "warn for mo"
rosnap create /dev/vdd --name mn --ram 8M --backend zram >/dev/null || fail "create mn"
dd if=/dev/urandom of=/dev/mapper/mn bs=1M count=4 conv=fsync 2>/dev/null
wait_line /tmp/mon.log "mn: store [0-9]*% full (warn at 30%)" "warn for mn, made after the monitor started"
wait_line /tmp/hook.log "^warn ok mn " "hook call for mn"
rosnap remove mn || fail "remove mn"
wait_line /tmp/mon.log "mn is gone" "the removal of mn"
kill $mon
wait $mon || fail "the monitor exited $? on SIGTERM"

step "--grow-max caps the growth"
# 16M at 50%: the first growth (16M) takes it to 32M, below warn; 8M more
# is warn again, and the next step is only the 8M left below 40M.
rosnap monitor mo --warn 30 --critical 90 --grow-by 16M --grow-max 40M --interval 1 2>/tmp/mon.log &
mon=$!
wait_line /tmp/mon.log "mo: grew its store by 16M to 32M" "the first growth"
dd if=/dev/urandom of=/dev/mapper/mo bs=1M seek=8 count=8 conv=fsync 2>/dev/null
wait_line /tmp/mon.log "mo: grew its store by 8M to 40M" "the last growth, up to --grow-max"
wait_line /tmp/mon.log "mo: not growing its store: it is at --grow-max (40M)" "the cap"
assert_eq "$(json_value mo cow_size_bytes)" $((40 << 20)) "the store's size"
# More rounds at warn, then critical: the cap is still said once.
dd if=/dev/urandom of=/dev/mapper/mo bs=1M seek=16 count=22 conv=fsync 2>/dev/null
wait_line /tmp/mon.log "mo: store [0-9]*% full (critical at 90%)" "critical at the cap"
assert_eq "$(grep -c "at --grow-max" /tmp/mon.log)" 1 "notes of the cap"
kill $mon
wait $mon || fail "the monitor exited $? on SIGTERM"
