#!/bin/sh
# Two commands at once: of two "create" for the same origin, or for the
# same name, exactly one wins and the other fails cleanly; "status" and
# "list" while devices come and go never fail oddly or crash; nothing
# leaks.  (The lock is /run/rosnap/lock, rosnap(8) CONCURRENCY.)
# modes: plain udev-all
# cost: 109
# timeout: 900
# cpus: 2
. /tests/lib.sh
on_exit 'touch /tmp/stop; remove_all'

mkfs_on /dev/vdc ext4 -b 4096
mkfs_on /dev/vdd ext4 -b 4096
kernel_state >/tmp/state.start

# Start two commands together; wait for both; their exit statuses in $a $b.
race() { # "CMD1" "CMD2"
	rm -f /tmp/go
	(while [ ! -e /tmp/go ]; do :; done; rc=0; $1 >/tmp/out1 2>/tmp/err1 || rc=$?; echo $rc >/tmp/rc1) &
	p1=$!
	(while [ ! -e /tmp/go ]; do :; done; rc=0; $2 >/tmp/out2 2>/tmp/err2 || rc=$?; echo $rc >/tmp/rc2) &
	p2=$!
	touch /tmp/go
	wait $p1 $p2
	a=$(cat /tmp/rc1) b=$(cat /tmp/rc2)
}

one_wins() { # WHAT PATTERN-OF-THE-LOSER'S-ERROR
	if [ "$a" = 0 ] && [ "$b" != 0 ]; then
		err=/tmp/err2 rc=$b
	elif [ "$b" = 0 ] && [ "$a" != 0 ]; then
		err=/tmp/err1 rc=$a
	else
		fail "$1: exit statuses $a and $b, want one 0: $(cat /tmp/err1 /tmp/err2)"
	fi
	[ "$rc" = 4 ] || fail "$1: the loser exited $rc, want 4: $(cat $err)"
	grep -Eq "$2" $err || fail "$1: the loser said '$(cat $err)', want /$2/"
}

step "the same origin, twice at once"
for i in 1 2 3 4 5; do
	race "rosnap create /dev/vdc --name one --ram 16M" \
		"rosnap create /dev/vdc --name two --ram 16M"
	one_wins "round $i" "in use by dm-[0-9]+ \\((one|two)\\)|is a rosnap device"
	[ "$(rosnap list --json | grep -c '"name"')" = 1 ] || fail "round $i: $(rosnap list)"
	remove_all
done

step "the same name, twice at once"
for i in 1 2 3 4 5; do
	race "rosnap create /dev/vdc --name same --ram 16M" \
		"rosnap create /dev/vdd --name same --ram 16M"
	one_wins "round $i" "a device named same already exists"
	origin=$(json_value same origin)
	case $origin in
	/dev/vdc) assert_eq "$(blockdev --getro /dev/vdd)" 0 "the loser's origin read-only flag" ;;
	/dev/vdd) assert_eq "$(blockdev --getro /dev/vdc)" 0 "the loser's origin read-only flag" ;;
	*) fail "origin of same: $origin" ;;
	esac
	remove_all
done

step "remove twice at once"
rosnap create /dev/vdc --name gone --ram 16M >/dev/null || fail "create"
race "rosnap remove gone" "rosnap remove gone"
if { [ "$a" = 0 ] && [ "$b" = 3 ]; } || { [ "$a" = 3 ] && [ "$b" = 0 ]; }; then
	:
else
	fail "two removes: exit statuses $a and $b, want 0 and 3: $(cat /tmp/err1 /tmp/err2)"
fi

step "status and list while devices come and go"
rm -f /tmp/stop
(
	while [ ! -e /tmp/stop ]; do
		rosnap create /dev/vdc --name churn --ram 16M >/dev/null 2>&1
		rosnap remove churn >/dev/null 2>&1
	done
) &
churn=$!
n=0 bad=0
while [ $n -lt 60 ]; do
	n=$((n + 1))
	rc=0
	rosnap list >/dev/null 2>/tmp/lerr || rc=$?
	# 0, or 3 when the device vanished between listing and reading.
	[ $rc = 0 ] || { bad=$((bad + 1)); echo "list exited $rc: $(cat /tmp/lerr)"; }
	rc=0
	rosnap status --json >/dev/null 2>/tmp/serr || rc=$?
	[ $rc = 0 ] || { bad=$((bad + 1)); echo "status exited $rc: $(cat /tmp/serr)"; }
	rc=0
	rosnap status churn >/dev/null 2>/tmp/cerr || rc=$?
	case $rc in
	0 | 3) ;;
	*) bad=$((bad + 1)); echo "status churn exited $rc: $(cat /tmp/cerr)" ;;
	esac
done
touch /tmp/stop
wait $churn
[ $bad = 0 ] || fail "$bad of $((n * 3)) status/list calls failed while devices changed"
remove_all

step "nothing left behind"
kernel_state >/tmp/state.end
diff /tmp/state.start /tmp/state.end || fail "the kernel's state changed"
