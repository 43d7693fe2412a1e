#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# In a booted benchmark system (tests/bench/systems.sh), whatever protects
# its root (nothing, rosnap, overlayroot, bilibop-lockfs): the boot's
# time, then a fixed workload and the memory it leaves behind.  Prints
# "BENCH KEY VALUE" lines on the results port (fd 3).
#
# The workload, the same in every system:
#   - 1,000 random 4K blocks of a 256 MiB file rewritten in place;
#   - a tree of Debian's files (about 150 MB) unpacked from a tar archive;
#   - a local .deb installed with dpkg.
. /usr/local/lib/rosnap-test/lib.sh
data=/var/lib/rosnap-bench

say() {
	echo "BENCH $1 $2" >&3
	echo "BENCH $1 $2"
}

# What protects /: its filesystem and device, whether it is writable, and
# the compression of the zram device in use, if any (zram0, made when the
# module loads, is not rosnap's).
algo=
for z in /sys/block/zram*; do
	[ "$(cat "$z/disksize" 2>/dev/null || echo 0)" != 0 ] || continue
	algo=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$z/comp_algorithm")
done
say root "$(findmnt -rn -o FSTYPE,SOURCE /) $(findmnt -rn -o OPTIONS / | cut -d, -f1)${algo:+ $algo}"

# The boot's time, once the boot is over.
state=$(systemctl is-system-running --wait) || true
[ "$state" = running ] || {
	systemctl --failed --no-legend
	fail "the system is $state, not running"
}
# From the kernel's start of the initramfs (its "Run /init" line) to
# systemd's start, and to multi-user.target.  The kernel's log has its own
# clock (sched_clock), systemd's times are CLOCK_MONOTONIC: a line written
# to the log now, read back, gives the offset between the two.
kmsg_time() { # PATTERN: the log's time of the first line matching it
	dmesg | sed -n "s/^\[ *\([0-9.]*\)\] $1.*/\1/p" | head -n 1
}
init=$(kmsg_time 'Run \/init as init process')
[ -n "$init" ] || fail "no 'Run /init' line in the kernel's log"
mark="rosnap-bench-clock-$$"
now=$(cut -d' ' -f1 /proc/uptime)
echo "$mark" >/dev/kmsg
after=$(cut -d' ' -f1 /proc/uptime)
at=$(kmsg_time "$mark")
[ -n "$at" ] || fail "the kernel's log did not take a line"
init=$(awk -v i="$init" -v a="$at" -v n="$now" -v m="$after" 'BEGIN { printf "%.3f\n", i + (n + m) / 2 - a }')
usec() { # UNIT PROPERTY
	systemctl show ${1:+"$1"} -p "$2" --value
}
userspace=$(usec "" UserspaceTimestampMonotonic)
multi_user=$(usec multi-user.target ActiveEnterTimestampMonotonic)
[ "${userspace:-0}" -gt 0 ] && [ "${multi_user:-0}" -gt 0 ] ||
	fail "no start time for systemd ($userspace) or multi-user.target ($multi_user)"
# Where the boot's time went, for the raw log.
systemd-analyze critical-chain multi-user.target 2>&1 | sed 's/^/CHAIN /' >&3
say initramfs_s "$(awk -v a="$init" -v b="$userspace" 'BEGIN { printf "%.3f\n", b / 1e6 - a }')"
say boot_s "$(awk -v a="$init" -v b="$multi_user" 'BEGIN { printf "%.3f\n", b / 1e6 - a }')"

# Memory in use once what can be dropped is dropped: the page cache that
# is not mapped and the kernel's reclaimable caches go (zsmalloc's pool is
# compacted by its shrinker), RAM that holds changes stays.  Measured in
# separate boots, it moves by several MiB from boot to boot.
used_kib() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	awk '$1 == "MemTotal:" { t = $2 } $1 == "MemFree:" { f = $2 } END { print t - f }' \
		/proc/meminfo
}
# The store alone: zram's pool, or the pages of the tmpfs under the
# overlay of /.
store_kib() {
	local n=0 upper u
	for f in /sys/block/zram*/mm_stat; do
		[ -r "$f" ] || continue
		n=$((n + $(awk '{ print int($3 / 1024) }' "$f")))
	done
	upper=$(findmnt -n -o FSTYPE,OPTIONS / |
		awk '$1 == "overlay" { n = split($2, o, ","); for (i = 1; i <= n; i++)
			if (o[i] ~ /^upperdir=/) print substr(o[i], 10) }')
	if [ -n "$upper" ]; then
		u=$(df -k --output=used "$upper" | tail -n 1 | tr -d ' ')
		case $u in '' | *[!0-9]*) fail "df of $upper: '$u'" ;; esac
		n=$((n + u))
	fi
	echo "$n"
}
say used_boot_kib "$(used_kib)"
say store_boot_kib "$(store_kib)"

since() { # START: seconds since, from date +%s.%N
	awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f\n", b - a }'
}
start=$(date +%s.%N)
t=$start
perl -e '
	use Fcntl qw(SEEK_SET);
	open(my $f, "+<", $ARGV[0]) or die "$ARGV[0]: $!";
	open(my $r, "<", "/dev/urandom") or die "/dev/urandom: $!";
	my $blocks = (-s $f) / 4096;
	srand(15);
	for (1 .. 1000) {
		my $b = int(rand($blocks));
		read($r, my $buf, 4096) == 4096 or die "urandom: $!";
		sysseek($f, $b * 4096, SEEK_SET) or die "seek: $!";
		syswrite($f, $buf) == 4096 or die "write: $!";
	}
	close($f) or die "close: $!";
' "$data/big" || fail "the edits failed"
sync
say edit_s "$(since "$t")"
t=$(date +%s.%N)
mkdir -p /var/tmp/tree
tar -xf "$data/tree.tar" -C /var/tmp/tree || fail "unpacking the tree failed"
sync
say tree_s "$(since "$t")"
t=$(date +%s.%N)
dpkg -i "$data/payload.deb" >/dev/null || fail "installing the .deb failed"
sync
say deb_s "$(since "$t")"
say workload_s "$(since "$start")"
say used_after_kib "$(used_kib)"
say store_after_kib "$(store_kib)"

# The changes merged into the disk, where the system can.
if [ "$(findmnt -n -o SOURCE /)" = /dev/mapper/rosnap-root ]; then
	start=$(date +%s.%N)
	rosnap merge rosnap-root || fail "rosnap merge failed"
	say merge_s "$(since "$start")"
	rosnap status rosnap-root
fi
