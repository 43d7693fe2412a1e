#!/bin/sh
# Power cuts with a real disk's flush semantics, during a journaled merge:
# the origin and the journal (one disk, two parts) sit on dm-log-writes,
# which logs each write in the order it became durable and marks every
# FLUSH and FUA.  Replaying the log's first N entries onto the disk as it
# was gives the disk as a cut after entry N could leave it: a write that
# the code did not flush before depending on it is missing there.  For
# each crash state (each flush or FUA point, and half-way between two):
# "rosnap recover" on a throw-away snapshot of the state; the origin must
# then be unchanged (the journal was not complete) or hold every change,
# fsck-clean.  Covers cuts during the journal copy and during the merge.
# make check replays a sample of the states; make crash
# (ROSNAP_TEST_EXHAUSTIVE=1) replays them all.
# modes: plain
# cost: 75
# timeout: 900
# timeout-exhaustive: 7200
. /tests/lib.sh
on_exit 'dmsetup remove_all --force >/dev/null 2>&1; remove_all'
modprobe dm-log-writes || fail "no dm-log-writes"

# Sizes in 512-byte sectors: the origin, then the journal, on vdb.
osz=131072 jsz=65536
dsz=$((osz + jsz))
table() { # NAME TABLE
	dmsetup create "$1" --table "$2" && dmsetup mknodes "$1" || fail "dmsetup create $1"
}
split_disk() { # PREFIX DEVICE: PREFIX-o (origin) and PREFIX-j (journal)
	table "$1-o" "0 $osz linear $2 0"
	table "$1-j" "0 $jsz linear $2 $osz"
}

step "the changes, and the disk before the merge"
split_disk pre /dev/vdb
# No journal left there by an earlier test: the first states must not
# find one.
dd if=/dev/zero of=/dev/mapper/pre-j bs=1M count=$((jsz / 2048)) conv=fsync 2>/dev/null
mkfs_on /dev/mapper/pre-o ext4 -b 4096
dmsetup remove pre-o pre-j
dd if=/dev/vdb of=/dev/vda bs=1M count=$((dsz / 2048)) conv=fsync 2>/dev/null
wipe /dev/vdc
table lw "0 $dsz log-writes /dev/vdb /dev/vdc"
split_disk lw /dev/mapper/lw
unchanged_sum=$(sum_of /dev/mapper/lw-o)
rosnap create /dev/mapper/lw-o --name cr --ram 48M >/dev/null || fail "create"
mkdir -p /mnt/cr
mount /dev/mapper/cr /mnt/cr || fail "mount"
dd if=/dev/urandom of=/mnt/cr/big bs=1M count=12 2>/dev/null
cp -a /usr/sbin /mnt/cr/sbin
umount /mnt/cr
merged_sum=$(sum_of /dev/mapper/cr)

step "a journaled merge, logged"
dmsetup message lw 0 mark merge-start || fail "mark"
rosnap merge cr --journal /dev/mapper/lw-j 2>/tmp/err || fail "merge: $(cat /tmp/err)"
dmsetup message lw 0 mark merge-end || fail "mark"
assert_eq "$(sum_of /dev/mapper/lw-o)" "$merged_sum" "the origin after the logged merge"
rosnap remove cr || fail "remove"
dmsetup remove lw-o lw-j lw || fail "removing the logged stack"

