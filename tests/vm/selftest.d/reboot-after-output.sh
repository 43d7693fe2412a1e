#!/bin/sh
# Harness self-test: a test cuts the power in boot 1; boot 2 runs it again
# on the same disks, where what boot 1 synced is still there.
# boots: 2
# Two CPUs, as the boot tests have: the port's interrupt may wait for the
# other one, so the reset can come before the port has sent the marker.
# cpus: 2
. /tests/lib.sh
if [ "$ROSNAP_TEST_BOOT" = 1 ]; then
	echo "written in boot 1" | dd of=/dev/vdd conv=fsync 2>/dev/null
	# A burst of output just before the cut (lines the host ignores): the
	# powercut marker after it must still reach the host before the reset.
	# The port stays open meanwhile (as in the boot tests, whose runner
	# holds it), so no close waits for the output to be sent.
	exec 4>/dev/ttyS1
	i=0
	while [ $i -lt 300 ]; do
		echo "filler $i: output still queued in the serial port when the power is cut"
		i=$((i + 1))
	done >/dev/ttyS1
	powercut
fi
assert_eq "$ROSNAP_TEST_BOOT" 2 "boot"
assert_eq "$(head -c 17 /dev/vdd)" "written in boot 1" "the disk across the cut"
