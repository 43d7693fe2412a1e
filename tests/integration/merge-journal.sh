#!/bin/sh
# A journaled merge, live: the store is copied to the journal first, the
# RAM is given back at once, the merge reads the journal, and the journal
# is gone afterwards.  Journals on the origin, on the device itself (also
# through a loop image kept on it), in RAM (also through a loop image on
# a tmpfs), or already existing are
# refused with nothing changed.
# modes: plain udev
# cost: 57
. /tests/lib.sh
on_exit 'touch /tmp/stop; remove_all; dmsetup remove slowvdc 2>/dev/null; umount /mnt/jd 2>/dev/null'

mkfs_on /dev/vdc ext4 -b 4096
mkfs_on /dev/vdb ext4 -b 4096
mkdir -p /mnt/jd /mnt/jm
mount /dev/vdb /mnt/jd
slow_disk /dev/vdc slowvdc 10
rosnap create /dev/mapper/slowvdc --name jm --ram 128M >/dev/null || fail "create"
mount /dev/mapper/jm /mnt/jm || fail "mount"
dd if=/dev/urandom of=/mnt/jm/big bs=1M count=48 2>/dev/null
sync
tree_sums /mnt/jm >/tmp/before

step "bad journal places"
unchanged expect_fail 2 "journal /mnt/jm/j is on jm itself" rosnap merge jm --journal /mnt/jm/j
unchanged expect_fail 2 "would be in RAM \\(/tmp is a tmpfs\\)" rosnap merge jm --journal /tmp/j
unchanged expect_fail 2 "journal /dev/mapper/slowvdc is on /dev/dm-[0-9]+, the origin" rosnap merge jm --journal /dev/mapper/slowvdc
unchanged expect_fail 2 "journal /dev/vdc holds the origin" rosnap merge jm --journal /dev/vdc
# A loop device stands on the disk of its backing file: an image on jm
# itself, as a device or as a filesystem, is jm (the copy would wait on
# the frozen device it copies).
modprobe loop
dd if=/dev/zero of=/mnt/jm/img bs=1M count=8 2>/dev/null
loop=$(losetup -f --show /mnt/jm/img) || fail "losetup"
mkfs.ext4 -q "$loop" && mkdir -p /mnt/jl && mount "$loop" /mnt/jl || fail "mkfs on $loop"
unchanged expect_fail 2 "journal /mnt/jl/j is on jm itself" rosnap merge jm --journal /mnt/jl/j
umount /mnt/jl
unchanged expect_fail 2 "journal $loop is on jm itself" rosnap merge jm --journal "$loop"
losetup -d "$loop"
rm /mnt/jm/img
# ... and one whose image is on a tmpfs is in RAM, as a device or as a
# filesystem.
dd if=/dev/zero of=/tmp/img bs=1M count=8 2>/dev/null
loop=$(losetup -f --show /tmp/img) || fail "losetup"
mkfs.ext4 -q "$loop" && mount "$loop" /mnt/jl || fail "mkfs on $loop"
unchanged expect_fail 2 "journal /mnt/jl/j is on $loop, whose image /tmp/img is in RAM" \
	rosnap merge jm --journal /mnt/jl/j
umount /mnt/jl
unchanged expect_fail 2 "journal $loop is on $loop, whose image /tmp/img is in RAM" \
	rosnap merge jm --journal "$loop"
losetup -d "$loop"
rm /tmp/img
unchanged expect_fail 3 "the directory /mnt/jd/nodir does not exist" rosnap merge jm --journal /mnt/jd/nodir/j
echo x >/mnt/jd/exists
unchanged expect_fail 4 "journal /mnt/jd/exists already exists.*rosnap recover" rosnap merge jm --journal /mnt/jd/exists
unchanged expect_fail 2 "needs an absolute path" rosnap merge jm --journal relative
unchanged expect_fail 2 "journal .*a RAM disk|is on .*zram" rosnap merge jm --journal "$(json_value jm cow_device)"
# A device too small for the copy is refused, and left as it was: it may
# be some other disk, named by mistake.
dd if=/dev/urandom of=/dev/vdd bs=4k count=1 conv=fsync 2>/dev/null
dmsetup create tiny --table "0 2048 linear /dev/vdd 0" && dmsetup mknodes tiny || fail "dmsetup create tiny"
before=$(sum_of /dev/mapper/tiny)
expect_fail 7 "journal device /dev/mapper/tiny is too small" rosnap merge jm --journal /dev/mapper/tiny
assert_eq "$(sum_of /dev/mapper/tiny)" "$before" "a journal device found too small"
dmsetup remove tiny

