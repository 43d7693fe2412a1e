#!/bin/sh
# Deleted files give their RAM back: the snapshot has discard_zeroes_cow,
# so fstrim zeroes their chunks and zram frees the memory.  The store's
# capacity used is not given back (the kernel keeps the chunks allocated).
# modes: plain udev-all
. /tests/lib.sh
on_exit remove_all

mkfs_on /dev/vda ext4 -b 4096
mkdir -p /mnt/r
rosnap create /dev/vda --name rr --ram 256M >/dev/null || fail "create"
dmsetup table rr | grep -q discard_zeroes_cow || fail "table: $(dmsetup table rr)"
mount /dev/mapper/rr /mnt/r || fail "mount"
sync
start=$(json_value rr ram_used_bytes)
dd if=/dev/urandom of=/mnt/r/f bs=1M count=100 2>/dev/null
sync
full=$(json_value rr ram_used_bytes)
used=$(json_value rr cow_used_bytes)
[ "$full" -gt $((95 << 20)) ] || fail "100M written, RAM used only $full"
rm /mnt/r/f
sync
fstrim /mnt/r || fail "fstrim"
after=$(json_value rr ram_used_bytes)
echo "RAM used: $start at the start, $full with the file, $after after rm + fstrim"
[ "$after" -lt $((start + (4 << 20))) ] || fail "RAM not given back: $after"
[ "$(json_value rr cow_used_bytes)" -ge "$used" ] || fail "capacity used went down"
umount /mnt/r
rosnap remove rr || fail "remove"
