# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the integration tests, sourced inside the test guest.
#
# Disks: /dev/vda (512M), /dev/vdb and /dev/vdc (256M), /dev/vdd (64M), blank
# at boot; tests that run in the same guest share them, so a test makes
# the filesystems it needs.  A test exits 0 to pass, 77 to skip (after
# printing "SKIP: reason"), anything else to fail, and must leave no
# device, mount or read-only flag behind (the guest checks).
#
# A command that fails stops the test (set -e), so that no step goes on
# from a failed setup: a failure a test expects goes through expect_fail,
# an if, or an explicit "|| true".  Cleanup at exit (on_exit) runs whole.
set -eu

# Run COMMANDS (one string) when the test exits, however it exits, each
# whatever the one before did.
on_exit() {
	trap "set +e; $1" EXIT
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

step() {
	echo "== $*"
}

assert_eq() { # GOT WANT WHAT
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

# Run a command that must fail with exit status WANT and a message
# matching PATTERN (grep -E) on stderr.
expect_fail() { # WANT PATTERN CMD...
	want=$1 pattern=$2
	shift 2
	rc=0
	"$@" >/tmp/out 2>/tmp/err || rc=$?
	cat /tmp/err
	[ $rc -eq "$want" ] || fail "'$*' exited $rc, want $want"
	grep -Eq -- "$pattern" /tmp/err || fail "'$*' said '$(cat /tmp/err)', want /$pattern/"
}

# Zero the start and end of a disk so nothing of an earlier test shows.
wipe() {
	dd if=/dev/zero of="$1" bs=1M count=4 conv=fsync 2>/dev/null
	wipefs -a -q "$1"
}

# A checksum for equality checks (md5: the fastest under emulation).  A
# block device's cached pages are dropped first: what the kernel wrote
# below them (a merge into the origin) must be what is read.
sum_of() {
	[ ! -b "$1" ] || blockdev --flushbufs "$1"
	md5sum "$1" | cut -d' ' -f1
}

# The kernel objects rosnap makes, for "nothing changed" checks; the
# guest's init compares it before and after every test.  Loading a module
# is not a change (loop0-7 and zram0 come with theirs).
kernel_state() {
	# Shell builtins only, no cat: bad-input runs this twice per case,
	# and every process costs under emulation.  Its variables are ks_*:
	# a function's variables are the caller's too.
	for d in /sys/block/dm-*; do
		[ -e "$d/dm/name" ] || continue
		read -r ks_name <"$d/dm/name" || ks_name=
		read -r ks_uuid <"$d/dm/uuid" || ks_uuid=
		echo "dm device: $ks_name $ks_uuid"
	done
	for z in /sys/block/zram*; do
		[ -e "$z" ] || continue
		read -r ks_size <"$z/disksize" || ks_size=
		if [ "${z##*/}" != zram0 ] || [ "$ks_size" != 0 ]; then
			echo "zram device: ${z##*/} disksize $ks_size"
		fi
	done
	for l in /sys/block/loop*; do
		[ -e "$l/loop/backing_file" ] || continue
		read -r ks_file <"$l/loop/backing_file" || ks_file=
		echo "loop device: ${l##*/} $ks_file"
	done
	for r in /sys/block/ram*; do
		[ -e "$r" ] && echo "brd device: ${r##*/}"
	done
	for b in /sys/block/vd*/ro /sys/block/vd*/vd*/ro; do
		[ -e "$b" ] || continue
		read -r ks_ro <"$b" || ks_ro=
		[ "$ks_ro" = 0 ] || echo "read-only: $b"
	done
	while read -r ks_dev ks_mnt ks_rest; do
		case $ks_mnt in /proc | /sys* | /dev* | /run | /tmp) continue ;; esac
		case "$ks_dev $ks_mnt" in "rootfs "* | "none /") continue ;; esac
		echo "mounted: $ks_dev $ks_mnt $ks_rest"
	done </proc/mounts
	return 0
}

# A snapshot the kernel invalidated: its store fails writes for a moment,
# as a failing device would.  make_invalid NAME ORIGIN
make_invalid() {
	rosnap create "$2" --name "$1" --ram 16M >/dev/null || fail "create $1"
	table=$(dmsetup table "$1-cow")
	dmsetup suspend "$1-cow"
	dmsetup reload "$1-cow" --table "0 $(blockdev --getsz "/dev/mapper/$1-cow") error"
	dmsetup resume "$1-cow"
	# Fails (EIO): the store is an error target now.
	dd if=/dev/urandom of="/dev/mapper/$1" bs=4k count=4 seek=100 conv=fsync 2>/dev/null || true
	dmsetup suspend "$1-cow"
	dmsetup reload "$1-cow" --table "$table"
	dmsetup resume "$1-cow"
	[ "$(json_value "$1" state)" = invalid ] || fail "$1 is not invalid"
}

# Remove every rosnap device, for a test's exit trap.
remove_all() {
	grep -o ' /mnt[^ ]*' /proc/mounts | sort -r | while read -r m; do umount "$m"; done
	for n in $(rosnap list --json 2>/dev/null | sed -n 's/.*"name": *"\([^"]*\)".*/\1/p'); do
		rosnap remove "$n"
	done
}

