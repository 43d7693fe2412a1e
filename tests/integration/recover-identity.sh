#!/bin/sh
# recover checks the origin's identity before it writes a byte.  A whole
# disk with a GPT has no filesystem UUID: its partition table's UUID is
# recorded, so another disk of the same size in its place (swapped USB
# sticks) is refused.  A journal of raw data records no UUID at all: it
# is not applied to whatever is at its path unless --origin names it.
# modes: plain
# cost: 70
# timeout: 900
. /tests/lib.sh
on_exit 'remove_all; umount /mnt/j 2>/dev/null; dmsetup remove slowvdc 2>/dev/null'

mkfs_on /dev/vdd ext4 -b 4096
mkdir -p /mnt/j
mount /dev/vdd /mnt/j || fail "mount the journal disk"

# Journal a merge of slowvdc (vdc behind dm-delay) into /mnt/j/COPY, as a
# power cut mid-merge would leave it, then let the merge end.
journal_of_merge() { # COPY
	rosnap create /dev/mapper/slowvdc --name id --ram 16M >/dev/null 2>&1 || fail "create"
	# Scattered chunks past the partition table: the kernel merges each
	# alone, 20 ms apiece, so the journal is still there to copy.
	i=0
	while [ $i -lt 300 ]; do
		dd if=/dev/urandom of=/dev/mapper/id bs=4k count=1 seek=$((256 + i * 2)) \
			conv=notrunc 2>/dev/null || fail "write"
		i=$((i + 1))
	done
	sync
	rosnap merge id --journal /mnt/j/journal --no-wait 2>/dev/null || fail "merge"
	cp /mnt/j/journal "/mnt/j/$1" || fail "copy the journal"
	fast_disk slowvdc
	rosnap merge id 2>/dev/null || fail "the merge did not end"
	rosnap remove id || fail "remove"
}

step "a GPT disk replaced by another of the same size"
wipe /dev/vdc
printf 'label: gpt\n,\n' | sfdisk -q /dev/vdc >/dev/null 2>&1 || fail "sfdisk"
slow_disk /dev/vdc slowvdc 20
journal_of_merge gpt
dmsetup remove slowvdc
printf 'label: gpt\n,\n' | sfdisk -q /dev/vdc >/dev/null 2>&1 || fail "sfdisk again"
slow_disk /dev/vdc slowvdc 20
before=$(sum_of /dev/vdc)
unchanged expect_fail 2 "is not the origin of /mnt/j/gpt: its partition table UUID is" \
	rosnap recover /mnt/j/gpt
assert_eq "$(sum_of /dev/vdc)" "$before" "the other disk"
[ -e /mnt/j/gpt ] || fail "the journal was deleted"

step "a journal of raw data names no origin"
dmsetup remove slowvdc
wipe /dev/vdc
dd if=/dev/urandom of=/dev/vdc bs=1M count=4 conv=fsync 2>/dev/null
slow_disk /dev/vdc slowvdc 20
journal_of_merge raw
before=$(sum_of /dev/vdc)
unchanged expect_fail 2 "records nothing that identifies its origin.*--origin" \
	rosnap recover /mnt/j/raw
assert_eq "$(sum_of /dev/vdc)" "$before" "the disk at the journal's path"
rosnap recover /mnt/j/raw --origin /dev/mapper/slowvdc >/dev/null 2>&1 ||
	fail "recover with --origin"
[ ! -e /mnt/j/raw ] || fail "the journal is left after the recovered merge"
rm -f /mnt/j/gpt
umount /mnt/j
dmsetup remove slowvdc
