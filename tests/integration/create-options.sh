#!/bin/sh
# --compression, --chunk, --profile, --name and --ram N% do what they
# say; so does rosnap.profile= at boot.
# modes: plain
. /tests/lib.sh
on_exit remove_all

mkfs_on /dev/vdc ext4 -b 4096
step "compression and chunk"
rosnap create /dev/vdc --compression zstd --chunk 64K --ram 32M --name opt >/dev/null ||
	fail "create failed"
assert_eq "$(json_value opt compression)" zstd "compression"
assert_eq "$(cat /sys/block/$(basename "$(json_value opt cow_device)")/comp_algorithm | grep -o '\[[a-z0-9-]*\]')" "[zstd]" "zram's algorithm"
assert_eq "$(json_value opt chunk_bytes)" 65536 "chunk"
dmsetup table opt | grep -Eq ' PO 128( 1 discard_zeroes_cow)?$' || fail "table: $(dmsetup table opt)"
rosnap remove opt || fail "remove"

step "profiles"
for p in reads:65536 edits:4096; do
	rosnap create /dev/vdc --profile ${p%:*} --ram 32M --name prof >/dev/null ||
		fail "create --profile ${p%:*}"
	assert_eq "$(json_value prof chunk_bytes)" ${p#*:} "chunk of --profile ${p%:*}"
	rosnap remove prof || fail "remove"
done
echo "root=/dev/vdc rosnap rosnap.profile=reads rosnap.ram=32M rosnap.name=prof" >/tmp/cmdline
rosnap boot --cmdline /tmp/cmdline --config /nonexistent >/dev/null || fail "boot with rosnap.profile"
assert_eq "$(json_value prof chunk_bytes)" 65536 "chunk of rosnap.profile=reads"
rosnap remove prof || fail "remove"

step "compressible data"
rosnap create /dev/vdc --ram 64M --name comp >/dev/null || fail "create failed"
yes "rosnap compresses repetitive data well" | head -c 20000000 >/dev/mapper/comp
sync
ratio=$(json_value comp compression_ratio)
echo "ratio $ratio"
awk -v r="$ratio" 'BEGIN { exit !(r > 3) }' || fail "compression ratio $ratio"
rosnap remove comp || fail "remove"

step "--ram as a share of memory"
total=$(awk '/MemTotal/ { print $2 * 1024 }' /proc/meminfo)
rosnap create /dev/vdc --ram 10% --name pct >/dev/null || fail "create failed"
size=$(json_value pct cow_size_bytes)
want=$((total / 100 * 10 / 4096 * 4096))
assert_eq "$size" "$want" "10% of $total"
rosnap remove pct || fail "remove"

step "default --ram is half of memory with zram"
rosnap create /dev/vdc --name def >/dev/null || fail "create failed"
assert_eq "$(json_value def cow_size_bytes)" $((total / 100 * 50 / 4096 * 4096)) "default size"
rosnap remove def || fail "remove"
