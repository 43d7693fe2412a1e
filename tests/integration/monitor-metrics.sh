#!/bin/sh
# monitor --metrics FILE: the devices' state in Prometheus' text format,
# as node_exporter's textfile collector reads it.  Every line is a HELP,
# a TYPE (gauge) or a sample of a metric typed before it; the values are
# what status --json says; the state and level follow the device; only
# the devices named are in it; the file is replaced whole, leaving no
# temporary file, kept by a round whose device list fails, and removed
# when the monitor stops; a place it cannot
# be written is reported, and the monitor goes on.
# modes: plain
. /tests/lib.sh
on_exit 'kill ${mon:-} 2>/dev/null; remove_all'

wipe /dev/vdc
wipe /dev/vdd
mkdir -p /tmp/m
rosnap create /dev/vdc --name ma --ram 16M --backend zram >/dev/null || fail "create ma"
rosnap create /dev/vdd --name mb --ram 8M --backend zram >/dev/null || fail "create mb"
dd if=/dev/urandom of=/dev/mapper/ma bs=1M count=4 conv=fsync 2>/dev/null
f=/tmp/m/rosnap.prom

# The value of a sample: metric LABELS ('name="ma"', ...).
value() {
	awk -v want="$1{$2}" '$1 == want { print $2 }' "$f"
}

# The text format: HELP and TYPE before the samples of each metric.
well_formed() {
	awk '
	/^# HELP [a-z_]+ ./ { next }
	/^# TYPE [a-z_]+ gauge$/ { typed[$3] = 1; next }
	/^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [-+0-9.e]+$/ {
		m = $1; sub(/\{.*/, "", m)
		if (!typed[m]) { print "untyped: " $0; bad = 1 }
		next
	}
	{ print "malformed: " $0; bad = 1 }
	END { exit bad }' "$f" || fail "$f is not in the text format"
}

step "one round: the values status gives"
rosnap monitor --once --metrics "$f" 2>/tmp/mon.log || fail "monitor: $(cat /tmp/mon.log)"
cat "$f"
well_formed
for n in ma mb; do
	assert_eq "$(value rosnap_cow_capacity_bytes "name=\"$n\"")" \
		"$(json_value $n cow_size_bytes)" "$n capacity"
	assert_eq "$(value rosnap_cow_used_bytes "name=\"$n\"")" \
		"$(json_value $n cow_used_bytes)" "$n used"
	assert_eq "$(value rosnap_ram_used_bytes "name=\"$n\"")" \
		"$(json_value $n ram_used_bytes)" "$n RAM"
	assert_eq "$(value rosnap_state "name=\"$n\",state=\"active\"")" 1 "$n active"
	assert_eq "$(value rosnap_state "name=\"$n\",state=\"overflow\"")" 0 "$n not overflow"
	assert_eq "$(value rosnap_level "name=\"$n\"")" 0 "$n level"
done
[ -n "$(value rosnap_compression_ratio 'name="ma"')" ] || fail "no ratio for ma"
[ "$(awk '$1 == "rosnap_memory_available_bytes" { print $2 }' "$f")" -gt 0 ] ||
	fail "no memory available"
assert_eq "$(ls /tmp/m)" rosnap.prom "files beside the metrics"

step "the level and state follow the device; only those named"
rosnap monitor --once --warn 1 --critical 2 --metrics "$f" ma 2>/tmp/mon.log ||
	fail "monitor: $(cat /tmp/mon.log)"
well_formed
assert_eq "$(value rosnap_level 'name="ma"')" 2 "ma level"
! grep -q 'name="mb"' "$f" || fail "mb is in the metrics of ma alone"
# More than it holds: the write fails, the store overflows.
dd if=/dev/urandom of=/dev/mapper/mb bs=1M count=9 conv=fsync 2>/dev/null || true
rosnap monitor --once --metrics "$f" mb 2>/tmp/mon.log || fail "monitor: $(cat /tmp/mon.log)"
well_formed
assert_eq "$(value rosnap_state 'name="mb",state="overflow"')" 1 "mb overflow"
assert_eq "$(value rosnap_state 'name="mb",state="active"')" 0 "mb no longer active"
assert_eq "$(value rosnap_level 'name="mb"')" 3 "mb level"

step "a round whose device list fails keeps the last file"
cp "$f" /tmp/before.prom
before=$(stat -c %i "$f")
ROSNAP_TEST_FAIL_AT=list rosnap monitor --once --metrics "$f" 2>/tmp/mon.log || true
cat /tmp/mon.log
grep -q 'injected failure at "list"' /tmp/mon.log || fail "the list did not fail: $(cat /tmp/mon.log)"
assert_eq "$(stat -c %i "$f")" "$before" "the file's inode after a failed round"
cmp -s "$f" /tmp/before.prom || fail "a failed round changed the metrics: $(cat "$f")"

step "a running monitor's failed round forgets no device"
# Before: every device was reported gone, its event waiter killed, and
# with udev's events and nothing left to watch the monitor slept on.
rm -f /tmp/fail-at
ROSNAP_TEST_FAIL_AT_FILE=/tmp/fail-at rosnap monitor --interval 1 --metrics /tmp/m2.prom ma \
	2>/tmp/mon.log &
mon=$!
wait_line /tmp/mon.log "watching ma" "start"
n=0
until grep -q 'name="ma"' /tmp/m2.prom 2>/dev/null; do
	n=$((n + 1))
	[ $n -lt 300 ] || fail "no round of the monitor: $(cat /tmp/mon.log)"
	sleep 0.2
done
echo list >/tmp/fail-at
wait_line /tmp/mon.log 'injected failure at "list"' "failed round"
rm /tmp/fail-at
before=$(stat -c %i /tmp/m2.prom)
n=0
while [ "$(stat -c %i /tmp/m2.prom)" = "$before" ]; do
	n=$((n + 1))
	[ $n -lt 300 ] || fail "no round after the failed one: $(cat /tmp/mon.log)"
	sleep 0.2
done
cat /tmp/mon.log
! grep -q "ma is gone" /tmp/mon.log || fail "a failed round reported ma gone"
kill $mon
wait $mon
mon=
[ ! -e /tmp/m2.prom ] || fail "the metrics outlive the monitor that stopped"

step "replaced whole, never rewritten in place; gone when the monitor stops"
# A reader holding the old file keeps it whole: a new inode each round.
before=$(stat -c %i "$f")
rosnap monitor --interval 1 --metrics "$f" 2>/tmp/mon.log &
mon=$!
n=0
while [ "$(stat -c %i "$f" 2>/dev/null)" = "$before" ]; do
	n=$((n + 1))
	[ $n -lt 300 ] || fail "the monitor never replaced $f"
	sleep 0.2
done
well_formed
kill $mon
wait $mon
[ ! -e "$f" ] || fail "the metrics outlive the monitor that stopped"
assert_eq "$(ls /tmp/m)" "" "files left beside the metrics"

step "a place that cannot be written: reported, the monitor goes on"
rosnap monitor --once --metrics /nonexistent/rosnap.prom 2>/tmp/mon.log ||
	fail "monitor stopped: $(cat /tmp/mon.log)"
grep -q "cannot write the metrics file /nonexistent/rosnap.prom: No such file" /tmp/mon.log ||
	fail "not reported: $(cat /tmp/mon.log)"
expect_fail 2 "--metrics needs an absolute path" rosnap monitor --once --metrics m.prom