step "merge through a journal"
rm -f /tmp/stop
writer /mnt/jm/log /tmp/stop &
wpid=$!
rosnap merge jm --journal /mnt/jd/journal --no-wait -v 2>/tmp/err || fail "merge: $(cat /tmp/err)"
grep -q "power fails" /tmp/err && fail "power-loss warning with a journal"
# Most of the copy is made while the device runs: suspended, only what
# changed since is written (here what the writer appended meanwhile),
# far less than the 48M of changes.
frozen=$(sed -n 's/.*copied into the journal, suspended: \([0-9.]*[BKMGT]\) of the store.*/\1/p' /tmp/err)
[ -n "$frozen" ] || fail "no word of the suspended copy: $(cat /tmp/err)"
grep 'suspended' /tmp/err
awk -v s="$frozen" 'BEGIN {
	n = s + 0; u = substr(s, length(s))
	m = u == "K" ? 1024 : u == "M" ? 1048576 : u == "G" ? 1073741824 : 1
	exit !(n * m < 8 * 1048576) }' || fail "the suspended copy wrote $frozen, not only what changed"
grep -q "merge-start: jm was suspended for [0-9]*\.[0-9]* s" /tmp/err ||
	fail "no word of how long jm was suspended: $(cat /tmp/err)"
case $(json_value jm journal) in
/mnt/jd/journal) ;;
*) fail "status journal: $(json_value jm journal)" ;;
esac
assert_eq "$(json_value jm backend)" file "backend while merging from the journal"
wait_state jm active
touch /tmp/stop
wait $wpid || fail "the writer's writes failed during the merge"
[ ! -e /mnt/jd/journal ] || fail "the journal is still there"
tree_sums /mnt/jm | grep -v ' ./log$' >/tmp/after
diff /tmp/before /tmp/after || fail "files changed through the merge"
step "a block device as the journal"
dd if=/dev/urandom of=/mnt/jm/more bs=1M count=16 2>/dev/null
sync
tree_sums /mnt/jm | grep -v ' ./log$' >/tmp/before
echo stale | dd of=/dev/vdd bs=1M seek=20 conv=fsync 2>/dev/null
rosnap merge jm --journal /dev/vdd 2>/tmp/err || fail "merge through /dev/vdd: $(cat /tmp/err)"
[ "$(head -c 7 /dev/vdd)" != ROSNAPJ ] || fail "the journal device's header was not wiped"
tree_sums /mnt/jm | grep -v ' ./log$' >/tmp/after
diff /tmp/before /tmp/after || fail "files changed through the second merge"

step "a journal renamed during the merge: its own goes, the newcomer stays"
# The merge removes the file it reads, not whatever its first path names
# by then: here the journal is renamed and another one (that of some
# other merge) takes its old name.
# The origin's writes take 10 ms each: merging 48M lasts seconds, and
# holding the origin suspended keeps the merge from ending meanwhile.
dd if=/dev/urandom of=/mnt/jm/third bs=1M count=48 2>/dev/null
sync
umask 022
rosnap merge jm --journal /mnt/jd/journal --no-wait 2>/tmp/err || fail "merge: $(cat /tmp/err)"
dmsetup suspend slowvdc
[ -e /mnt/jd/journal ] || { dmsetup resume slowvdc; fail "the merge ended too soon to test"; }
mode=$(stat -c %a /mnt/jd/journal)
mv /mnt/jd/journal /mnt/jd/journal.moved
# A valid journal, sparse: its header and the store's, at the same size.
dd if=/mnt/jd/journal.moved of=/mnt/jd/journal bs=1M count=1 2>/dev/null
truncate -s "$(stat -c %s /mnt/jd/journal.moved)" /mnt/jd/journal
dmsetup resume slowvdc
# The changes are private (rosnap(8)): mode 0600 whatever the umask.
assert_eq "$mode" 600 "the journal's mode"
wait_state jm active
[ -e /mnt/jd/journal ] || fail "the merge removed a journal that was not its own"
[ ! -e /mnt/jd/journal.moved ] || fail "the merge left its own journal, renamed, behind"
rm -f /mnt/jd/journal
tree_sums /mnt/jm | grep -v ' ./log$' >/tmp/before
umount /mnt/jm
rosnap remove jm || fail "remove"
dmsetup remove slowvdc
# The origin is the filesystem as it was, mounted, when the merge ended
# (its unmount went to the new store): mounting replays its journal.
mount /dev/vdc /mnt/jm || fail "the merged origin does not mount"
umount /dev/vdc
e2fsck -fn /dev/vdc >/tmp/fsck 2>&1 || { cat /tmp/fsck; fail "e2fsck"; }
mount -o ro /dev/vdc /mnt/jm
tree_sums /mnt/jm | grep -v ' ./log$' >/tmp/origin
umount /mnt/jm
diff /tmp/before /tmp/origin || fail "the origin lacks changes"
umount /mnt/jd
