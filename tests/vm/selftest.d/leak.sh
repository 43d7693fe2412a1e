#!/bin/sh
# Harness self-test: a test that leaves a zram device behind fails.
. /tests/lib.sh
modprobe zram
id=$(cat /sys/class/zram-control/hot_add)
echo 16M >"/sys/block/zram$id/disksize"
exit 0
