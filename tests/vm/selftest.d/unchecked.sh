#!/bin/sh
# Harness self-test: a command that fails unchecked stops the test and
# fails it (lib.sh's set -e), with nothing after it run.
. /tests/lib.sh
false
echo "went on after a failed command"
