#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The whole test suite, as "make check" runs it after building "build"
# (hardened) and "build-san" (AddressSanitizer + UBSan):
#   unit tests of both builds; cppcheck and clang-tidy; make install and
#   uninstall into a scratch root, with a program built against the
#   installed library (pkg-config); bash completion; each fuzz target
#   briefly (build-fuzz, clang); the VM harness's self-test; the integration
#   tests in VMs with the sanitized build (no udev, as in an initramfs) and
#   with the release build under systemd-udevd (a sample: "make udev-all"
#   runs every test that can); make deb; the boot tests (whole
#   Debian systems, the release build).
# Ends with "N passed, N failed[, N skipped]"; exits non-zero on a failure.
set -u
cd "$(dirname "$0")/.."

results=$(mktemp)
log=$(mktemp)
selftest_results=$(mktemp)
selftest_log=$(mktemp)
selftest_pid=
trap '[ -z "$selftest_pid" ] || kill "$selftest_pid" 2>/dev/null
	rm -f "$results" "$log" "$selftest_results" "$selftest_log"' EXIT
. tests/stage.sh

section() { printf '\n== %s\n' "$*"; }

unit_runner() { # BUILD
	tests/unit/run "$1" "$results" 2>"$log" || { cat "$log"; return 1; }
}

# The harness self-test mostly waits (on guests it hangs on purpose, for
# its grace times): it runs while the unit tests, static analysis, the
# install test and fuzzing run, into files of its own, reported after
# them.  (Nothing else starts a guest meanwhile: it checks that none is
# left.)
stage selftest "$(grep -c '^check ' tests/vm/selftest)" "$selftest_results" \
	tests/vm/selftest --results "$selftest_results" >"$selftest_log" 2>&1 &
selftest_pid=$!

section "unit tests"
units=$(cat tests/unit/test-*.c | grep -cE 'cmocka_unit_test(_setup_teardown)?\(')
for b in build build-san; do
	stage "unit:$b" "$units" "$results" unit_runner "$b"
done

section "static analysis: cppcheck and clang-tidy (make lint)"
if make -s lint >"$log" 2>&1; then
	echo "ok lint: cppcheck and clang-tidy find nothing in lib/ and cmd/" | tee -a "$results"
else
	grep -v -e 'warnings generated' -e '^Suppressed' -e 'Use -header-filter' "$log"
	echo "not ok lint: see the findings above" | tee -a "$results"
fi

section "make install and make uninstall, and a program built against the library"
stage install "$(grep -c '^	result ok ' tests/install/run)" "$results" \
	tests/install/run build "$results"

section "bash completion, driven through bash"
stage completion "$(grep -c '^check ' tests/completion/run)" "$results" \
	tests/completion/run build "$results"

section "fuzzing: each libFuzzer target for ${FUZZ_CHECK_TIME:-10}s (make fuzz runs longer)"
if make -s fuzz-targets BUILD=build-fuzz CC=clang \
	SANITIZE=address,undefined,fuzzer-no-link >"$log" 2>&1; then
	stage fuzz "$(ls tests/fuzz/fuzz-*.c | wc -l)" "$results" \
		tests/fuzz/run build-fuzz "${FUZZ_CHECK_TIME:-10}" "$results"
else
	cat "$log"
	echo "not ok fuzz: the targets do not build" | tee -a "$results"
fi

section "VM harness self-test (run alongside the stages above)"
wait "$selftest_pid"
selftest_pid=
cat "$selftest_log"
cat "$selftest_results" >>"$results"

section "integration tests: sanitized build, no udev"
stage vm:plain "$(integration_count plain)" "$results" \
	tests/vm/run --build build-san --san --results "$results"

section "integration tests: systemd-udevd running"
stage vm:udev "$(integration_count udev)" "$results" \
	tests/vm/run --build build --udev --results "$results"

# The checks of the scenarios, and those of store_boots (in
# tests/system/run) as many times as scenarios call it; each call of
# plaintext_as_configured is one check.
system_checks() {
	local n per calls re='^[[:space:]]*(check|plaintext_as_configured) '
	n=$(cat tests/system/*.sh | grep -cE "$re")
	per=$(sed -n '/^store_boots() {/,/^}/p' tests/system/run | grep -cE "$re")
	calls=$(cat tests/system/*.sh | grep -c '^[[:space:]]*store_boots$')
	echo $((n + per * calls))
}

section "the Debian packages: make deb (dpkg-buildpackage, lintian)"
deb_runner() {
	if make -s deb >"$log" 2>&1; then
		echo "ok deb: dpkg-buildpackage builds rosnap, librosnap1 and librosnap-dev; lintian --pedantic finds nothing" |
			tee -a "$results"
	else
		tail -n 40 "$log"
		echo "not ok deb: make deb failed (above)" | tee -a "$results"
	fi
}
stage deb 1 "$results" deb_runner

section "boot tests: whole Debian systems (one installs the packages above)"
stage system "$(system_checks)" "$results" \
	tests/system/run --build build --results "$results"

passed=$(grep -c '^ok ' "$results")
failed=$(grep -c '^not ok ' "$results")
skipped=$(grep -c '^skip ' "$results")
echo
if [ "$failed" -gt 0 ]; then
	echo "failed:"
	sed -n 's/^not ok /  /p' "$results"
fi
if [ "$skipped" -gt 0 ]; then
	echo "skipped:"
	sed -n 's/^skip /  /p' "$results"
fi
summary="$passed passed, $failed failed"
[ "$skipped" -eq 0 ] || summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
