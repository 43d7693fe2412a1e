#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The benchmark, in the test VM: rosnap (three compressors, brd, five
# chunk sizes) against the raw origin, overlayfs on tmpfs and a dm
# snapshot on a loop over a sparse tmpfs file (dracut's live images), on
# the same disk and data, in ROUNDS rounds whose order rotates, so that
# no configuration always runs first or last.  Prints
# "BENCH <key> <round> <value>" lines for tests/bench/run, which takes
# the median and the spread of each ratio over the rounds.
#
# Disks: /dev/vda (2G) the origin; /dev/vdb (1200M) a journal and LVM's
# volume group; /dev/vde (read-only) a tree of Debian's own files.
# timeout: 3600
. /tests/lib.sh
# A measurement, not a test: a step that fails leaves its figure out
# (null in the table).  lib.sh's set -e would end the whole run at the
# first command that fails, cleanup's included (make bench failed so).
set +eu
on_exit cleanup_all

ROUNDS=3
origin=/dev/vda
mnt=/mnt/b
mkdir -p $mnt /mnt/lower /mnt/up /mnt/tree /mnt/tmpfs
modprobe overlay
modprobe loop
modprobe dm_snapshot
modprobe zram

# Every configuration, in the order of the first round: rosnap on zram
# with each compressor (4K chunks), on brd, and the chunk sweep (zstd-NK);
# the peers; bare-* are the RAM devices alone, the reference for first
# writes.  rosnap's defaults are zstd (where the kernel has it) and 4K.
CONFIGS="raw zram-zstd zram-lzo-rle zram-lz4 brd zstd-8K zstd-16K zstd-32K zstd-64K
	overlay dracut bare-zstd bare-lzo-rle bare-lz4 bare-brd bare-loop"

out() { # KEY VALUE, for the round being run
	[ -n "$2" ] && echo "BENCH $1 $round $2"
}

once() { # KEY VALUE, a figure not measured per round
	[ -n "$2" ] && echo "BENCH $1 0 $2"
}

now_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

shmem() {
	awk '/^Shmem:/ { print $2 * 1024 }' /proc/meminfo
}

# Kernel objects the changes keep: dm-snapshot's exception table, tmpfs's
# inodes and dentries, overlayfs's inodes, the page-cache trees of tmpfs
# and brd.  Counted as live objects times their size, after the page
# cache is dropped, in caches of their own (the guest boots with
# slab_nomerge): the global Slab figure and free memory move by
# megabytes with reuse and the per-CPU lists.
kobj() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	live_bytes dm_exception shmem_inode_cache dentry ovl_inode radix_tree_node
}

# dm-snapshot's exception table alone.
dm_slab() {
	live_bytes dm_exception
}

live_bytes() { # CACHE...: their live objects times their size
	awk -v list=" $* " 'index(list, " " $1 " ") { n += $2 * $4 } END { print n + 0 }' \
		/proc/slabinfo
}

# Whether the configuration is a rosnap device (named bz).
is_rosnap() {
	case $cfg in zram-* | zstd-* | brd) return 0 ;; esac
	return 1
}

# What the store reports: rosnap's RAM figure (zram's pool, or brd's
# pages, and 32 bytes per exception), tmpfs's pages for overlayfs and
# dracut.
store_used() {
	sync
	if is_rosnap; then
		json_value bz ram_used_bytes
	else
		case $cfg in
		overlay | dracut) echo $(($(shmem) - base_shmem)) ;;
		*) echo 0 ;;
		esac
	fi
}

# Chunks dm-snapshot holds an exception for (the data chunks in the store).
exceptions() {
	if is_rosnap; then
		name=bz
	elif [ "$cfg" = dracut ]; then
		name=dracut
	else
		return
	fi
	dmsetup status $name | awk -v c="$chunk_sectors" '{
		split($4, a, "/"); print int((a[1] - $5) / c) }'
}

# fio throughput in bytes/s: fio_bw FILE RW BS SIZE [EXTRA...]
fio_bw() {
	f=$1 rw=$2 bs=$3 size=$4
	shift 4
	fio --name=b --filename="$f" --rw="$rw" --bs="$bs" --size="$size" \
		--ioengine=psync --randrepeat=1 --minimal "$@" 2>/dev/null |
		awk -F';' -v rw="$rw" '{
			# terse v3: read bw KiB/s in field 7, write bw in field 48
			if (rw ~ /read/) print $7 * 1024; else print $48 * 1024 }'
}

