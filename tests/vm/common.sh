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
KERNEL_TROUBLE='BUG:|WARNING:|Oops|general protection|INFO: task .* blocked|KASAN|UBSAN|Kernel panic|Call Trace'

# Every guest boots with these.  Under emulation a vCPU that the host does
# not run for a while (three guests on two loaded cores) looks to the
# guest's watchdogs like a CPU stuck in the kernel: the soft-lockup
# detector and RCU's stall warning (21 s by default, seen once in CI with
# its "Call Trace" while udev loaded a module) measure the host, not the
# guest kernel.  Soft lockups are off; RCU waits its longest (300 s, longer
# than any test may take); hung tasks and oopses are still reported.
GUEST_WATCHDOGS='nosoftlockup rcupdate.rcu_cpu_stall_timeout=300'

die() {
	echo "vm: $*" >&2
	exit 1
}
