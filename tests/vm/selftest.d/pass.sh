#!/bin/sh
# Harness self-test: a check that holds.
. /tests/lib.sh
assert_eq "$(echo 1)" 1 "echo"
