#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# "make demo": show rosnap at work.  On this machine when it can (root and
# a kernel that has dm-snapshot and zram), otherwise inside the test VM
# booting Debian's kernel.  Never touches your disks: the demo makes its
# own disk image.
set -eu
cd "$(dirname "$0")/.."

can_run_here() {
	[ "$(id -u)" -eq 0 ] || return 1
	modprobe -q dm_snapshot 2>/dev/null || [ -e /sys/module/dm_snapshot ] || return 1
	modprobe -q zram 2>/dev/null || [ -e /sys/module/zram ] || return 1
}

if can_run_here; then
	echo "Running the demo on this machine ($(uname -r))."
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' EXIT
	make -s install DESTDIR="$dir/root" PREFIX=/usr >/dev/null
	PATH=$dir/root/usr/sbin:$PATH LD_LIBRARY_PATH=$dir/root/usr/lib \
		tests/demo/demo.sh "$dir/work"
else
	echo "This kernel ($(uname -r)) has no device-mapper or zram here:"
	echo "running the demo in the test VM (Debian's kernel under qemu, ~1 minute)."
	tests/vm/run --tests-dir tests/demo --show -j1 demo
fi
