#!/bin/sh
# Harness self-test: a test cuts the power in boot 1; boot 2 runs it again
# on the same disks, where what boot 1 synced is still there.
# boots: 2
. /tests/lib.sh
if [ "$ROSNAP_TEST_BOOT" = 1 ]; then
	echo "written in boot 1" | dd of=/dev/vdd conv=fsync 2>/dev/null
	powercut
fi
assert_eq "$ROSNAP_TEST_BOOT" 2 "boot"
assert_eq "$(head -c 17 /dev/vdd)" "written in boot 1" "the disk across the cut"
