#!/bin/sh
# Bad input to create, remove, status and list: a clear error, the
# documented exit status, and the kernel exactly as before.
# modes: plain udev
# timeout: 600
. /tests/lib.sh
trap 'remove_all; umount /mnt/m 2>/dev/null; dmsetup remove slowvda 2>/dev/null' EXIT

mkfs_on /dev/vdc ext4 -b 4096
mkfs_on /dev/vdd ext4 -b 4096
mkdir -p /mnt/m
echo "not a disk image" >/tmp/text
truncate -s 1000 /tmp/odd
truncate -s 4M /tmp/blank
mkdir -p /tmp/dir

bad() { # STATUS PATTERN ARGS...
	want=$1 pattern=$2
	shift 2
	echo "-- rosnap $*"
	unchanged expect_fail "$want" "$pattern" rosnap "$@"
}

step "origins"
bad 3 "/nonexistent: No such file" create /nonexistent
bad 2 "not a block device or a disk image" create /dev/null
bad 2 "not a block device or a disk image" create /tmp/dir
bad 2 "/tmp/text is not a disk image: its size \\(17 bytes\\)" create /tmp/text
bad 2 "not a non-zero multiple of 512" create /tmp/odd
bad 2 "not a disk image: it holds no filesystem" create /tmp/blank
bad 3 "no device has UUID=0000" create UUID=00000000-0000-0000-0000-000000000000
bad 2 "no origin given" create ""
bad 2 "no ORIGIN given" create
bad 2 "unexpected argument" create /dev/vdc /dev/vdd

step "busy origins"
mount /dev/vdc /mnt/m
bad 4 "mounted on /mnt/m \\(read-write\\); unmount it first" create /dev/vdc
umount /mnt/m
mount -o ro /dev/vdc /mnt/m
bad 4 "mounted on /mnt/m \\(read-only\\)" create /dev/vdc
umount /mnt/m
rosnap create /dev/vdd --name taken --ram 48M >/dev/null || fail "create taken"
bad 4 "in use by dm-[0-9]+ \\(taken\\)" create /dev/vdd
bad 2 "is a rosnap device \\(taken\\)" create /dev/mapper/taken
bad 4 "in use by dm-[0-9]+ \\(taken-cow\\)" create "$(json_value taken cow_device)"
bad 2 "is an internal layer of a rosnap device \\(taken-cow\\)" create /dev/mapper/taken-cow

step "names"
bad 4 "a device named taken already exists" create /dev/vdc --name taken
dmsetup create squat --table "0 8 error" || fail "dmsetup"
bad 4 "a device named squat already exists" create /dev/vdc --name squat
dmsetup create x-cow --table "0 8 error" || fail "dmsetup"
bad 4 "x-cow already exists \\(the name rosnap needs" create /dev/vdc --name x
dmsetup remove x-cow squat
bad 2 "invalid name '': the name is empty" create /dev/vdc --name ""
bad 2 "contains '/'" create /dev/vdc --name a/b
bad 2 "longer than 100 characters" create /dev/vdc --name "$(printf 'n%.0s' $(seq 101))"
bad 2 "reserved for rosnap's internal layer" create /dev/vdc --name my-cow
bad 2 "character other than" create /dev/vdc --name '$(reboot)'
bad 2 "character other than" create /dev/vdc --name "$(printf 'a\nb')"
bad 2 "starts with" create /dev/vdc --name -dash

step "sizes"
bad 2 "--ram must be more than zero" create /dev/vdc --ram 0
bad 2 "invalid --ram '-1G'" create /dev/vdc --ram -1G
bad 2 "invalid --ram 'lots'" create /dev/vdc --ram lots
bad 2 "invalid --ram '1.5G'" create /dev/vdc --ram 1.5G
bad 2 "invalid --ram '0%'" create /dev/vdc --ram 0%
bad 2 "invalid --ram '101%'" create /dev/vdc --ram 101%
bad 2 "invalid --ram '99999999999999999999'" create /dev/vdc --ram 99999999999999999999
bad 2 "more than this machine's memory" create /dev/vdc --ram 64G
bad 2 "too small.*at least 1M" create /dev/vdc --ram 4K
bad 2 "invalid chunk size 3072: it must be a power of two" create /dev/vdc --chunk 3K
bad 2 "invalid chunk size 2097152" create /dev/vdc --chunk 2M
bad 2 "invalid --chunk '0'" create /dev/vdc --chunk 0
bad 2 "chunk size 512 is not a multiple of 4096" create /dev/vdc --chunk 512

