#!/bin/sh
# Harness self-test: a power cut in a test's last boot is a failure.
. /tests/lib.sh
powercut
