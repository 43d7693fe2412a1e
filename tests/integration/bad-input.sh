#!/bin/sh
# Bad input to every verb and to the boot settings, from the table in
# bad-input.table: each case gives the documented exit status, a message
# naming the problem, and leaves the kernel exactly as before.  Every
# case runs; the failures are listed together.
# modes: plain udev
# cost: 90
# timeout: 900
. /tests/lib.sh
on_exit 'leave; remove_all; umount /mnt/m /mnt/p1 2>/dev/null; dmsetup remove slowvda 2>/dev/null'

mkfs_on /dev/vdc ext4 -b 4096
mkfs_on /dev/vdd ext4 -b 4096
mkdir -p /mnt/m /mnt/p1
echo "not a disk image" >/tmp/text
truncate -s 1000 /tmp/odd
truncate -s 4M /tmp/blank
truncate -s 8192 /tmp/zeros
: >/tmp/zeros0
mkdir -p /tmp/dir
rosnap create /dev/vdd --name taken --ram 48M >/dev/null || fail "create taken"

# Words the table cannot hold.
long=$(printf 'n%.0s' $(seq 101))
longpath=/tmp/$(printf 'p%.0s' $(seq 5000))
nl=$(printf 'a\nb')
expand() { # WORD
	case $1 in
	'{empty}') printf '' ;;
	'{long}') printf '%s' "$long" ;;
	'{longpath}') printf '%s' "$longpath" ;;
	'{nl}') printf '%s' "$nl" ;;
	'{cow}') json_value taken cow_device ;;
	*) printf '%s' "$1" | sed 's/{nl}/\n/g' ;;
	esac
}

# --- the state each section needs, made on entry and undone on leaving ---
section=
enter() {
	section=$1
	step "$section"
	case $section in
	mounted-rw) mount /dev/vdc /mnt/m ;;
	mounted-ro) mount -o ro /dev/vdc /mnt/m ;;
	partition-mounted)
		wipe /dev/vdb
		printf 'label: gpt\nsize=100M\n' | sfdisk -q /dev/vdb || fail "sfdisk"
		for i in $(seq 50); do [ -b /dev/vdb1 ] && break; sleep 0.1; done
		mkfs.ext4 -q -b 4096 /dev/vdb1
		mount /dev/vdb1 /mnt/p1
		;;
	btrfs-mounted)
		# btrfs's files carry a device number of its own, not vdb's.
		mkfs.btrfs -q -f -K /dev/vdb >/dev/null || fail "mkfs.btrfs"
		mount /dev/vdb /mnt/p1
		;;
	squatters)
		dmsetup create squat --table "0 8 error" || fail "dmsetup"
		dmsetup create x-cow --table "0 8 error" || fail "dmsetup"
		;;
	mounted-snapshot) mount /dev/mapper/taken /mnt/m || fail "mount taken" ;;
	invalid) make_invalid inv /dev/vdc ;;
	merging)
		wipe /dev/vda
		slow_disk /dev/vda slowvda 50
		rosnap create /dev/mapper/slowvda --name slow --ram 64M --backend zram >/dev/null ||
			fail "create slow"
		# Scattered chunks: the merge writes each alone, 50 ms apiece,
		# so it lasts a good minute whatever else the machine does.
		i=0
		while [ $i -lt 1200 ]; do
			dd if=/dev/urandom of=/dev/mapper/slow bs=4k count=1 seek=$((i * 2)) \
				conv=notrunc 2>/dev/null
			i=$((i + 1))
		done
		sync
		rosnap merge slow --no-wait 2>/dev/null || fail "merge --no-wait"
		[ "$(json_value slow state)" = merging ] ||
			fail "the merge ended too soon to test verbs during it"
		;;
	esac
}
leave() {
	case $section in
	mounted-rw | mounted-ro | mounted-snapshot) umount /mnt/m ;;
	partition-mounted | btrfs-mounted) umount /mnt/p1; wipe /dev/vdb ;;
	squatters) dmsetup remove x-cow squat ;;
	invalid) rosnap remove inv || fail "remove inv" ;;
	merging)
		fast_disk slowvda
		wait_state slow active 300
		rosnap remove slow || fail "remove slow"
		dmsetup remove slowvda
		;;
	esac
	section=
}