cleanup_all() {
	umount $mnt /mnt/lower /mnt/up /mnt/tmpfs /mnt/tree 2>/dev/null
	for n in $(rosnap list --json 2>/dev/null | sed -n 's/.*"name": *"\([^"]*\)".*/\1/p'); do
		rosnap remove "$n" 2>/dev/null
	done
	dmsetup remove dracut 2>/dev/null
	lvm vgremove -ff bench >/dev/null 2>&1
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

# --- configurations: setup NAME makes $dev (a block device, or none) ---

rosnap_dev() { # CREATE-OPTIONS...
	rosnap create $origin --name bz --ram 1536M "$@"
}

# A loop over a sparse file in a tmpfs, as dracut's live images make.
tmpfs_loop() {
	mount -t tmpfs -o size=2G tmpfs /mnt/tmpfs &&
		truncate -s 1536M /mnt/tmpfs/cow &&
		losetup -f --show /mnt/tmpfs/cow
}
tmpfs_loop_remove() { # LOOP
	losetup -d "$1"
	umount /mnt/tmpfs
}

setup() {
	cfg=$1
	dev=
	chunk_sectors=8
	case $cfg in
	raw) dev=$origin ;;
	zram-zstd)
		# rosnap's defaults, as a user gets them
		dev=$(rosnap_dev --backend zram)
		[ "$(json_value bz compression)" = zstd ] ||
			echo "bench: rosnap's default compression is not zstd here" >&2
		;;
	zram-*) dev=$(rosnap_dev --backend zram --compression "${cfg#zram-}") ;;
	zstd-*K)
		k=${cfg#zstd-}
		chunk_sectors=$((${k%K} * 2))
		dev=$(rosnap_dev --backend zram --compression zstd --chunk "$k")
		;;
	brd) dev=$(rosnap_dev --backend brd) ;;
	overlay)
		mount -o ro $origin /mnt/lower
		mount -t tmpfs -o size=2G tmpfs /mnt/up
		mkdir -p /mnt/up/upper /mnt/up/work
		;;
	dracut)
		loopdev=$(tmpfs_loop)
		blockdev --setro $origin
		dmsetup create dracut --table "0 $(blockdev --getsz $origin) snapshot $origin $loopdev PO 8"
		dmsetup mknodes dracut
		dev=/dev/mapper/dracut
		;;
	bare-brd)
		modprobe brd rd_nr=1 rd_size=$((1536 * 1024))
		dev=/dev/ram0
		;;
	bare-loop) dev=$(tmpfs_loop) ;;
	bare-*)
		id=$(cat /sys/class/zram-control/hot_add)
		echo "${cfg#bare-}" >/sys/block/zram$id/comp_algorithm
		echo 1536M >/sys/block/zram$id/disksize
		dev=/dev/zram$id
		;;
	esac
	[ "$cfg" = overlay ] || [ -b "$dev" ] || return 1
	base_shmem=$(shmem)
}

mount_it() {
	case $cfg in
	overlay)
		mount -t overlay overlay \
			-o lowerdir=/mnt/lower,upperdir=/mnt/up/upper,workdir=/mnt/up/work $mnt
		;;
	*) mount "$dev" $mnt ;;
	esac
}

teardown() {
	sync
	umount $mnt 2>/dev/null
	case $cfg in
	raw) ;;
	overlay) umount /mnt/lower /mnt/up ;;
	dracut)
		dmsetup remove dracut
		tmpfs_loop_remove "$loopdev"
		blockdev --setrw $origin
		;;
	bare-brd) rmmod brd ;;
	bare-loop) tmpfs_loop_remove "$dev" ;;
	bare-*)
		id=${dev#/dev/zram}
		echo 1 >/sys/block/zram$id/reset
		echo "$id" >/sys/class/zram-control/hot_remove
		;;
	*) rosnap remove bz ;;
	esac
}

