#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The benchmark, in the test VM: rosnap against the raw origin, overlayfs
# on tmpfs, and a dm snapshot on a loop over a sparse tmpfs file (what
# dracut's live images do), on the same disk and data.  Prints
# "BENCH <key> <value>" lines for tests/bench/run.
#
# Disks: /dev/vda (2G) the origin; /dev/vdb (1200M) a journal;
# /dev/vde (read-only) a tree of Debian's own files for "new data".
# timeout: 3000
. /tests/lib.sh
# A measurement, not a test: a step that fails leaves its figure out
# (null in the table).  lib.sh's set -e would end the whole run at the
# first command that fails, cleanup's included (make bench failed so).
set +eu
on_exit cleanup_all

origin=/dev/vda
mnt=/mnt/b
mkdir -p $mnt /mnt/lower /mnt/up /mnt/tree /mnt/tmpfs
modprobe overlay
modprobe loop

out() {
	echo "BENCH $*"
}

now_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

shmem() {
	awk '/^Shmem:/ { print $2 * 1024 }' /proc/meminfo
}

# fio throughput in bytes/s: fio_bw FILE RW BS SIZE [EXTRA...]
fio_bw() {
	f=$1 rw=$2 bs=$3 size=$4
	shift 4
	fio --name=b --filename="$f" --rw="$rw" --bs="$bs" --size="$size" \
		--direct=1 --ioengine=psync --randrepeat=1 --minimal "$@" 2>/dev/null |
		awk -F';' -v rw="$rw" '{
			# terse v3: read bw KiB/s in field 7, write bw in field 48
			if (rw ~ /read/) print $7 * 1024; else print $48 * 1024 }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f\n", a / b; else print "null" }'
}

cleanup_all() {
	umount $mnt /mnt/lower /mnt/up /mnt/tmpfs /mnt/tree 2>/dev/null
	for n in $(rosnap list --json 2>/dev/null | sed -n 's/.*"name": *"\([^"]*\)".*/\1/p'); do
		rosnap remove "$n" 2>/dev/null
	done
	dmsetup remove dracut 2>/dev/null
	losetup -D 2>/dev/null
	for z in /sys/block/zram*; do
		n=${z##*/}
		[ "$n" = zram0 ] && continue
		echo 1 >"$z/reset" 2>/dev/null
		echo "${n#zram}" >/sys/class/zram-control/hot_remove 2>/dev/null
	done
	rmmod brd 2>/dev/null
	blockdev --setrw $origin 2>/dev/null
}

# --- configurations: setup NAME exposes $dev (block device) and $mnt ---

setup() {
	cfg=$1
	case $cfg in
	raw | raw-again)
		dev=$origin
		mount $origin $mnt
		;;
	zram-lz4)
		dev=$(rosnap create $origin --name bz --backend zram --compression lz4 --ram 1536M)
		mount "$dev" $mnt
		;;
	zram-default)
		dev=$(rosnap create $origin --name bz --backend zram --ram 1536M)
		mount "$dev" $mnt
		;;
	zram-zstd)
		dev=$(rosnap create $origin --name bz --backend zram --compression zstd --ram 1536M)
		mount "$dev" $mnt
		;;
	brd)
		dev=$(rosnap create $origin --name bz --backend brd --ram 1536M 2>/dev/null)
		mount "$dev" $mnt
		;;
	overlay)
		dev=
		mount -o ro $origin /mnt/lower
		mount -t tmpfs -o size=2G tmpfs /mnt/up
		mkdir -p /mnt/up/upper /mnt/up/work
		mount -t overlay overlay -o lowerdir=/mnt/lower,upperdir=/mnt/up/upper,workdir=/mnt/up/work $mnt
		;;
	dracut)
		mount -t tmpfs -o size=2G tmpfs /mnt/tmpfs
		truncate -s 1536M /mnt/tmpfs/cow
		loopdev=$(losetup -f --show /mnt/tmpfs/cow)
		blockdev --setro $origin
		dmsetup create dracut --table "0 $(blockdev --getsz $origin) snapshot $origin $loopdev PO 8"
		dmsetup mknodes dracut
		dev=/dev/mapper/dracut
		mount $dev $mnt
		;;
	esac
	base_shmem=$(shmem)
}

