#!/bin/sh
# The headline feature: merge while mounted and written to.  Every file's
# checksum is right through the device during and after; afterwards the
# device protects the origin again with an empty store (writes no longer
# reach the origin), and the origin alone holds every change, fsck-clean.
# modes: plain udev
# cost: 34
. /tests/lib.sh
on_exit 'touch /tmp/stop; remove_all'

mkfs_on /dev/vdc ext4 -b 4096
mkdir -p /mnt/m
rosnap create /dev/vdc --name live --ram 128M >/dev/null || fail "create"
mount /dev/mapper/live /mnt/m || fail "mount"
dd if=/dev/urandom of=/mnt/m/big bs=1M count=48 2>/dev/null
cp -a /usr/lib /mnt/m/lib
rm -rf /mnt/m/lib/modules/*/kernel/fs
sync
tree_sums /mnt/m >/tmp/before
size=$(json_value live cow_size_bytes)

step "merge while a writer appends"
rm -f /tmp/stop
writer /mnt/m/log /tmp/stop &
wpid=$!
until [ -s /mnt/m/log ]; do sleep 0.05; done
rosnap merge live 2>/tmp/err &
mpid=$!
# Once the kernel merges, every line in the log was written before now:
# a line beyond them on the origin was written during the merge.
polls=0
until dmsetup table live 2>/dev/null | grep -q ' snapshot-merge '; do
	kill -0 $mpid 2>/dev/null || fail "the merge ended before it was seen merging: $(cat /tmp/err)"
	polls=$((polls + 1))
done
l0=$(wc -l </mnt/m/log)
echo "merging after $polls polls, $l0 lines written"
wait $mpid || { cat /tmp/err; fail "merge failed"; }
grep -q "power fails before the merge ends.*--journal" /tmp/err || fail "no power-loss warning: $(cat /tmp/err)"
[ "$(grep -c . /tmp/err)" -eq 1 ] || fail "more than one line on stderr: $(cat /tmp/err)"
touch /tmp/stop
wait $wpid || fail "the writer's writes failed during the merge"
cp /mnt/m/log /tmp/log.final
tree_sums /mnt/m | grep -v ' ./log$' >/tmp/after
diff /tmp/before /tmp/after || fail "files changed through the merge"

step "after the merge: protected again, fresh store"
assert_eq "$(json_value live state)" active "state"
assert_eq "$(json_value live cow_size_bytes)" "$size" "store size"
[ "$(json_value live cow_used_bytes)" -lt $((1 << 20)) ] || fail "store not fresh: $(json_value live cow_used_bytes)"
assert_eq "$(blockdev --getro /dev/vdc)" 1 "origin read-only again"
[ ! -e /dev/mapper/live-cow.merge ] || fail "merge layer left"
[ ! -e /run/rosnap/merge-live ] || fail "the merge's waiter file is left"
dmsetup ls | grep -c '^live-cow' | grep -qx 1 || fail "layers: $(dmsetup ls)"

step "writes after the merge go to the new store"
sync
echo 3 >/proc/sys/vm/drop_caches
origin_sum=$(sum_of /dev/vdc)
dd if=/dev/urandom of=/mnt/m/after bs=1M count=4 2>/dev/null
sync
assert_eq "$(sum_of /dev/vdc)" "$origin_sum" "origin after new writes"
[ "$(json_value live cow_used_bytes)" -ge $((4 << 20)) ] || fail "new writes not in the store"
tree_sums /mnt/m >/tmp/final
umount /mnt/m
rosnap remove live || fail "remove"

step "the origin alone"
# The origin is the filesystem as it was, mounted, when the merge ended
# (its unmount went to the new store): mounting replays its journal.
mount /dev/vdc /mnt/m || fail "the merged origin does not mount"
umount /dev/vdc
e2fsck -fn /dev/vdc >/tmp/fsck 2>&1 || { cat /tmp/fsck; fail "e2fsck on the origin"; }
mount -o ro /dev/vdc /mnt/m
tree_sums /mnt/m >/tmp/origin
umount /mnt/m
grep -v -e ' ./after$' -e ' ./log$' /tmp/final >/tmp/final.nolog
grep -v ' ./log$' /tmp/origin >/tmp/origin.nolog
diff /tmp/final.nolog /tmp/origin.nolog || fail "the origin lacks changes"
olines=$(grep -c '' /tmp/origin.nolog)
grep -q ' ./after$' /tmp/origin && fail "a write after the merge reached the origin"
# Lines written before and during the merge are on the origin; those
# after it only in the store that was removed.
mount -o ro /dev/vdc /mnt/m
lines=$(wc -l </mnt/m/log)
head -n "$lines" /tmp/log.final | cmp -s - /mnt/m/log || fail "the origin's log is not what was written"
umount /mnt/m
[ "$lines" -gt "$l0" ] || fail "no line written during the merge reached the origin ($lines <= $l0)"
echo "origin holds $olines files; log lines: $l0 before the merge, $lines on the origin, $(wc -l </tmp/log.final) in all"
