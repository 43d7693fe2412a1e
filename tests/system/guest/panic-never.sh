#!/bin/sh
# With rosnap.fallback=panic and a snapshot that cannot be made, the
# system must never get here.
. /usr/local/lib/rosnap-test/lib.sh
fail "the system booted"