teardown() {
	sync
	umount $mnt 2>/dev/null
	case $cfg in
	overlay) umount /mnt/lower /mnt/up ;;
	dracut)
		dmsetup remove dracut
		losetup -d "$loopdev"
		umount /mnt/tmpfs
		blockdev --setrw $origin
		;;
	raw | raw-again) ;;
	*) rosnap remove bz ;;
	esac
}

# Memory the store takes now: the same measure for every configuration.
ram_used() {
	sync
	case $cfg in
	zram-* | brd) json_value bz ram_used_bytes ;;
	overlay | dracut) echo $(($(shmem) - base_shmem)) ;;
	raw | raw-again) echo 0 ;;
	esac
}

# --- the origin: ext4 with a 1G file, and the tree of files ---
step "preparing the origin"
mkfs_on $origin ext4 -b 4096
mount $origin $mnt
fio --name=fill --filename=$mnt/big --rw=write --bs=1M --size=1G --refill_buffers \
	--ioengine=psync >/dev/null 2>&1
sync
umount $mnt
mount -o ro /dev/vde /mnt/tree
tree_bytes=$(du -sb /mnt/tree | cut -f1)
out tree_bytes "$tree_bytes"
out kernel "$(uname -r)"
out mem_total "$(awk '/MemTotal/ { print $2 * 1024 }' /proc/meminfo)"

# --- reads of unchanged data ---
# The raw disk first and last: the host's cache warms as the run goes, and
# the faster of the two is the baseline (never flattering rosnap).
step "reads"
for cfg in raw zram-lz4 zram-default brd overlay dracut raw-again; do
	setup $cfg
	seq=$(fio_bw $mnt/big read 1M 256M)
	rand=$(fio_bw $mnt/big randread 4k 1G --runtime=8 --time_based)
	out "read_seq_bw.$cfg" "$seq"
	out "read_rand_bw.$cfg" "$rand"
	teardown
done

# --- RAM for 1000 scattered 4K edits in the 1G file ---
step "edits"
for cfg in zram-lz4 zram-default brd overlay dracut; do
	setup $cfg
	before=$(ram_used)
	fio --name=e --filename=$mnt/big --rw=randwrite --bs=4k --size=1G \
		--number_ios=1000 --randrepeat=1 --direct=1 --ioengine=psync \
		--refill_buffers >/dev/null 2>&1
	after=$(ram_used)
	out "edit_ram.$cfg" $((after - before))
	teardown
done
out edit_bytes $((1000 * 4096))

# --- RAM for a tree of new files ---
step "new data"
for cfg in zram-lz4 zram-default zram-zstd brd overlay dracut; do
	setup $cfg
	before=$(ram_used)
	cp -a /mnt/tree $mnt/tree
	after=$(ram_used)
	out "new_data_ram.$cfg" $((after - before))
	teardown
done

