#!/bin/sh
# zram's compression without --compression: zstd when the kernel offers
# it; the kernel's own default, silently, when zstd cannot be loaded.
# modes: plain
# cost: 12
. /tests/lib.sh
on_exit 'rm -f /etc/modprobe.d/rosnap-test.conf; remove_all'

wipe /dev/vdc

step "zstd by default"
rosnap create /dev/vdc --name cd --ram 16M --backend zram >/dev/null || fail "create"
assert_eq "$(json_value cd compression)" zstd "compression without --compression"
rosnap remove cd || fail "remove"

step "the kernel's default when zstd cannot load"
# zram lists every algorithm built for it; loading one can still fail.
rmmod zstd 2>/dev/null
[ ! -e /sys/module/zstd ] || skip "zstd is built in or in use: cannot make it fail to load"
mkdir -p /etc/modprobe.d
echo "install zstd /bin/false" >/etc/modprobe.d/rosnap-test.conf
rosnap create /dev/vdc --name cd --ram 16M --backend zram >/dev/null 2>/tmp/err ||
	fail "create without zstd: $(cat /tmp/err)"
assert_eq "$(cat /tmp/err)" "" "create's messages without zstd"
zram=$(json_value cd cow_device)
kernel=$(sed -n 's/.*\[\([^]]*\)\].*/\1/p' "/sys/block/${zram#/dev/}/comp_algorithm")
assert_eq "$kernel" "$(json_value cd compression)" "compression reported"
[ "$kernel" != zstd ] || fail "zstd although it could not load"
rosnap remove cd || fail "remove"
