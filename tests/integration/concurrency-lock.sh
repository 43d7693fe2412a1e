#!/bin/sh
# The lock, proven to matter: a create paused inside its critical section
# (its checks done, nothing made yet: the test build's pause point
# create:checked) makes a second create of the same name wait for it; the
# second then fails cleanly (exit 4, the name is taken), and the one
# device is the first one's.  The same scenario with the lock disabled
# (ROSNAP_TEST_NO_LOCK=1, test build) must not pass: the second create
# goes ahead, so this test would notice a missing lock.  Two CPUs, so the
# two commands really run at once.
# modes: plain
# cpus: 2
. /tests/lib.sh
on_exit 'rm -f /run/pause; remove_all'
[ "${ROSNAP_TEST_SAN:-0}" = 1 ] || skip "needs the test build with its pause points (build-san)"

mkfs_on /dev/vdc ext4 -b 4096
mkfs_on /dev/vdd ext4 -b 4096

# Sets $verdict: "ok", or what went wrong.
scenario() {
	start_paused create:checked rosnap create /dev/vdc --name same --ram 16M
	first=$paused_pid
	rosnap create /dev/vdd --name same --ram 16M >/dev/null 2>/tmp/err2 &
	second=$!
	# The second either waits for the lock (and says so) or ends.
	n=0
	until grep -q "waiting for another rosnap command" /tmp/err2 ||
		! kill -0 $second 2>/dev/null; do
		n=$((n + 1))
		[ $n -lt 1200 ] || fail "the second create neither waited nor ended in 120 s"
		sleep 0.1
	done
	waited=no
	grep -q "waiting for another rosnap command" /tmp/err2 && waited=yes
	rm -f /run/pause
	rc1=0
	wait $first || rc1=$?
	rc2=0
	wait $second || rc2=$?
	origin=$(json_value same origin)
	verdict=ok
	if [ $waited = no ]; then
		verdict="the second create did not wait for the first (exit $rc2)"
	elif [ $rc1 != 0 ]; then
		verdict="the first create exited $rc1: $(cat /tmp/err)"
	elif [ $rc2 != 4 ]; then
		verdict="the second create exited $rc2, want 4: $(cat /tmp/err2)"
	elif ! grep -q "a device named same already exists" /tmp/err2; then
		verdict="the second create said: $(cat /tmp/err2)"
	elif [ "$origin" != /dev/vdc ]; then
		verdict="the device's origin is '$origin', want /dev/vdc"
	elif [ "$(blockdev --getro /dev/vdd)" != 0 ]; then
		verdict="the second create left /dev/vdd read-only"
	fi
	remove_all
	blockdev --setrw /dev/vdc /dev/vdd
}

step "with the lock"
scenario
[ "$verdict" = ok ] || fail "$verdict"

step "without the lock (ROSNAP_TEST_NO_LOCK=1): the check must fail"
export ROSNAP_TEST_NO_LOCK=1
scenario
unset ROSNAP_TEST_NO_LOCK
echo "without the lock: $verdict"
[ "$verdict" != ok ] || fail "with the lock disabled the scenario still passed: it cannot tell"
