#!/bin/sh
# Harness self-test: a test during which the kernel logs a WARNING fails,
# though the test itself passes (the line is planted through /dev/kmsg).
echo "WARNING: CPU: 0 PID: $$ at selftest: a planted kernel warning" >/dev/kmsg
exit 0
