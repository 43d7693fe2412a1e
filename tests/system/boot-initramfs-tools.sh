# The root filesystem protected by the initramfs made by initramfs-tools
# (Debian's update-initramfs), rosnap installed from its Debian packages
# (make deb) with dpkg -i into a system whose initramfs was made before:
# the packages' trigger makes it again.  Enabled as the README says:
# enable=yes in /etc/rosnap/boot.conf, written before.  Boots name
# "rosnap" on the command line all the same (but one), rosnap=off
# overrides boot.conf, and the last two boots purge the packages and
# boot without them.
# key=: the store of rosnap.store= below is encrypted with LUKS2, its key
# file in the initramfs.
key_conf=/etc/rosnap/root.key
printf 'enable=yes\nkey=%s\n' "$key_conf" >"$work/enable.conf"
image --deb initramfs-tools "$work/enable.conf" || return 0
pristine=$(image_sum)

boot protected rosnap
check "boot 1: / is rosnap-root, systemd is running, by-uuid points at it" step_ok
check "boot 1: the console says the root is protected" \
	console_says "rosnap: protecting the root filesystem"
check "the disk image is byte-identical after a protected boot" \
	test "$(image_sum)" = "$pristine"
boot forgot rosnap
check "boot 2: boot 1's changes are gone, the data disk's are kept" step_ok

boot panic-never rosnap rosnap.ram=99T rosnap.fallback=panic
check "fallback panic: the boot stops in the initramfs, which restarts" \
	eval 'stopped_early && [ "$ended" = restart ]'
check "fallback panic: rosnap's message says why" \
	console_says "rosnap: cannot protect the root filesystem .*stopping the boot \(rosnap.fallback=panic\)"
boot fallback-ro rosnap rosnap.ram=lots
check "a bad rosnap.ram is reported and falls back (ro, the default)" step_ok
check "... the console names the setting" console_says "rosnap.ram=lots: not a size"
check "the disk image is unchanged by the fallbacks" \
	test "$(image_sum)" = "$pristine"

# rosnap.store=: the root's changes kept on a disk of their own (encrypted)
# across reboots; a root written since (here by the rw fallback) is not
# attached anyway; rosnap.reset drops the changes.
store_boots
boot fallback-rw rosnap rosnap.ram=99T rosnap.fallback=rw
check "fallback rw: the disk boots writable" step_ok
boot fallback-ro rosnap rosnap.store=/dev/vdc
check "a root written since its store was attached: not attached, the fallback (ro)" step_ok
check "... the console says why" console_says "was written since"
check "... and that the root boots read-only" \
	console_says "cannot protect the root filesystem .*booting it read-only"
before=$(image_sum)
boot store-reset rosnap rosnap.store=/dev/vdc rosnap.reset
check "rosnap.reset drops the kept changes" step_ok
check "the disk image is unchanged by the reset" test "$(image_sum)" = "$before"

boot merge-root rosnap
check "a live merge of /" step_ok
boot merged rosnap
check "the merged change persists, later writes do not" step_ok

blank_vdc
boot journal-cut rosnap
check "a journaled merge of / is under way when the power is cut" \
	test "$step_result" = powercut
boot journal-recovered rosnap rosnap.journal=/dev/vdc
check "the next boot's initramfs finishes the merge" step_ok
check "... and says so" console_says "finished the merge from /dev/vdc"

# boot.conf's enable=yes, in the initramfs since the packages' trigger
# made it: no "rosnap" on this command line.  It blacklists
# zram: brd, the fallback, serves.
boot enabled module_blacklist=zram
check "enable=yes in boot.conf protects a boot with no rosnap on the command line, on brd without zram" \
	step_ok
check "... the console says why brd" \
	console_says "rosnap: using brd instead of zram for .*cannot load kernel module zram"

# Last: the packages purged from the disk itself (rosnap=off), then a boot
# that asks for rosnap, on a system that no longer has it.
boot purge rosnap=off
check "rosnap=off: the disk itself, writable (boot.conf says enable=yes); dpkg --purge leaves no file of the packages, and their trigger takes rosnap out of the initramfs" \
	step_ok
check "... the initramfs it made, read from the disk for the next boot" initrd_from_disk
boot purged rosnap
check "after the purge, a boot with \"rosnap\" on its command line is the disk itself, writable" step_ok