step "backends and compression"
bad 2 "unknown backend 'tmpfs': use zram or brd" create /dev/vdc --backend tmpfs
bad 2 "unknown backend 'file'" create /dev/vdc --backend file
bad 2 "no compression algorithm \"nosuch\"; it offers: .*lz4" create /dev/vdc --compression nosuch
bad 2 "invalid compression algorithm name" create /dev/vdc --compression 'lz4;reboot'
bad 2 "compression applies to zram only" create /dev/vdc --backend brd --compression lz4

step "options and verbs"
bad 2 "unrecognized option '--frobnicate'" create /dev/vdc --frobnicate
bad 2 "requires an argument" create /dev/vdc --ram
bad 2 "unknown verb 'frobnicate'" frobnicate
bad 2 "no device given" remove
bad 2 "unexpected argument" remove a b
bad 2 "unexpected argument" status a b
bad 2 "unexpected argument" list extra
bad 3 "nosuch is not a rosnap device" remove nosuch
bad 3 "is not a rosnap device" remove /dev/vdc
bad 3 "is not a rosnap device" remove taken-cow
bad 3 "is not a rosnap device" remove /nonexistent

step "merge, discard, protect, recover"
bad 2 "no device given" merge
bad 3 "nosuch is not a rosnap device" merge nosuch
bad 2 "needs an absolute path, not 'j'" merge taken --journal j
bad 2 "unexpected argument" merge taken other
bad 2 "unrecognized option '--now'" merge taken --now
bad 3 "nosuch is not a rosnap device" discard nosuch
bad 2 "no device given" discard
bad 2 "invalid --ram 'x'" protect taken --ram x
bad 2 "--ram must be more than zero" protect taken --ram 0
bad 2 "taken is active, not unprotected" protect taken
bad 3 "nosuch is not a rosnap device" protect nosuch
bad 2 "no journal given" recover
bad 3 "cannot open the journal /nonexistent" recover /nonexistent
bad 2 "/tmp/text is not a rosnap merge journal: too short" recover /tmp/text
truncate -s 8192 /tmp/zeros
bad 2 "not a usable rosnap merge journal: it is not a rosnap merge journal" recover /tmp/zeros
bad 2 "is not a file or a block device" recover /tmp/dir

step "verbs on a merging device"
wipe /dev/vda
slow_disk /dev/vda slowvda 20
rosnap create /dev/mapper/slowvda --name slow --ram 64M --backend zram >/dev/null || fail "create slow"
dd if=/dev/urandom of=/dev/mapper/slow bs=1M count=40 conv=fsync 2>/dev/null
rosnap merge slow --no-wait 2>/dev/null || fail "merge --no-wait"
[ "$(json_value slow state)" = merging ] || fail "the merge ended too soon to test verbs during it"
expect_fail 4 "it is merging, and removing it now would leave /dev/dm-[0-9]+ half merged" rosnap remove slow
expect_fail 4 "slow is merging: part of its changes are in /dev/dm-[0-9]+ already" rosnap discard slow
wait_state slow active
rosnap remove slow
dmsetup remove slowvda

step "not root"
for args in "create /dev/vdc" "remove taken" "status" "list" "merge taken" \
	"discard taken" "protect taken" "recover /tmp/j"; do
	# shellcheck disable=SC2086
	unchanged expect_fail 5 "permission denied: rosnap .* must run as root" \
		su -s /bin/sh nobody -c "rosnap $args"
done
rosnap remove taken || fail "remove taken"
