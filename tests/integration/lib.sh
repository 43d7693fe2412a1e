# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the integration tests, sourced inside the test guest.
#
# Disks: /dev/vda (512M), /dev/vdb and /dev/vdc (256M), /dev/vdd (64M), blank
# at boot; tests that run in the same guest share them, so a test makes
# the filesystems it needs.  A test exits 0 to pass, 77 to skip (after
# printing "SKIP: reason"), anything else to fail, and must leave no
# device, mount or read-only flag behind (the guest checks).
set -u

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
	"$@" >/tmp/out 2>/tmp/err
	rc=$?
	cat /tmp/err
	[ $rc -eq "$want" ] || fail "'$*' exited $rc, want $want"
	grep -Eq -- "$pattern" /tmp/err || fail "'$*' said '$(cat /tmp/err)', want /$pattern/"
}

# Zero the start and end of a disk so nothing of an earlier test shows.
wipe() {
	dd if=/dev/zero of="$1" bs=1M count=4 conv=fsync 2>/dev/null
	wipefs -a -q "$1"
}

# A checksum for equality checks (md5: the fastest under emulation).
sum_of() {
	md5sum "$1" | cut -d' ' -f1
}

# The kernel objects rosnap makes, for "nothing changed" checks.
kernel_state() {
	for d in /sys/block/dm-*; do
		[ -e "$d/dm/name" ] && echo "dm $(cat "$d/dm/name") $(cat "$d/dm/uuid")"
	done
	for z in /sys/block/zram*; do
		[ -e "$z" ] && echo "zram ${z##*/} $(cat "$z/disksize")"
	done
	for l in /sys/block/loop*; do
		[ -e "$l/loop/backing_file" ] && echo "loop ${l##*/} $(cat "$l/loop/backing_file")"
	done
	for r in /sys/block/ram*; do
		[ -e "$r" ] && echo "brd ${r##*/}"
	done
	for b in /sys/block/*/ro /sys/block/*/*/ro; do
		[ -e "$b" ] && echo "ro $b $(cat "$b")"
	done
	cat /proc/mounts
}

# Remove every rosnap device, for a test's exit trap.
remove_all() {
	grep -o ' /mnt[^ ]*' /proc/mounts | sort -r | while read -r m; do umount "$m"; done
	for n in $(rosnap list --json 2>/dev/null | sed -n 's/.*"name": *"\([^"]*\)".*/\1/p'); do
		rosnap remove "$n"
	done
}