# RAM a workload costs: ram_cost ROW COMMAND...  ROW_ram.CFG is the whole
# cost: the store's memory and the kernel objects the workload left;
# ROW_store.CFG is what the store (rosnap's status) reports.
ram_cost() {
	row=$1
	shift
	k0=$(kobj)
	s0=$(store_used)
	e0=$(exceptions)
	d0=$(dm_slab)
	"$@" >/dev/null 2>&1
	k1=$(kobj)
	s1=$(store_used)
	e1=$(exceptions)
	d1=$(dm_slab)
	# A figure that could not be read is left out, not taken as 0.
	case "$s0$s1" in *[!0-9-]* | '') return ;; esac
	[ -n "$s0" ] && [ -n "$s1" ] || return
	store=$((s1 - s0))
	# rosnap's figure counts 32 bytes per exception, which are in the slab.
	pages=$store
	! is_rosnap || pages=$((store - 32 * (e1 - e0)))
	out "${row}_ram.$cfg" $((pages + k1 - k0))
	out "${row}_store.$cfg" $store
	[ -z "$e0" ] || [ -z "$e1" ] || {
		out "${row}_exceptions.$cfg" $((e1 - e0))
		out "${row}_dm_slab.$cfg" $((d1 - d0))
	}
}

edit() { # FILE: 1000 scattered 4 KiB writes of new (random) data
	fio --name=e --filename="$1" --rw=randwrite --bs=4k --number_ios=1000 \
		--randrepeat=1 --ioengine=psync --refill_buffers --end_fsync=1
}

# One configuration in one round: every row its mechanism allows, each
# kind of row on a fresh device.
measure() {
	case $1 in
	bare-*) ;;
	*) fs_rows "$1" ;;
	esac
	case $1 in
	raw | overlay) ;;
	*) block_rows "$1" ;;
	esac
}

# Through the filesystem.  Reads are direct (no cache to flatter anyone);
# writes are buffered and end with fsync, as overlayfs's tmpfs upper takes
# no O_DIRECT.  Each write row has a file of its own, touched first there:
# overlayfs copies a whole file up at its first write.
fs_rows() {
	set_up "$1" || return
	mount_it || {
		echo "bench: $1 could not be mounted in round $round" >&2
		teardown
		return
	}
	out "read_seq_bw.$cfg" "$(fio_bw $mnt/big read 1M 768M --direct=1)"
	out "read_rand_bw.$cfg" "$(fio_bw $mnt/big randread 4k 768M --direct=1 --runtime=5 --time_based)"
	out "fs_first_write_bw.$cfg" "$(fio_bw $mnt/wr write 1M 128M --end_fsync=1)"
	out "fs_rewrite_bw.$cfg" "$(fio_bw $mnt/wr write 1M 128M --end_fsync=1)"
	[ "$cfg" = raw ] || {
		ram_cost edit edit $mnt/big
		ram_cost edit_typ edit $mnt/typ
		ram_cost new_data cp -a /mnt/tree $mnt/tree
	}
	teardown
}

# The block device itself: first writes, then the same again.
block_rows() {
	set_up "$1" || return
	out "first_write_bw.$cfg" "$(fio_bw "$dev" write 1M 128M --offset=1280M --direct=1 --refill_buffers)"
	out "first_write_rand_bw.$cfg" "$(fio_bw "$dev" randwrite 4k 32M --offset=1408M --direct=1 --refill_buffers)"
	out "rewrite_rand_bw.$cfg" "$(fio_bw "$dev" randwrite 4k 32M --offset=1408M --direct=1 --refill_buffers)"
	teardown
}

set_up() {
	setup "$1" && return
	echo "bench: $1 could not be set up in round $round" >&2
	teardown
	return 1
}

