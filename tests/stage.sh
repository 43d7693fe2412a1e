# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by tests/check.sh (and the harness self-test): run one stage of
# the suite and account for it.  A stage that produces fewer results than
# it must, or whose runner fails without reporting a failed test, fails
# the run: a vanished stage (a guest that never built, a kernel that was
# not fetched, a build directory missing) must not pass as a green suite.
#
#   stage NAME WANT RESULTS COMMAND...
#
# WANT is how many "ok", "not ok" or "skip" lines COMMAND must append to
# RESULTS.  A failed stage appends "not ok stage:NAME: why".

stage() {
	local name=$1 want=$2 res=$3 before got rc start=$SECONDS
	shift 3
	before=$(grep -c '^\(ok\|not ok\|skip\) ' "$res")
	"$@"
	rc=$?
	got=$(($(grep -c '^\(ok\|not ok\|skip\) ' "$res") - before))
	# The time, so that make check's budget is seen per stage.
	echo "stage $name: $got results of $want, runner exit status $rc, $((SECONDS - start))s"
	if [ "$got" -lt "$want" ]; then
		echo "not ok stage:$name: $got results, want $want (runner exit status $rc)" | tee -a "$res"
		return 1
	fi
	if [ "$rc" -ne 0 ] && ! tail -n "$got" "$res" | grep -q '^not ok '; then
		echo "not ok stage:$name: the runner failed (exit status $rc) but reported no failed test" | tee -a "$res"
		return 1
	fi
	return 0
}

# How many tests of tests/integration run in MODE (plain or udev; a
# word of its own: "udev-all" is not "udev").
integration_count() {
	grep -lE "^# modes:(.* )? *$1( |\$)" "$(dirname "${BASH_SOURCE[0]}")"/integration/*.sh | wc -l
}
