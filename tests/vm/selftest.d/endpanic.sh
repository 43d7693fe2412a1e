#!/bin/sh
# Harness self-test: a kernel panic after the last result fails the run,
# though every test passed.  Leaves a hook that the guest's init runs
# after "done".
mkdir -p /run/at-end
printf '#!/bin/sh\necho 1 >/proc/sys/kernel/sysrq\necho c >/proc/sysrq-trigger\nexec sleep 60\n' \
	>/run/at-end/panic
chmod +x /run/at-end/panic
