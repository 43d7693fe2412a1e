#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# rosnap's main job, shown step by step on a disk image this script
# makes (never on your disks).  Run by "make demo": directly when this
# machine can (root, a kernel with device-mapper), otherwise in the test VM.
# Usage: tests/demo/demo.sh [WORKDIR]
set -eu
work=${1:-/tmp/rosnap-demo}
mnt=$work/mnt

say() { printf '\n# %s\n' "$*"; }
run() {
	printf '$ %s\n' "$*"
	"$@"
}

mkdir -p "$work" "$mnt"
# Mounting an image file needs the loop driver (udev loads it on most
# systems; the test VM has no udev).
[ -e /dev/loop-control ] || modprobe loop
say "A disk image with a file on it: the read-only disk of a kiosk, say."
run truncate -s 256M "$work/disk.img"
run mkfs.ext4 -q -b 4096 "$work/disk.img"
run mount "$work/disk.img" "$mnt"
printf 'This is the original, untouched disk.\n' >"$mnt/motd"
run cat "$mnt/motd"
run umount "$mnt"
run md5sum "$work/disk.img"

say "Make it writable, with up to 64M of changes kept in compressed RAM."
run rosnap create "$work/disk.img" --name demo --ram 64M
run mount /dev/mapper/demo "$mnt"

say "Use it read-write: edit a file, write 5M of random data and 14M of text."
printf '$ %s\n' "echo 'Changed while protected.' > $mnt/motd"
echo 'Changed while protected.' >"$mnt/motd"
run dd if=/dev/urandom of="$mnt/random" bs=1M count=5 status=none
printf '$ %s\n' "seq 2000000 > $mnt/numbers.txt"
seq 2000000 >"$mnt/numbers.txt"
run sync
run cat "$mnt/motd"

say "The changes live in RAM (zram), compressed where they compress:"
run rosnap status

say "The disk image itself has not changed: same checksum as before."
run md5sum "$work/disk.img"

say "Changed your mind? Unmount and discard: the device shows the disk as it is."
run umount "$mnt"
run rosnap discard demo
run mount /dev/mapper/demo "$mnt"
run cat "$mnt/motd"

say "Or keep changes: merge them into the disk, live, while it stays mounted."
printf '$ %s\n' "echo 'Merged into the disk, live.' > $mnt/motd"
echo 'Merged into the disk, live.' >"$mnt/motd"
run sync
run rosnap merge demo
run rosnap status
say "After the merge the device protects the disk again, with an empty store."

say "Unmount and remove; the disk image alone now holds the merged change."
run umount "$mnt"
run rosnap remove demo
run mount -o ro "$work/disk.img" "$mnt"
run cat "$mnt/motd"
run ls "$mnt"
run umount "$mnt"
run md5sum "$work/disk.img"
rm -rf "$work"
