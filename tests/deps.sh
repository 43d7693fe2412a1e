#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Install what rosnap needs to build and to test, on Debian 12: missing
# packages through apt-get (as root), then the guest kernel and udev for
# the test VM into the cache (tests/vm/fetch).  Quick when all is there.
#
# Usage: tests/deps.sh [--build-only | bench]
set -eu

BUILD_PKGS="gcc make pkg-config libc6-dev libdevmapper-dev libblkid-dev
	libkmod-dev libsmartcols-dev libcmocka-dev zlib1g-dev"
TEST_PKGS="qemu-system-x86 busybox-static kmod cpio e2fsprogs xfsprogs
	dosfstools dmsetup fdisk util-linux debootstrap"

BENCH_PKGS="fio gnuplot-nox"

pkgs=$BUILD_PKGS
[ "${1:-}" = --build-only ] || pkgs="$pkgs $TEST_PKGS"
[ "${1:-}" != bench ] || pkgs="$pkgs $BENCH_PKGS"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -q '^install ok installed$' || missing="$missing $p"
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing Debian packages:$missing" >&2
		echo "deps: run 'make deps' as root, or: apt-get install$missing" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

[ "${1:-}" = --build-only ] || "$(dirname "$0")/vm/fetch"
