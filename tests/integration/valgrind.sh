#!/bin/sh
# The main verbs under valgrind's memcheck: no invalid access, no use of
# uninitialised memory, no leak.  (The release build: AddressSanitizer,
# in the other mode, does not run under valgrind.)
# modes: udev
# cost: 111
# timeout: 1500
. /tests/lib.sh
on_exit 'remove_all; umount /mnt/v 2>/dev/null'

command -v valgrind >/dev/null || fail "valgrind is not in the guest"
mkfs_on /dev/vdc ext4 -b 4096
mkdir -p /mnt/v

vg() { # ROSNAP-ARGS...
	echo "-- valgrind rosnap $*"
	rc=0
	valgrind -q --error-exitcode=99 --leak-check=full \
		--show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect \
		--log-file=/tmp/vg.log rosnap "$@" >/tmp/vg.out 2>/tmp/vg.err || rc=$?
	# (Its warnings about ioctls it does not know are not errors.)
	if [ $rc = 99 ] || grep -v -e 'unhandled ioctl' -e 'spurious value errors' \
		-e README_MISSING_SYSCALL /tmp/vg.log | grep -q .; then
		cat /tmp/vg.log
		fail "memcheck found errors in 'rosnap $*'"
	fi
	return $rc
}

vg create /dev/vdc --name vg --ram 32M || fail "create: $(cat /tmp/vg.err)"
mount /dev/mapper/vg /mnt/v || fail "mount"
dd if=/dev/urandom of=/mnt/v/data bs=1M count=4 2>/dev/null
sync
vg status || fail "status: $(cat /tmp/vg.err)"
vg status vg --json || fail "status --json: $(cat /tmp/vg.err)"
vg list --json || fail "list: $(cat /tmp/vg.err)"
vg grow vg --by 8M || fail "grow: $(cat /tmp/vg.err)"
vg merge vg || fail "merge: $(cat /tmp/vg.err)"
umount /mnt/v
dd if=/dev/urandom of=/dev/mapper/vg bs=4k count=8 conv=fsync 2>/dev/null
vg discard vg || fail "discard: $(cat /tmp/vg.err)"
vg remove vg || fail "remove: $(cat /tmp/vg.err)"
# An encrypted store on disk: libcryptsetup's share is freed too.
vg create /dev/vdc --name vg --store /dev/vdd --overwrite --encrypt ||
	fail "create --encrypt: $(cat /tmp/vg.err)"
vg status vg --json || fail "status --json, encrypted: $(cat /tmp/vg.err)"
vg remove vg || fail "remove, encrypted: $(cat /tmp/vg.err)"
# Failures free what they allocated too.
vg create /nonexistent || true  # its status, in $rc, is checked next
assert_eq "$rc" 3 "create of a missing origin"
echo "root=/dev/vdc rosnap rosnap.ram=lots rosnap.fallback=panic" >/tmp/cmdline
vg boot --config /dev/null --cmdline /tmp/cmdline || true  # checked next
assert_eq "$rc" 2 "boot with a bad setting"
echo "root=/dev/vdc rosnap rosnap.ram=32M" >/tmp/cmdline
vg boot --config /dev/null --cmdline /tmp/cmdline || fail "boot: $(cat /tmp/vg.err)"
vg remove rosnap-root || fail "remove rosnap-root: $(cat /tmp/vg.err)"
