#!/bin/sh
# Signals while a device is suspended: a rosnap command interrupted at any
# step of any table change (merge start and end, protect, grow, discard)
# must never leave a device suspended.  SIGINT, SIGTERM and SIGHUP wait
# until the change is whole; after SIGKILL, which cannot wait, the next
# command (here "rosnap list") resumes what was left and tidies up.  After
# each: nothing suspended, the mounted filesystem writable, the device in
# its old or its new state, the origin written only by a merge.  Uses the
# test build's pause points (ROSNAP_TEST_PAUSE_AT).
# make check runs a sample: one signal per step of each verb, in turn, so
# that each signal meets the suspended step of some verb (15 cases).
# make signals (ROSNAP_TEST_EXHAUSTIVE=1) tries every signal at every step
# of every verb (60 cases).
# modes: plain
# cost: 182
# timeout: 900
# timeout-exhaustive: 3600
. /tests/lib.sh
on_exit 'rm -f /run/pause; dmsetup resume sig 2>/dev/null; remove_all'
[ "${ROSNAP_TEST_SAN:-0}" = 1 ] || skip "needs the test build with its pause points (build-san)"

mkfs_on /dev/vdc ext4 -b 4096
mkdir -p /mnt/s

# A fresh device for each case, in the state the verb starts from.
setup() { # VERB
	rosnap create /dev/vdc --name sig --ram 32M >/dev/null || fail "create"
	[ "$1" = discard ] && return
	mount /dev/mapper/sig /mnt/s || fail "mount"
	dd if=/dev/urandom of=/mnt/s/data bs=1M count=2 conv=fsync 2>/dev/null || fail "write"
	if [ "$1" = protect ]; then
		rosnap merge sig --unprotect 2>/dev/null || fail "merge --unprotect"
	fi
}

teardown() {
	umount /mnt/s 2>/dev/null || true  # discard: never mounted
	st=$(json_value sig state)
	case $st in
	merging) rosnap merge sig 2>/dev/null || fail "the merge left running did not finish" ;;
	esac
	rosnap remove sig || fail "remove after the case"
	blockdev --setrw /dev/vdc
}

command_for() { # VERB
	case $1 in
	merge-start | merge-finish) echo "rosnap merge sig" ;;
	protect) echo "rosnap protect sig --ram 32M" ;;
	grow) echo "rosnap grow sig --by 4M" ;;
	discard) echo "rosnap discard sig" ;;
	esac
}

# States the device may be in after the case: old or new.
states_for() { # VERB
	case $1 in
	merge-start) echo "active merging" ;;
	merge-finish) echo "active" ;;
	protect) echo "unprotected active" ;;
	grow | discard) echo "active" ;;
	esac
}

nothing_suspended() {
	s=$(dmsetup info 2>/dev/null | awk '/^Name:/ { n = $2 } /^State:/ && $2 == "SUSPENDED" { print n }')
	if [ -n "$s" ]; then
		for d in $s; do dmsetup resume "$d"; done
		fail "$*: left suspended: $s"
	fi
}

cases=0
one_case() { # VERB STEP SIGNAL
	verb=$1 step=$2 sig=$3
	cases=$((cases + 1))
	echo "-- $verb:$step SIG$sig"
	setup "$verb"
	origin_before=$(sum_of /dev/vdc)
	# shellcheck disable=SC2046
	signal_at_pause "$verb:$step" "$sig" $(command_for "$verb")
	# The signal took effect, once the change was whole (or at once: KILL).
	case $sig in HUP) n=1 ;; INT) n=2 ;; KILL) n=9 ;; TERM) n=15 ;; esac
	assert_eq "$rc" "$((128 + n))" "$verb:$step SIG$sig: exit status"
	if [ "$sig" != KILL ]; then
		# Before any other rosnap command, which would repair it: the
		# change was made whole while the signal waited.
		nothing_suspended "$verb:$step SIG$sig, before any repair"
		[ ! -e /run/rosnap/transition ] ||
			fail "$verb:$step SIG$sig: a transition was left half done"
	fi
	# The next command repairs what SIGKILL left.
	rosnap list >/dev/null 2>/tmp/list.err || fail "list after the case: $(cat /tmp/list.err)"
	nothing_suspended "$verb:$step SIG$sig"
	st=$(json_value sig state)
	case " $(states_for "$verb") " in
	*" $st "*) ;;
	*) fail "$verb:$step SIG$sig: state '$st', want one of: $(states_for "$verb")" ;;
	esac
	if [ "$sig" != KILL ] && [ "$step" = suspended ]; then
		# A deferred signal lets the change finish.
		want=$(states_for "$verb" | awk '{ print $NF }')
		[ "$verb" = merge-start ] && [ "$st" = active ] && want=active
		assert_eq "$st" "$want" "$verb:$step SIG$sig: state"
	fi
	if [ "$verb" != discard ]; then
		echo probe >/mnt/s/probe && sync -f /mnt/s/probe ||
			fail "$verb:$step SIG$sig: the filesystem is not writable"
	fi
	if [ "$st" = active ]; then
		assert_eq "$(blockdev --getro /dev/vdc)" 1 "$verb:$step SIG$sig: origin read-only"
		layers=$(dmsetup ls | awk '{ print $1 }' | grep '^sig-' | tr '\n' ' ')
		assert_eq "$layers" "sig-cow " "$verb:$step SIG$sig: layers"
	fi
	case $verb in
	grow | discard)
		assert_eq "$(sum_of /dev/vdc)" "$origin_before" "$verb:$step SIG$sig: the origin" ;;
	esac
	teardown
}

signals="INT TERM HUP KILL"
set -- $signals
for verb in merge-start merge-finish protect grow discard; do
	step "$verb"
	for pstep in loaded suspended resumed; do
		if [ "${ROSNAP_TEST_EXHAUSTIVE:-0}" = 1 ]; then
			for sig in $signals; do one_case $verb $pstep $sig; done
		else
			one_case $verb $pstep "$1"
			shift
			[ $# -gt 0 ] || set -- $signals
		fi
	done
done
step "$cases cases"
