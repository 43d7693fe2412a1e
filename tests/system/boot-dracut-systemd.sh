# The root filesystem protected by a dracut initrd running systemd: the
# generator makes sysroot.mount mount the protected device.
# key= (no enable=: "rosnap" on the command line): the store and the
# save below are encrypted with LUKS2, the key file in the initrd and,
# for rosnap-save.service, in the root.
key_conf=/etc/rosnap/root.key
echo "key=$key_conf" >"$work/dracut-key.conf"
image dracut-systemd "$work/dracut-key.conf" || return 0
pristine=$(image_sum)

boot protected rosnap
check "boot 1: / is rosnap-root, systemd is running, by-uuid points at it" step_ok
check "the disk image is byte-identical after a protected boot" \
	test "$(image_sum)" = "$pristine"
boot forgot rosnap
check "boot 2: boot 1's changes are gone, the data disk's are kept" step_ok
boot fallback-rw rosnap rosnap.ram=99T rosnap.fallback=rw
check "fallback rw: the disk boots writable" step_ok
# rosnap-root.service fails, and with it sysroot.mount: the initrd's
# emergency mode (rosnap-boot(7)).
boot --until "Entering emergency mode|You are in emergency mode" panic-never \
	rosnap rosnap.ram=99T rosnap.fallback=panic
check "fallback panic: the boot stops in the initrd's emergency mode" \
	eval 'stopped_early && [ "$ended" = stopped ]'
check "fallback panic: rosnap's message says why" \
	console_says "rosnap: cannot protect the root filesystem .*stopping the boot \(rosnap.fallback=panic\)"

# journal= makes the generated service wait for the journal's device:
# started before it, the initrd would not see the interrupted merge.
boot journal-cut rosnap
check "a journaled merge of / is under way when the power is cut" \
	test "$step_result" = powercut
boot journal-recovered rosnap rosnap.journal=/dev/vdc
check "the next boot's initrd (systemd) finishes the merge" step_ok
check "... and says so" console_says "finished the merge from /dev/vdc"

# rosnap.store=: the generated service waits for the store's disk and
# attaches the kept changes at each boot.
store_boots

# rosnap.save=: the changes in RAM, saved to a disk by rosnap-save.service
# at a clean shutdown and restored by the next boot.
blank_vdc
before=$(image_sum)
boot save-made rosnap rosnap.save=/dev/vdc
check "rosnap.save= on a blank disk: the changes start in RAM, and rosnap-save.service runs" step_ok
check "... the clean shutdown saved them" \
	test "$(head -c 7 "$img/journal.img")" = ROSNAPS
plaintext_as_configured save
boot save-restored rosnap rosnap.save=/dev/vdc
check "the next boot restores the saved changes into RAM" step_ok
check "... and the console says so" console_says "restored from /dev/vdc"
check "the disk image is unchanged by the boots with a save" test "$(image_sum)" = "$before"