# The raw disk's writes change it: each round starts from the same origin.
prepare_origin() {
	mkfs_on $origin ext4 -b 4096
	mount $origin $mnt
	# Incompressible data, and typical data: Debian's own files, as a tar.
	for f in big:768M wr:128M; do
		fio --name=fill --filename=$mnt/${f%:*} --rw=write --bs=1M --size=${f#*:} \
			--refill_buffers --ioengine=psync >/dev/null 2>&1
	done
	for i in 1 2 3 4; do tar -C /mnt/tree -cf - .; done | head -c $((512 << 20)) >$mnt/typ
	sync
	umount $mnt
}

step "preparing the origin"
mount -o ro /dev/vde /mnt/tree
once tree_bytes "$(du -sb /mnt/tree | cut -f1)"
once edit_bytes $((1000 * 4096))
once kernel "$(uname -r)"
once mem_total "$(awk '/MemTotal/ { print $2 * 1024 }' /proc/meminfo)"
once rounds $ROUNDS

# The rounds, each in a rotated order.
n=$(echo $CONFIGS | wc -w)
round=1
while [ $round -le $ROUNDS ]; do
	step "round $round of $ROUNDS"
	prepare_origin
	start=$(((round - 1) * n / ROUNDS))
	set -- $CONFIGS
	shift $start
	order="$* $(echo $CONFIGS | cut -d' ' -f1-$start)"
	[ $start -gt 0 ] || order=$CONFIGS
	# Every other round backwards: no configuration keeps its neighbours.
	[ $((round % 2)) = 1 ] || order=$(echo $order | tr ' ' '\n' | sed -n '1!G;h;$p' | tr '\n' ' ')
	t0=$(now_ms)
	for c in $order; do
		measure "$c"
	done
	echo "bench: round $round took $((($(now_ms) - t0) / 1000)) s: $(echo $order)" >&2
	round=$((round + 1))
done

# --- merges of the same 448 MiB: rosnap, dd, and LVM's own ---
# LVM's origin and snapshot live on /dev/vdb: lvconvert --merge of a
# snapshot whose origin is not open starts at once; the kernel's merge is
# done when the snapshot-merge target has no exception left.
merge_data=/tmp/merge-data
dd if=/dev/urandom of=$merge_data bs=1M count=448 2>/dev/null
LVM_CONF='global { use_lvmpolld = 0 locking_dir = "/run/lock/lvm" } activation { udev_sync = 0 udev_rules = 0 monitoring = 0 } devices { obtain_device_list_from_udev = 0 }'
lvm_() {
	LVM_SUPPRESS_FD_WARNINGS=1 lvm "$@" --config "$LVM_CONF"
}
merge_rosnap() {
	dev=$(rosnap create $origin --name bz --backend zram --ram 1536M)
	dd if=$merge_data of="$dev" bs=1M seek=256 oflag=direct conv=fsync 2>/dev/null
	t0=$(now_ms)
	rosnap merge bz 2>/dev/null && out merge_ms $(($(now_ms) - t0))
	rosnap remove bz
}
merge_dd() {
	t0=$(now_ms)
	dd if=$merge_data of=$origin bs=1M seek=256 oflag=direct conv=fsync 2>/dev/null &&
		out dd_ms $(($(now_ms) - t0))
}
merge_lvm() {
	mkdir -p /run/lock/lvm
	wipefs -qa /dev/vdb
	lvm_ pvcreate -qq -y /dev/vdb >/dev/null &&
		lvm_ vgcreate -qq bench /dev/vdb >/dev/null &&
		lvm_ lvcreate -qq -y -n origin -L 512M bench >/dev/null &&
		lvm_ lvcreate -qq -y -s -n snap -c 4k -L 500M bench/origin >/dev/null || return
	dd if=$merge_data of=/dev/mapper/bench-snap bs=1M seek=32 oflag=direct conv=fsync 2>/dev/null
	t0=$(now_ms)
	lvm_ lvconvert -qq --merge --interval 1 bench/snap >/dev/null 2>&1 &
	pid=$!
	# Done when the merging snapshot's allocated sectors are its metadata
	# (the kernel's merge, not lvconvert's next poll: the figure favours
	# LVM; rosnap's is its whole command).
	seen= t1=
	while :; do
		st=$(dmsetup status bench-origin 2>/dev/null)
		case $st in
		*snapshot-merge*)
			seen=1
			echo "$st" | awk '{ split($4, a, "/"); exit !(a[1] == $5) }' && {
				t1=$(now_ms)
				break
			} ;;
		*) kill -0 $pid 2>/dev/null || break ;;
		esac
		sleep 0.05
	done
	wait $pid && [ -n "$seen" ] && [ -n "$t1" ] && out lvm_merge_ms $((t1 - t0))
	lvm_ vgremove -qq -ff bench >/dev/null 2>&1
	wipefs -qa /dev/vdb
}
round=1
while [ $round -le $ROUNDS ]; do
	step "merges, round $round"
	case $round in
	1) merge_rosnap; merge_dd; merge_lvm ;;
	2) merge_dd; merge_lvm; merge_rosnap ;;
	*) merge_lvm; merge_rosnap; merge_dd ;;
	esac
	round=$((round + 1))