# Crash states, as "PREFIX EXTRA KIND": the log's first PREFIX entries,
# plus entry EXTRA alone (0: none).  Between two FLUSH or FUA entries the
# writes may reach the disk in any order, so each group of writes gives:
#   flush    the group whole (the flush entry);
#   between  the group's first half (in a long group, its quarters: long);
#   tail     the group's last write alone, the others lost: a write that
#            depends on the others (a header saying "data complete")
#            without a flush before it shows up here.
rosnap-test-replay-log /dev/vdc list >/tmp/lw.list || fail "cannot read the log"
start=$(awk '/ merge-start$/ { print $1 }' /tmp/lw.list)
[ -n "$start" ] || fail "no merge-start mark in the log"
awk -v s="$start" '$1 > s && $2 ~ /[FU]/ { print $1 }' /tmp/lw.list >/tmp/flushes
nflush=$(grep -c . /tmp/flushes)
[ "$nflush" -ge 10 ] || fail "only $nflush flush points: the log is not what was expected"
awk -v s="$start" 'BEGIN { prev = s }
	{
		g = $1 - prev
		if (g > 2)
			print prev, $1 - 1, (g > 8 ? "long-tail" : "tail")
		if (g > 8) {
			print int(prev + g / 4), 0, "long"
			print int(prev + g / 2), 0, "long"
			print int(prev + 3 * g / 4), 0, "long"
		} else if (g > 1) {
			print int(prev + g / 2), 0, "between"
		}
		print $1, 0, "flush"
		prev = $1
	}' /tmp/flushes >/tmp/all
npoints=$(grep -c . /tmp/all)
if [ "${ROSNAP_TEST_EXHAUSTIVE:-0}" = 1 ]; then
	cp /tmp/all /tmp/points
else
	# A sample: every state of a long group of writes (the journal copy),
	# and about ten others spread over the merge, the last one included.
	every=$(((npoints + 9) / 10))
	awk -v e="$every" '$3 ~ /^long/ || NR % e == 1' /tmp/all >/tmp/points
	tail -n 1 /tmp/all | grep -vxF -f /tmp/points >>/tmp/points
fi
echo "log: $(grep -c . /tmp/lw.list) entries, $nflush flush/FUA points in the merge; replaying $(grep -c . /tmp/points) of $npoints states"

step "replay each crash state and recover"
table rp "0 $dsz linear /dev/vda 0"
rosnap-test-replay-log /dev/vdc replay /dev/mapper/rp 1 "$start" || fail "replay up to the merge"
done_to=$start
states=0 unchanged=0 merged=0 bad=0
while read -r n extra kind; do
	if [ "$n" -gt "$done_to" ]; then
		rosnap-test-replay-log /dev/vdc replay /dev/mapper/rp $((done_to + 1)) "$n" ||
			fail "replay to entry $n"
		done_to=$n
	fi
	[ "$n" = "$done_to" ] || fail "state $n after $done_to: the states are out of order"
	# Recover on a throw-away copy: a snapshot whose store is discarded.
	table sc "0 $dsz snapshot /dev/mapper/rp /dev/vdd N 8"
	if [ "$extra" != 0 ]; then
		rosnap-test-replay-log /dev/vdc replay /dev/mapper/sc "$extra" "$extra" ||
			fail "replay of entry $extra"
	fi
	split_disk sc /dev/mapper/sc
	rc=0
	rosnap recover /dev/mapper/sc-j --origin /dev/mapper/sc-o >/tmp/rec 2>&1 || rc=$?
	sum=$(sum_of /dev/mapper/sc-o)
	states=$((states + 1))
	if [ "$sum" = "$unchanged_sum" ]; then
		unchanged=$((unchanged + 1)) what=unchanged
	elif [ "$sum" = "$merged_sum" ]; then
		merged=$((merged + 1)) what=merged
	else
		bad=$((bad + 1)) what=BAD
	fi
	if [ $what != BAD ] && ! e2fsck -fn /dev/mapper/sc-o >/tmp/fsck 2>&1; then
		bad=$((bad + 1)) what="BAD (fsck)"
	fi
	echo "$kind state: entries 1-$n$([ "$extra" = 0 ] || echo " and $extra"): recover exit $rc, origin $what"
	case $what in BAD*) sed 's/^/    /' /tmp/rec ;; esac
	dmsetup remove sc-o sc-j sc || fail "removing the state's devices"
done </tmp/points
dmsetup remove rp
echo "crash states: $states replayed, $unchanged left the origin unchanged, $merged merged, $bad bad"
[ $bad = 0 ] || fail "$bad crash states left the origin neither unchanged nor merged"
[ $merged -gt 0 ] && [ $unchanged -gt 0 ] || fail "the states do not span the merge"
