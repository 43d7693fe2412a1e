#!/bin/sh
# A create killed (SIGKILL) at any step is undone by the next command: no
# store layer, no RAM device, no record left, the origin's read-only flag
# as it was, and the same create then works.  Uses the test build's pause
# points: after the checks (nothing made yet), after the RAM device is
# made (in no table yet), after the store's layer, after the origin is
# made read-only; with an encrypted store on disk, after its crypt device
# is made (in no layer yet) too.
# modes: plain
# cost: 16
. /tests/lib.sh
on_exit 'rm -f /run/pause; remove_all'
[ "${ROSNAP_TEST_SAN:-0}" = 1 ] || skip "needs the test build with its pause points (build-san)"

wipe /dev/vdc
blockdev --setrw /dev/vdc
for backend in zram brd; do
	for point in create:checked store:made create:store create:protected; do
		step "$backend, killed at $point"
		start_paused $point rosnap create /dev/vdc --name kc --ram 16M --backend $backend
		kill -9 $paused_pid
		wait $paused_pid 2>/dev/null || true  # killed: 137
		rm -f /run/pause
		rosnap list >/dev/null 2>/tmp/tidy || fail "list: $(cat /tmp/tidy)"
		cat /tmp/tidy
		case $point in
		create:checked)
			[ ! -s /tmp/tidy ] || fail "nothing to undo, yet: $(cat /tmp/tidy)" ;;
		store:made)
			grep -q "freed \(zram\|ram\)[0-9]*, made by a killed rosnap command" /tmp/tidy ||
				fail "the RAM device was not said to be freed" ;;
		*)
			grep -q "undid the creation of kc, which a killed rosnap command had begun" /tmp/tidy ||
				fail "the create was not said to be undone" ;;
		esac
		if [ "$point" = create:protected ]; then
			grep -q "made /dev/vdc writable again" /tmp/tidy ||
				fail "the origin was not said to be made writable again"
		else
			grep -q "writable" /tmp/tidy && fail "the origin was never read-only"
		fi
		assert_eq "$(dmsetup ls | grep -c '^kc')" 0 "kc's device-mapper devices left"
		assert_eq "$(ls /run/rosnap | grep -c '^create-\|^new-')" 0 "records left"
		assert_eq "$(ls /sys/block | grep '^zram' | grep -vc '^zram0$')" 0 "zram devices left"
		assert_eq "$(blockdev --getro /dev/vdc)" 0 "the origin's read-only flag"
		rosnap create /dev/vdc --name kc --ram 16M --backend $backend >/dev/null ||
			fail "the same create afterwards"
		rosnap remove kc || fail "remove"
	done
done

for point in store:crypt create:store create:protected; do
	step "encrypted store on disk, killed at $point"
	start_paused $point rosnap create /dev/vdc --name kc --store /dev/vdd --overwrite --encrypt
	kill -9 $paused_pid
	wait $paused_pid 2>/dev/null || true
	rm -f /run/pause
	rosnap list >/dev/null 2>/tmp/tidy || fail "list: $(cat /tmp/tidy)"
	cat /tmp/tidy
	grep -q "undid the creation of kc, which a killed rosnap command had begun" /tmp/tidy ||
		fail "the create was not said to be undone"
	assert_eq "$(dmsetup ls | grep -c '^kc')" 0 "kc's device-mapper devices left (the crypt device too)"
	assert_eq "$(ls /run/rosnap | grep -c '^create-\|^new-\|^crypt-')" 0 "records left"
	assert_eq "$(blockdev --getro /dev/vdc)" 0 "the origin's read-only flag"
	rosnap create /dev/vdc --name kc --store /dev/vdd --overwrite --encrypt >/dev/null ||
		fail "the same create afterwards"
	rosnap remove kc || fail "remove"
done
