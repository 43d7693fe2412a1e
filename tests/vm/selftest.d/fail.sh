#!/bin/sh
# Harness self-test: a check that does not hold must fail the run.
. /tests/lib.sh
assert_eq "$(echo 1)" 2 "a deliberately wrong expectation"
