#!/bin/sh
# ext4 (4K blocks) on zram: heavy writes through the snapshot leave the
# origin byte-identical; the kernel's and rosnap's figures agree with what
# was written; remove leaves nothing behind.
# modes: plain udev
# cost: 43
. /tests/lib.sh
on_exit remove_all

mkfs_on /dev/vda ext4 -b 4096
mkdir -p /mnt/o && mount /dev/vda /mnt/o && cp -a /usr/lib /mnt/o/ && umount /mnt/o
before=$(sum_of /dev/vda)

step "create"
rosnap create /dev/vda --ram 256M >/dev/null || fail "create failed"
assert_eq "$(json_value rosnap-vda backend)" zram "backend"
assert_eq "$(json_value rosnap-vda state)" active "state"
assert_eq "$(json_value rosnap-vda origin)" /dev/vda "origin"
assert_eq "$(json_value rosnap-vda chunk_bytes)" 4096 "chunk"
assert_eq "$(json_value rosnap-vda cow_size_bytes)" $((256 << 20)) "cow size"
assert_eq "$(json_value rosnap-vda size_bytes)" "$(blockdev --getsize64 /dev/vda)" "size"
case $(json_value rosnap-vda cow_device) in /dev/zram[1-9]*) ;; *) fail "cow device is not a fresh zram" ;; esac
assert_eq "$(blockdev --getro /dev/vda)" 1 "origin read-only while protected"

step "heavy writes"
mount /dev/mapper/rosnap-vda /mnt/o || fail "mount failed"
[ -d /mnt/o/lib ] || fail "origin's files not visible"
dd if=/dev/urandom of=/mnt/o/random bs=1M count=40 2>/dev/null
rm -rf /mnt/o/lib/modules
cp -a /usr/sbin /mnt/o/sbin-copy
for i in $(seq 20); do echo "line $i" >>/mnt/o/lib/appended; done
sync
want=$(md5sum </mnt/o/random)
echo 3 >/proc/sys/vm/drop_caches
assert_eq "$(md5sum </mnt/o/random)" "$want" "data read back through the snapshot"

step "figures"
# Read-only first: ext4 goes on writing (lazy inode table init, journal
# commits) and the two readings below must see the same store.
mount -o remount,ro /mnt/o || fail "remount read-only"
used=$(json_value rosnap-vda cow_used_bytes)
assert_eq "$used" "$(cow_allocated rosnap-vda)" "cow_used_bytes vs dmsetup"
[ "$used" -ge $((40 << 20)) ] || fail "COW holds $used bytes, less than the 40M written"
[ "$used" -le $((120 << 20)) ] || fail "COW holds $used bytes, far more than written"
data=$(json_value rosnap-vda data_bytes)
[ "$data" -ge $((40 << 20)) ] || fail "zram holds $data bytes of data, less than written"
ram=$(json_value rosnap-vda ram_used_bytes)
[ "$ram" -gt $((40 << 20)) ] || fail "RAM used $ram is less than the incompressible 40M"
rosnap status

step "remove"
umount /mnt/o
rosnap remove rosnap-vda || fail "remove failed"
assert_eq "$(sum_of /dev/vda)" "$before" "origin checksum"
assert_eq "$(blockdev --getro /dev/vda)" 0 "origin writable again"
