#!/bin/sh
# Harness self-test: a guest kernel panic must fail the run.
echo 1 >/proc/sys/kernel/sysrq
echo c >/proc/sysrq-trigger
sleep 60
