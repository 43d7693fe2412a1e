#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Install what rosnap needs to build and to test, on Debian 12: missing
# packages through apt-get (as root), then the guest kernel and udev for
# the test VM into the cache (tests/vm/fetch).  Quick when all is there.
#
# Usage: tests/deps.sh [--build-only | fuzz | deb | bench]
#   --build-only  what "make" needs; fuzz: and clang's libFuzzer; deb:
#   and what "make deb" needs; bench: everything, and fio, gnuplot, lvm2 and perf
set -eu

# What "make deb" needs besides (debian/control's Build-Depends).
DEB_PKGS="debhelper dpkg-dev fakeroot lintian"
BUILD_PKGS="gcc make pkg-config libc6-dev libdevmapper-dev libblkid-dev
	libkmod-dev libsmartcols-dev libmount-dev libudev-dev libcmocka-dev zlib1g-dev
	libcryptsetup-dev"
TEST_PKGS="qemu-system-x86 busybox-static kmod cpio e2fsprogs xfsprogs
	dosfstools dmsetup fdisk util-linux debootstrap cppcheck clang-tidy
	valgrind libc6-dbg binutils bash-completion btrfs-progs $DEB_PKGS"
FUZZ_PKGS="clang libclang-rt-14-dev"

BENCH_PKGS="fio gnuplot-nox lvm2 linux-perf"

mode=${1:-}
pkgs=$BUILD_PKGS
case $mode in
--build-only) ;;
fuzz) pkgs="$pkgs $FUZZ_PKGS" ;;
deb) pkgs="$pkgs $DEB_PKGS" ;;
bench) pkgs="$pkgs $TEST_PKGS $FUZZ_PKGS $BENCH_PKGS" ;;
'') pkgs="$pkgs $TEST_PKGS $FUZZ_PKGS" ;;
*) echo "deps: unknown mode '$mode'" >&2; exit 2 ;;
esac

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

case $mode in
--build-only | fuzz | deb) ;;
*) "$(dirname "$0")/vm/fetch" ;;
esac