# A value from "rosnap status NAME --json" (one device): json_value NAME KEY
# (smartcols prints one key per line; the guest has no jq).
json_value() {
	rosnap status "$1" --json | json_key "$2"
}

# A value from JSON already read: echo "$json" | json_key KEY
json_key() {
	sed -n "s/^ *\"$1\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p"
}

# Make a filesystem on a wiped disk: mkfs_on DISK TYPE [MKFS-OPTIONS...]
mkfs_on() {
	disk=$1 type=$2
	shift 2
	wipe "$disk"
	case $type in
	ext4) mkfs.ext4 -q -F "$@" "$disk" ;;
	xfs) mkfs.xfs -q -f "$@" "$disk" ;;
	vfat) mkfs.vfat "$@" "$disk" >/dev/null ;;
	*) fail "mkfs_on: unknown type $type" ;;
	esac || fail "mkfs.$type on $disk failed"
}

# Check that a command changed nothing in the kernel: unchanged CMD...
unchanged() {
	kernel_state >/tmp/state.before
	"$@"
	kernel_state >/tmp/state.after
	cmp -s /tmp/state.before /tmp/state.after || {
		diff /tmp/state.before /tmp/state.after
		fail "'$*' changed the kernel's state"
	}
}

# The kernel's allocation for a rosnap device, in bytes (from dmsetup,
# independently of rosnap): cow_allocated NAME
cow_allocated() {
	dmsetup status "$1" | awk '{ split($4, a, "/"); print a[1] * 512 }'
}

# Hold /dev/mapper/NAME open from a background process until release_hold;
# returns once that process has it open (its pid in $holder).
hold_open() { # NAME
	dev=$(readlink -f "/dev/mapper/$1")
	sleep 1000 <"$dev" &
	holder=$!
	n=0
	until [ "$(readlink "/proc/$holder/fd/0" 2>/dev/null)" = "$dev" ]; do
		n=$((n + 1))
		[ $n -lt 500 ] || fail "the holder of $1 never opened it"
		sleep 0.05
	done
}

release_hold() {
	kill $holder
	wait $holder 2>/dev/null || true  # killed: 143
}

# Append to FILE until STOPFILE exists, one numbered line at a time, each
# synced: a writer that keeps going through a merge.  It stops at its
# first failed write or sync, with exit status 1: "wait" on it must be
# checked ("writes during the merge are kept" means they did not fail).
writer() { # FILE STOPFILE
	i=0
	while [ ! -e "$2" ]; do
		i=$((i + 1))
		echo "line $i $(date +%s)" >>"$1" || return 1
		[ $((i % 10)) -ne 0 ] || sync "$1" || return 1
	done
	sync "$1"
}

# Wait until the writer (pid PID) has written 20 lines into FILE, so that
# what follows happens under a writer: wait_written FILE PID
wait_written() {
	until [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge 20 ]; do
		kill -0 "$2" 2>/dev/null || fail "the writer of $1 stopped"
		sleep 0.1
	done
}

# Checksums of every file under DIR, sorted, for comparing trees.
tree_sums() {
	(cd "$1" && find . -type f ! -name lost+found -exec md5sum {} + | sort -k2)
}

# Wait until a device reaches STATE (a background merge finishing).
wait_state() { # NAME STATE [SECONDS]
	n=0
	while [ "$(json_value "$1" state)" != "$2" ]; do
		n=$((n + 1))
		[ $n -le $((${3:-120} * 5)) ] || fail "$1 did not reach state $2 (is $(json_value "$1" state))"
		sleep 0.2
	done
}

# Cut the power: reset at once, without syncing anything.  A test with a
# "# boots: N" line is then booted again on the same disks, with
# ROSNAP_TEST_BOOT one higher.
powercut() {
	echo "powercut $TEST_NAME" >/dev/ttyS1
	# echo returns once the line is in the tty's buffer; the reset would
	# lose what the serial port has not sent yet (a boot test's marker was
	# lost this way in CI).  Setting the port's own mode again waits until
	# all of it is sent: stty applies settings with TCSADRAIN.
	stty -F /dev/ttyS1 "$(stty -F /dev/ttyS1 -g)" ||
		fail "cannot drain the results port before the power cut"
	echo 1 >/proc/sys/kernel/sysrq
	echo b >/proc/sysrq-trigger
	sleep 60
	fail "still running after the power cut"
}

# The pids of the processes whose command line is ARGS (as one string,
# arguments separated by spaces): pids_of ARGS
pids_of() {
	for p in /proc/[0-9]*; do
		[ "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" = "$1 " ] && echo "${p#/proc/}"
	done
	return 0
}

# Write COUNT 4K chunks, each apart from the next (every other chunk from
# the start): the kernel merges them one at a time, so on a slow disk a
# merge of them lasts.  scattered_writes DEVICE COUNT
scattered_writes() {
	i=0
	while [ $i -lt "$2" ]; do
		dd if=/dev/urandom of="$1" bs=4K seek=$((i * 2)) count=1 2>/dev/null ||
			fail "writing chunk $i of $1"
		i=$((i + 1))
	done
	sync
}

