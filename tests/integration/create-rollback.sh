#!/bin/sh
# A create that fails at any step leaves the kernel exactly as before:
# no dm device, no zram or brd device, no loop, origin flag restored.
# Uses the test build's fault injection (ROSNAP_TEST_FAIL_AT).
# modes: plain
. /tests/lib.sh
on_exit remove_all
[ "${ROSNAP_TEST_SAN:-0}" = 1 ] || skip "needs the test build with fault injection (build-san)"

mkfs_on /dev/vdc ext4 -b 4096
mkfs_on /dev/vdd ext4 -b 1024
mkdir -p /tmp/imgs && truncate -s 32M /tmp/imgs/i.img && mkfs.ext4 -q -b 4096 /tmp/imgs/i.img

for point in origin cow protect snapshot; do
	for origin in /dev/vdc /dev/vdd /tmp/imgs/i.img; do
		step "failure at $point, origin $origin"
		unchanged expect_fail 1 "injected failure at \"$point\"" \
			env ROSNAP_TEST_FAIL_AT=$point rosnap create "$origin" --ram 16M
	done
done
[ ! -e /sys/module/brd ] || fail "brd left loaded after a failed create"

step "a real create still works"
rosnap create /dev/vdc --ram 16M >/dev/null || fail "create"
rosnap remove rosnap-vdc