done
once merge_bytes $((448 << 20))

# --- where the time goes: first writes and a merge, profiled ---
# cpu-clock samples of the whole guest (emulation has no hardware
# counters), by module and by function: "PROFILE <what> <line>".
profile() { # WHAT COMMAND...
	what=$1
	shift
	perf record -q -o /tmp/perf.data -a -g -e cpu-clock -F 499 -- "$@" >/dev/null 2>&1 || return
	# by thread (swapper is the idle CPU, waiting), by module, by function
	for sort in comm dso sym; do
		perf report -i /tmp/perf.data --stdio --no-children --sort $sort -g none \
			--percent-limit 2 2>/dev/null | grep '%' | sed "s/^/PROFILE $what.$sort /"
	done
	# and who calls the three costliest functions (the idle task aside)
	top=$(perf report -i /tmp/perf.data --stdio --no-children --sort comm,sym -g none 2>/dev/null |
		awk '/%/ && $2 != "swapper" && $3 == "[k]" { print $4 }' | head -n 3 |
		tr "\n" , | sed "s/,$//")
	[ -z "$top" ] || perf report -i /tmp/perf.data --stdio --no-children --sort sym \
		--symbols="$top" -g caller,2 2>/dev/null | grep -v '^#' | grep -v '^ *$' |
		head -n 90 | sed "s/^/PROFILE $what.calls /"
	rm -f /tmp/perf.data
}
step "profiles"
round=0
dev=$(rosnap_dev --backend zram)
profile first_write fio --name=p --filename="$dev" --rw=write --bs=1M --size=128M \
	--direct=1 --ioengine=psync --refill_buffers
dd if=$merge_data of="$dev" bs=1M count=256 seek=256 oflag=direct conv=fsync 2>/dev/null
profile merge rosnap merge bz
rosnap remove bz
rm -f $merge_data

# --- a journaled merge of a 1 GiB store: how long the device is frozen ---
# The store is copied into the journal while the device runs; frozen,
# rosnap reads it again and writes only what changed since (here
# nothing): the frozen time against one plain read of the store.
step "journaled merge"
dev=$(rosnap create $origin --name bz --backend zram --ram 1100M)
dd if=/dev/urandom of="$dev" bs=1M count=1024 oflag=direct conv=fsync 2>/dev/null
t0=$(now_ms)
dd if="$(json_value bz cow_device)" of=/dev/null bs=1M iflag=direct 2>/dev/null
out store_read_ms $(($(now_ms) - t0))
dd if=/dev/zero of=/dev/vdb bs=1M count=1 conv=fsync 2>/dev/null
t0=$(now_ms)
rosnap merge bz --journal /dev/vdb -v 2>/tmp/merge.log
out journal_merge_ms $(($(now_ms) - t0))
out journal_store_bytes $((1024 << 20))
out journal_frozen_ms "$(sed -n 's/.*merge-start: bz was suspended for \([0-9.]*\) s.*/\1/p' /tmp/merge.log |
	awk '{ printf "%d", $1 * 1000 }')"
rosnap remove bz

# --- create: rosnap against the bare sequence it replaces ---
step "create"
t0=$(now_ms)
for i in 1 2 3 4 5; do
	rosnap create $origin --name bz --ram 256M --backend zram >/dev/null
	rosnap remove bz
done
out create_ms $((($(now_ms) - t0) / 5))
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
out bare_create_ms $((($(now_ms) - t0) / 5))

# --- the boot integration's cost: "rosnap boot" with rosnap on and off ---
echo "root=/dev/vda rosnap" >/tmp/cmdline.on
echo "root=/dev/vda" >/tmp/cmdline.off
t0=$(now_ms)
for i in 1 2 3 4 5; do
	rosnap boot --cmdline /tmp/cmdline.off --config /nonexistent >/dev/null
done
out boot_off_ms $((($(now_ms) - t0) / 5))
t0=$(now_ms)
for i in 1 2 3 4 5; do
	rosnap boot --cmdline /tmp/cmdline.on --config /nonexistent >/dev/null
	rosnap remove rosnap-root
done
out boot_on_ms $((($(now_ms) - t0) / 5))
step "done"
