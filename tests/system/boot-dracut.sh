# The root filesystem protected by an initrd made by dracut (Debian's
# default: no systemd in the initrd), rosnap installed with make install.
image dracut || return 0
pristine=$(image_sum)

boot protected rosnap
check "boot 1: / is rosnap-root, systemd is running, by-uuid points at it" step_ok
check "the disk image is byte-identical after a protected boot" \
	test "$(image_sum)" = "$pristine"
boot forgot rosnap
check "boot 2: boot 1's changes are gone, the data disk's are kept" step_ok
# A kernel that cannot load dm-snapshot (as if missing from the initrd).
boot fallback-ro rosnap module_blacklist=dm_snapshot
check "fallback ro: the disk boots read-only without dm-snapshot" step_ok
check "... the console says why" \
	console_says "rosnap: cannot load kernel module dm_snapshot"
check "the disk image is unchanged by the fallback" \
	test "$(image_sum)" = "$pristine"

# rosnap.store=: the dracut hook attaches the kept changes at each boot.
store_boots

boot fallback-rw rosnap rosnap.ram=99T rosnap.fallback=rw
check "fallback rw: the disk boots writable" step_ok
# dracut's die stops the boot in its emergency mode (rosnap-boot(7)).
boot --until "Entering emergency mode" panic-never rosnap rosnap.ram=99T rosnap.fallback=panic
check "fallback panic: the boot stops in dracut's emergency mode" \
	eval 'stopped_early && [ "$ended" = stopped ]'
check "fallback panic: rosnap's message says why" \
	console_says "rosnap: cannot protect the root filesystem .*stopping the boot \(rosnap.fallback=panic\)"