# --- one case: run it, compare status, message and kernel state ---
echo "root=/dev/vdc rosnap.fallback=panic" >/tmp/cmdline.base
run_case() { # ARGS (the rest of the table line)
	case $section in
	cmdline)
		expand "$1 rosnap.fallback=panic" >/tmp/cmdline
		rosnap boot --config /dev/null --cmdline /tmp/cmdline
		;;
	config)
		expand "$1" >/tmp/boot.conf
		echo >>/tmp/boot.conf
		rosnap boot --config /tmp/boot.conf --cmdline /tmp/cmdline.base
		;;
	nobody)
		# Fixed words from the table, for su's shell.
		su -s /bin/sh nobody -c "rosnap $1"
		;;
	*)
		set -f
		# shellcheck disable=SC2086
		set -- $1
		set +f
		n=$#
		while [ $n -gt 0 ]; do
			set -- "$@" "$(expand "$1")"
			shift
			n=$((n - 1))
		done
		rosnap "$@"
		;;
	esac
}

generator_case() { # ARGS
	case $section in
	cmdline)
		expand "$1 rosnap.fallback=panic" >/tmp/cmdline
		rosnap boot --generator /tmp/gen --config /dev/null --cmdline /tmp/cmdline
		;;
	config)
		expand "$1" >/tmp/boot.conf
		echo >>/tmp/boot.conf
		rosnap boot --generator /tmp/gen --config /tmp/boot.conf --cmdline /tmp/cmdline.base
		;;
	esac
}

cases=0 failures=0
while IFS= read -r line; do
	case $line in
	'' | '#'*) continue ;;
	'['*']')
		leave
		s=${line#[}
		enter "${s%]}"
		continue
		;;
	esac
	want=${line%% | *}
	rest=${line#* | }
	pattern=${rest%% | *}
	args=${rest#* | }
	cases=$((cases + 1))
	kernel_state >/tmp/state.before
	rc=0
	run_case "$args" >/tmp/out 2>/tmp/err </dev/null || rc=$?
	kernel_state >/tmp/state.after
	problem=
	[ $rc -eq "$want" ] || problem="exited $rc, want $want"
	grep -Eq -- "$pattern" /tmp/err || problem="$problem${problem:+; }said '$(cat /tmp/err)', want /$pattern/"
	cmp -s /tmp/state.before /tmp/state.after ||
		problem="$problem${problem:+; }changed the kernel: $(diff /tmp/state.before /tmp/state.after | grep '^[<>]' | tr '\n' ' ')"
	# A systemd initrd (dracut) gets the same settings through the
	# generator: it must write the units that fall back, or systemd
	# mounts the disk itself, writable.
	# (Without root= there is nothing to mount, by systemd or anyone.)
	if [ "$section" = config ] || { [ "$section" = cmdline ] &&
		case " $args" in *" root="*) true ;; *) false ;; esac; }; then
		rm -rf /tmp/gen && mkdir /tmp/gen
		generator_case "$args" >/dev/null 2>&1 </dev/null
		[ -e /tmp/gen/rosnap-root.service ] ||
			problem="$problem${problem:+; }the generator wrote no units: systemd would mount the disk writable"
	fi
	if [ -n "$problem" ]; then
		failures=$((failures + 1))
		echo "not ok case $cases [$section] $args: $problem"
	else
		echo "ok case $cases [$section] $args"
	fi
done </tests/bad-input.table
leave

step "$cases cases, $failures failed"
# Every row ran: a read loop cut short (a case eating stdin) must not pass.
rows=$(grep -cv -e '^$' -e '^#' -e '^\[' /tests/bad-input.table)
[ "$cases" -eq "$rows" ] || fail "ran $cases cases of the table's $rows"
[ "$failures" -eq 0 ] || fail "$failures of $cases bad-input cases failed"
rosnap remove taken || fail "remove taken"
