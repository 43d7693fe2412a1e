#!/bin/sh
# status and list: by name and by every path; JSON with numbers; empty
# lists; several devices sorted by name.
# modes: plain udev
# cost: 15
. /tests/lib.sh
on_exit remove_all

step "nothing yet"
assert_eq "$(rosnap list)" "" "empty list"
assert_eq "$(rosnap status)" "" "empty status"
rosnap status --json | tr -d ' \n' | grep -q '^{"devices":\[\]}$' || fail "empty JSON"
# A person at a terminal is told (script(1) gives rosnap one).
for verb in status list; do
	script -qec "rosnap $verb" /dev/null >/tmp/tty.out || fail "$verb on a terminal"
	grep -q "No rosnap devices" /tmp/tty.out || fail "$verb on a terminal said '$(cat /tmp/tty.out)'"
done
script -qec "rosnap status --json" /dev/null | tr -d ' \r\n' | grep -q '^{"devices":\[\]}$' ||
	fail "empty JSON on a terminal"

mkfs_on /dev/vdc ext4 -b 4096
mkfs_on /dev/vdd ext4 -b 4096
rosnap create /dev/vdd --name zz --ram 8M >/dev/null || fail "create zz"
rosnap create /dev/vdc --name aa --ram 16M --compression lz4 >/dev/null || fail "create aa"

step "list"
rosnap list
assert_eq "$(rosnap list | awk 'NR>1 {print $1}' | tr '\n' ' ')" "aa zz " "sorted names"
rosnap list --json | grep -q '"device": "/dev/mapper/aa"' || fail "list JSON device"

step "status by name and path"
dm=$(grep -lx aa /sys/block/dm-*/dm/name | cut -d/ -f4)
for spec in aa /dev/mapper/aa "/dev/$dm"; do
	assert_eq "$(json_value "$spec" name)" aa "status $spec"
done
if [ "$ROSNAP_TEST_UDEV" = 1 ]; then
	assert_eq "$(json_value /dev/rosnap/aa name)" aa "status /dev/rosnap/aa"
fi
rosnap status aa --json
for key in name device origin backend cow_device chunk_bytes state cow_size_bytes \
	cow_used_bytes ram_used_bytes data_bytes compression_ratio size_bytes; do
	rosnap status aa --json | grep -q "\"$key\":" || fail "JSON key $key missing"
done
rosnap status aa --json | grep -Eq '"cow_size_bytes": [0-9]+,' || fail "cow_size_bytes not a number"
rosnap status aa --json | grep -Eq '"chunk_bytes": 4096,' || fail "chunk_bytes not a number"
assert_eq "$(json_value aa compression)" lz4 "compression"
assert_eq "$(json_value aa cow_size_bytes)" $((16 << 20)) "cow size"

step "levels against the monitor's thresholds"
assert_eq "$(json_value aa level)" ok "level"
assert_eq "$(json_value aa warn_percent)" 80 "default warn"
assert_eq "$(json_value aa critical_percent)" 95 "default critical"
assert_eq "$(json_value aa cow_parts)" 1 "RAM devices"
dd if=/dev/urandom of=/dev/mapper/aa bs=1M count=4 conv=fsync 2>/dev/null
# RAM: zram's pool and dm-snapshot's 32 bytes for each chunk held.
zram=$(json_value aa cow_device)
pool=$(awk '{ print $3 }' "/sys/block/${zram#/dev/}/mm_stat")
chunks=$(dmsetup status aa | awk '{ split($4, a, "/"); print (a[1] - $5) / 8 }')
[ "$chunks" -ge 1024 ] || fail "4M written, $chunks chunks in the store"
assert_eq "$(json_value aa ram_used_bytes)" $((pool + 32 * chunks)) "RAM used"
mkdir -p /etc/rosnap
printf 'warn=10\ncritical=90\n' >/etc/rosnap/boot.conf
assert_eq "$(json_value aa level)" warn "level with warn=10 in boot.conf"
assert_eq "$(json_value aa warn_percent)" 10 "warn from boot.conf"
rm -f /etc/rosnap/boot.conf

step "human status shows both"
rosnap status | tee /tmp/st
grep -q '^aa ' /tmp/st && grep -q '^zz ' /tmp/st || fail "status lacks a device"
grep -q 'NAME' /tmp/st || fail "status has no header"

step "columns: --output, +, --raw, --noheadings, --bytes, --json"
mkdir -p /mnt/sl
mount /dev/mapper/zz /mnt/sl || fail "mount zz"
assert_eq "$(rosnap status zz -o NAME,MOUNTPOINT,BACKEND -rn)" "zz /mnt/sl zram" "raw, chosen columns"
assert_eq "$(rosnap list -o name,state --noheadings --raw | tr '\n' ' ')" "aa active zz active " \
	"list, lower-case names"
assert_eq "$(rosnap status aa -o COW-SIZE -rnb)" $((16 << 20)) "--bytes"
assert_eq "$(rosnap status aa -o COW-SIZE -rn)" 16M "without --bytes"
# +LIST: the default columns, then these.
assert_eq "$(rosnap list -o +MOUNTPOINT -r | head -n 1)" "NAME DEVICE ORIGIN BACKEND STATE MOUNTPOINT" \
	"+LIST header"
assert_eq "$(rosnap list -o +MOUNTPOINT -rn | awk '$1 == "zz" { print $6 }')" /mnt/sl "+LIST value"
# --json with --output: those keys alone; without: every key, mountpoint too.
rosnap status zz --json -o NAME,MOUNTPOINT | tr -d ' \n' |
	grep -qx '{"devices":\[{"name":"zz","mountpoint":"/mnt/sl"}\]}' ||
	fail "JSON of the chosen columns: $(rosnap status zz --json -o NAME,MOUNTPOINT)"
assert_eq "$(json_value zz mountpoint)" /mnt/sl "mountpoint in the full JSON"
# +LIST in JSON: the default columns' keys and these, each once.
keys=$(rosnap status zz --json -o +MOUNTPOINT,NAME | grep -o '"[a-z_-]*":' | sort | uniq -d)
assert_eq "$keys" "" "keys given twice by --json -o +MOUNTPOINT,NAME"
rosnap status zz --json -o +MOUNTPOINT | grep -q '"mountpoint": "/mnt/sl"' ||
	fail "--json -o +MOUNTPOINT has no mountpoint"
umount /mnt/sl
rosnap status zz --json | grep -q '"mountpoint": null' || fail "an unmounted device's mountpoint"
# btrfs: its own device number, not the device's; found by the source
# (aa: btrfs needs 114M).
mkfs.btrfs -q -f -K /dev/mapper/aa >/dev/null || fail "mkfs.btrfs"
mount /dev/mapper/aa /mnt/sl || fail "mount btrfs"
assert_eq "$(rosnap status aa -o MOUNTPOINT -rn)" /mnt/sl "a btrfs mount point"
umount /mnt/sl
expect_fail 2 "unknown column 'BOGUS'" rosnap status -o NAME,BOGUS
rosnap status --help | grep -q '^  MOUNTPOINT ' || fail "--help does not list the columns"

step "unknown devices"
expect_fail 3 "nosuch is not a rosnap device" rosnap status nosuch
expect_fail 3 "is not a rosnap device" rosnap status /dev/vdc
expect_fail 3 "is not a rosnap device" rosnap status aa-cow