# --- first writes through the snapshot, and the bare RAM device ---
step "first writes"
bare_zram() { # ALGO
	id=$(cat /sys/class/zram-control/hot_add)
	echo "$1" >/sys/block/zram$id/comp_algorithm
	echo 1536M >/sys/block/zram$id/disksize
	echo /dev/zram$id
}
drop_zram() {
	id=${1#/dev/zram}
	echo 1 >/sys/block/zram$id/reset
	echo "$id" >/sys/class/zram-control/hot_remove
}
for algo in lz4 lzo-rle; do
	z=$(bare_zram $algo)
	out "bare_write_seq_bw.$algo" "$(fio_bw "$z" write 1M 256M --refill_buffers)"
	drop_zram "$z"
	z=$(bare_zram $algo)
	out "bare_write_rand_bw.$algo" "$(fio_bw "$z" randwrite 4k 64M --refill_buffers)"
	drop_zram "$z"
done
for cfg in zram-lz4 zram-default brd; do
	setup $cfg
	umount $mnt
	out "first_write_seq_bw.$cfg" "$(fio_bw "$dev" write 1M 256M --offset=512M --refill_buffers)"
	out "first_write_rand_bw.$cfg" "$(fio_bw "$dev" randwrite 4k 64M --offset=1024M --refill_buffers)"
	out "rewrite_rand_bw.$cfg" "$(fio_bw "$dev" randwrite 4k 64M --offset=1024M --refill_buffers)"
	rosnap remove bz
	cfg=raw
done

# --- the chunk size: reads of unchanged data (dm-snapshot splits every
# bio at chunk boundaries), first writes, the store's own metadata ---
step "chunk sizes"
out chunk_read_bw.raw "$(fio_bw $origin read 1M 256M)"
for chunk in 4K 16K 64K; do
	dev=$(rosnap create $origin --name bz --backend zram --ram 1536M --chunk $chunk)
	out "chunk_read_bw.$chunk" "$(fio_bw "$dev" read 1M 256M)"
	out "chunk_write_bw.$chunk" "$(fio_bw "$dev" write 1M 256M --refill_buffers)"
	meta=$(dmsetup status bz | awk '{ print $5 * 512 }')
	out "chunk_metadata.$chunk" "$meta"
	rosnap remove bz
done

# --- a live merge, against writing the same bytes to the origin ---
step "merge"
dev=$(rosnap create $origin --name bz --backend zram --ram 1536M)
dd if=/dev/urandom of=/tmp/merge-data bs=1M count=448 2>/dev/null
dd if=/tmp/merge-data of="$dev" bs=1M seek=256 oflag=direct conv=fsync 2>/dev/null
t0=$(now_ms)
rosnap merge bz 2>/dev/null
t1=$(now_ms)
rosnap remove bz
out merge_ms $((t1 - t0))
t0=$(now_ms)
dd if=/tmp/merge-data of=$origin bs=1M seek=256 oflag=direct conv=fsync 2>/dev/null
t1=$(now_ms)
out dd_ms $((t1 - t0))
out merge_bytes $((448 << 20))
rm -f /tmp/merge-data

# --- a journaled merge of a 1 GiB store: how long the device is frozen ---
# The store is copied into the journal while the device runs; frozen,
# rosnap reads it again and writes only what changed since (here
# nothing): the frozen time against one plain read of the store.
step "journaled merge"
dev=$(rosnap create $origin --name bz --backend zram --ram 1100M)
dd if=/dev/urandom of="$dev" bs=1M count=1024 oflag=direct conv=fsync 2>/dev/null
t0=$(now_ms)
dd if="$(json_value bz cow_device)" of=/dev/null bs=1M iflag=direct 2>/dev/null
t1=$(now_ms)
out store_read_ms $((t1 - t0))
dd if=/dev/zero of=/dev/vdb bs=1M count=1 conv=fsync 2>/dev/null
t0=$(now_ms)
rosnap merge bz --journal /dev/vdb -v 2>/tmp/merge.log
t1=$(now_ms)
out journal_merge_ms $((t1 - t0))
out journal_store_bytes $((1024 << 20))
out journal_frozen_ms "$(sed -n 's/.*merge-start: bz was suspended for \([0-9.]*\) s.*/\1/p' /tmp/merge.log |
	awk '{ printf "%d", $1 * 1000 }')"
rosnap remove bz

# --- create: rosnap against the bare sequence it replaces ---
step "create"
modprobe dm_snapshot
modprobe zram
t0=$(now_ms)
for i in 1 2 3 4 5; do
	rosnap create $origin --name bz --ram 256M --backend zram >/dev/null
	rosnap remove bz
done
t1=$(now_ms)
out create_ms $(((t1 - t0) / 5))
t0=$(now_ms)
for i in 1 2 3 4 5; do
	id=$(cat /sys/class/zram-control/hot_add)
	echo 256M >/sys/block/zram$id/disksize
	blockdev --setro $origin
	dmsetup create bz --table "0 $(blockdev --getsz $origin) snapshot $(cat /sys/block/vda/dev) $(cat /sys/block/zram$id/dev) PO 8"
	dmsetup remove bz
	blockdev --setrw $origin
	echo 1 >/sys/block/zram$id/reset
	echo "$id" >/sys/class/zram-control/hot_remove
done
t1=$(now_ms)
out bare_create_ms $(((t1 - t0) / 5))

# --- the boot integration's cost: "rosnap boot" with rosnap on and off ---
echo "root=/dev/vda rosnap" >/tmp/cmdline.on
echo "root=/dev/vda" >/tmp/cmdline.off
t0=$(now_ms)
for i in 1 2 3 4 5; do
	rosnap boot --cmdline /tmp/cmdline.off --config /nonexistent >/dev/null
done
t1=$(now_ms)
out boot_off_ms $(((t1 - t0) / 5))
t0=$(now_ms)
for i in 1 2 3 4 5; do
	rosnap boot --cmdline /tmp/cmdline.on --config /nonexistent >/dev/null
	rosnap remove rosnap-root
done
t1=$(now_ms)
out boot_on_ms $(((t1 - t0) / 5))
step "done"