# A disk whose writes each take MS milliseconds (dm-delay): a merge into
# it lasts long enough to act on while it runs, whatever the machine's
# speed.  Make its filesystem on DISK first.  slow_disk DISK NAME MS
slow_disk() {
	modprobe dm-delay || fail "no dm-delay"
	dmsetup create "$2" --table "0 $(blockdev --getsz "$1") delay $1 0 0 $1 0 $3" ||
		fail "dmsetup create $2"
	# Without udev, dmsetup leaves /dev/mapper to udev: make the node.
	dmsetup mknodes "$2"
}

# The slow disk NAME made fast (a plain linear map of its disk), for a
# test done with the merge on it that must only wait for its end.
fast_disk() { # NAME
	set -- "$1" "$(dmsetup table "$1" | awk '{ print $4; exit }')"
	dm_swap_table "$1" "0 $(blockdev --getsz "/dev/mapper/$1") linear $2 0"
}

# Start "rosnap monitor ARGS..." with a hook that logs each call to
# /tmp/hook.log as "LEVEL PREVIOUS NAME STATE PERCENT DEVICE" (DEVICE
# "none" when unset); its log in /tmp/mon.log, its pid in $mon.
# Wait until FILE has a line matching PATTERN (a monitor's report in
# /tmp/mon.log, a hook call in /tmp/hook.log): wait_line FILE PATTERN WHAT
wait_line() {
	n=0
	until grep -q -- "$2" "$1" 2>/dev/null; do
		n=$((n + 1))
		[ $n -lt 300 ] || fail "no $3 in $1 after 60 s: $(cat "$1" 2>/dev/null)"
		sleep 0.2
	done
}

monitor_with_hook() { # ARGS...
	cat >/tmp/hook <<'HOOK'
#!/bin/sh
echo "$ROSNAP_LEVEL $ROSNAP_PREVIOUS_LEVEL $ROSNAP_NAME $ROSNAP_STATE $ROSNAP_COW_USED_PERCENT ${ROSNAP_DEVICE-none}" >>/tmp/hook.log
HOOK
	chmod +x /tmp/hook
	rm -f /tmp/hook.log
	rosnap monitor "$@" --exec /tmp/hook 2>/tmp/mon.log &
	mon=$!
}

# Change a dm device's table live: dm_swap_table DEVICE TABLE
dm_swap_table() {
	dmsetup suspend "$1" && dmsetup reload "$1" --table "$2" && dmsetup resume "$1" ||
		fail "reload $1 to '$2'"
}

# DISK filled with random data behind dm device NAME (linear), whose
# table tests change to inject faults; sets sectors, half and linear.
faulty_origin() { # DISK NAME
	sectors=$(blockdev --getsz "$1")
	half=$((sectors / 2))
	linear="0 $sectors linear $1 0"
	wipe "$1"
	dd if=/dev/urandom of="$1" bs=1M count=64 conv=fsync 2>/dev/null
	dmsetup create "$2" --table "$linear" || fail "dmsetup create $2"
	dmsetup mknodes "$2"
}

# Run CMD... in the foreground (a background command would ignore SIGINT:
# no job control), paused at WHAT:STEP by the test build's hook; a watcher
# sends it SIG there and lets it go on.  Its exit status is in $rc, its
# output in /tmp/out and /tmp/err.  signal_at_pause WHAT:STEP SIG CMD...
signal_at_pause() {
	point=$1 sig=$2
	shift 2
	rm -f /run/pause /tmp/done
	(
		until [ -s /run/pause ] || [ -e /tmp/done ]; do sleep 0.1; done
		[ -s /run/pause ] || exit 1
		kill -s "$sig" "$(cat /run/pause)"
		rm -f /run/pause
	) &
	watcher=$!
	rc=0
	ROSNAP_TEST_PAUSE_AT=$point ROSNAP_TEST_PAUSE_FILE=/run/pause "$@" \
		>/tmp/out 2>/tmp/err || rc=$?
	touch /tmp/done
	if ! wait $watcher; then
		cat /tmp/err
		fail "'$*' never paused at $point"
	fi
}

# Start CMD... in the background, paused at WHAT:STEP by the test build's
# hook; return once it waits there, its pid in $paused_pid.  Removing
# /run/pause lets it go on.
start_paused() { # WHAT:STEP CMD...
	point=$1
	shift
	rm -f /run/pause
	ROSNAP_TEST_PAUSE_AT=$point ROSNAP_TEST_PAUSE_FILE=/run/pause "$@" 2>/tmp/err &
	paused_pid=$!
	n=0
	until [ -s /run/pause ]; do
		kill -0 $paused_pid 2>/dev/null || fail "'$*' never paused at $point: $(cat /tmp/err)"
		n=$((n + 1))
		[ $n -lt 1500 ] || fail "'$*': no pause at $point in 300 s"
		sleep 0.2
	done
}
