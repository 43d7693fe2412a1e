#!/bin/sh
# Harness self-test: a guest that never powers off after its last result
# fails the run, though every test passed.  Leaves a hook that the guest's
# init runs after "done".
mkdir -p /run/at-end
printf '#!/bin/sh\nexec sleep 100000\n' >/run/at-end/hang
chmod +x /run/at-end/hang
