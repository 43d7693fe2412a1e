#!/bin/sh
# Harness self-test: a skip is reported as a skip, with its reason.
. /tests/lib.sh
skip "deliberately skipped"
