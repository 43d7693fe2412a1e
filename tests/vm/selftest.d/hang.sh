#!/bin/sh
# Harness self-test: a guest that stops reporting must fail the run.
# Stopping every other process (busybox's timeout keeps its timer in a
# child) means nothing in the guest can end this test: only the host's
# deadline can.
# timeout: 5
kill -STOP -1
sleep 100000
