# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the VM harness: where things are.

# Downloaded kernels and packages live outside the work tree.
if [ -n "${ROSNAP_CACHE:-}" ]; then
	CACHE=$ROSNAP_CACHE
elif [ "$(id -u)" -eq 0 ]; then
	CACHE=/var/cache/rosnap-test
else
	CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/rosnap-test
fi

# The guest kernel tree: boot/vmlinuz-$KVER and lib/modules/$KVER.
KROOT=$CACHE/kernel
# The udev package's files, for guests that run systemd-udevd.
UDEVROOT=$CACHE/udev

kernel_version() {
	ls "$KROOT/lib/modules" 2>/dev/null | head -n 1
}

# What the kernel must never say during a test (the integration guests
# get it through their configuration; the boot tests scan their console).
# Guests boot with nosoftlockup: under emulation a vCPU that the host does
# not run for a while (a loaded machine) looks like a soft lockup, which
# says nothing about the guest kernel; hung tasks are still reported.
KERNEL_TROUBLE='BUG:|WARNING:|Oops|general protection|INFO: task .* blocked|KASAN|UBSAN|Kernel panic|Call Trace'

die() {
	echo "vm: $*" >&2
	exit 1
}
