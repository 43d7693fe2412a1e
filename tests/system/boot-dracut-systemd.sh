# The root filesystem protected by a dracut initrd running systemd: the
# generator makes sysroot.mount mount the protected device.
image dracut-systemd || return 0
pristine=$(image_sum)

boot protected rosnap
check "boot 1: / is rosnap-root, systemd is running, by-uuid points at it" step_ok
check "the disk image is byte-identical after a protected boot" \
	test "$(image_sum)" = "$pristine"
boot forgot rosnap
check "boot 2: boot 1's changes are gone, the data disk's are kept" step_ok
boot fallback-rw rosnap rosnap.ram=99T rosnap.fallback=rw
check "fallback rw: the disk boots writable" step_ok
