#!/bin/sh
# zram's compression without --compression: zstd when the kernel offers
# it; the kernel's own default, silently, when zstd cannot be loaded, or
# when the kernel takes its name and fails at disksize (as 5.x kernels
# do: the test build fakes that failure, ROSNAP_TEST_FAIL_AT).
# modes: plain
# cost: 12
. /tests/lib.sh
on_exit 'rm -f /etc/modprobe.d/rosnap-test.conf; remove_all'

wipe /dev/vdc

step "zstd by default"
rosnap create /dev/vdc --name cd --ram 16M --backend zram >/dev/null || fail "create"
assert_eq "$(json_value cd compression)" zstd "compression without --compression"
# Kernels from 6.12 have zram's own compressors: no module to refuse.
zram=$(json_value cd cow_device)
own=
[ ! -e "/sys/block/${zram#/dev/}/algorithm_params" ] || own=1
rosnap remove cd || fail "remove"

kernel_default() { # DEVICE: the bracketed algorithm of a zram device
	sed -n 's/.*\[\([^]]*\)\].*/\1/p' "/sys/block/${1#/dev/}/comp_algorithm"
}

if [ "${ROSNAP_TEST_SAN:-0}" = 1 ]; then
	step "the kernel's default when disksize fails with zstd"
	ROSNAP_TEST_FAIL_AT=zram-preferred rosnap create /dev/vdc --name cd --ram 16M \
		--backend zram >/dev/null 2>/tmp/err || fail "create: $(cat /tmp/err)"
	assert_eq "$(grep -v 'injected failure at "zram-preferred"' /tmp/err)" "" "create's messages"
	grep -q 'injected failure at "zram-preferred"' /tmp/err || fail "no failure was injected"
	zram=$(json_value cd cow_device)
	[ "$(kernel_default "$zram")" != zstd ] || fail "zstd although disksize failed with it"
	assert_eq "$(json_value cd compression)" "$(kernel_default "$zram")" "compression reported"
	rosnap remove cd || fail "remove"
fi

step "the kernel's default when zstd cannot load"
[ -z "$own" ] || skip "zram has its own compressors here (algorithm_params): zstd cannot be kept from loading"
# zram lists every algorithm built for it; loading one can still fail.
rmmod zstd 2>/dev/null
[ ! -e /sys/module/zstd ] || skip "zstd is built in or in use: cannot make it fail to load"
mkdir -p /etc/modprobe.d
echo "install zstd /bin/false" >/etc/modprobe.d/rosnap-test.conf
rosnap create /dev/vdc --name cd --ram 16M --backend zram >/dev/null 2>/tmp/err ||
	fail "create without zstd: $(cat /tmp/err)"
assert_eq "$(cat /tmp/err)" "" "create's messages without zstd"
zram=$(json_value cd cow_device)
kernel=$(kernel_default "$zram")
assert_eq "$kernel" "$(json_value cd compression)" "compression reported"
[ "$kernel" != zstd ] || fail "zstd although it could not load"
rosnap remove cd || fail "remove"
