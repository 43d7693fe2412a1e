#!/bin/sh
# Live merge of xfs (4K sectors, zram) while a writer appends; the origin
# alone then holds every change and xfs_repair -n finds nothing.
# modes: plain
. /tests/lib.sh
on_exit 'touch /tmp/stop; remove_all'

mkfs_on /dev/vda xfs -s size=4096
mkdir -p /mnt/x
rosnap create /dev/vda --name x --ram 128M >/dev/null || fail "create"
mount /dev/mapper/x /mnt/x || fail "mount"
dd if=/dev/urandom of=/mnt/x/big bs=1M count=32 2>/dev/null
cp -a /usr/sbin /mnt/x/sbin
sync
tree_sums /mnt/x >/tmp/before
rm -f /tmp/stop
writer /mnt/x/log /tmp/stop &
wpid=$!
rosnap merge x 2>/dev/null || fail "merge failed"
touch /tmp/stop
wait $wpid || fail "the writer's writes failed during the merge"
tree_sums /mnt/x | grep -v ' ./log$' >/tmp/after
diff /tmp/before /tmp/after || fail "files changed through the merge"
assert_eq "$(json_value x state)" active "state after merge"
umount /mnt/x
rosnap remove x || fail "remove"
# The origin is the filesystem as it was, mounted, when the merge ended
# (its unmount went to the new store): mounting replays its log.
mount /dev/vda /mnt/x || fail "the merged origin does not mount"
umount /mnt/x
xfs_repair -n /dev/vda >/tmp/repair 2>&1 || { cat /tmp/repair; fail "xfs_repair on the origin"; }
mount -o ro /dev/vda /mnt/x
tree_sums /mnt/x | grep -v ' ./log$' >/tmp/origin
umount /mnt/x
diff /tmp/before /tmp/origin || fail "the origin lacks changes"
