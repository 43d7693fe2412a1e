# The benchmark's booted systems (make bench), a scenario of
# tests/system/run (tests/system/run --dir tests/bench systems): one
# Debian system with rosnap, Debian's overlayroot and bilibop-lockfs all
# installed (one initramfs holds all three), booted unprotected
# ("plain"), with "rosnap" (and with rosnap.compression=lzo-rle, its
# choice for write-heavy systems), "overlayroot=tmpfs" and "lockfs", each
# at its defaults, in $BENCH_ROUNDS rounds (3) whose order rotates.  Each
# boot runs tests/bench/system-workload.sh; the figures of a boot that
# passed and whose / is what its system makes it are printed as
# "BENCH sys.SYSTEM.KEY ROUND VALUE" for tests/bench/run.
rounds=${BENCH_ROUNDS:-3}
systems=${BENCH_SYSTEMS:-plain rosnap rosnap-lzo-rle overlayroot bilibop}

# setup WHAT COMMAND...: a step of the image's making, checked.
setup() {
	local what=$1
	shift
	"$@" && return 0
	check "$what" false >&2
	return 1
}

# What the workload uses, in the image: a 256 MiB file of random data, a
# tar archive of Debian's files, a .deb of kernel modules; a step that
# only lets a boot end.
inc=$work/systems-include
lib=$inc/usr/local/lib/rosnap-test
data=$inc/var/lib/rosnap-bench
pay=$work/payload
debroot=$("$top/tests/vm/debroot" peers) || { check "the Debian root with the peers" false; return 0; }
mkdir -p "$lib" "$data" "$pay/DEBIAN" "$pay/usr/share/rosnap-bench-payload" || return 0
setup "the workload's step" cp "$scenario_dir/system-workload.sh" "$lib/bench-workload.sh" || return 0
printf '#!/bin/sh\nsystemctl is-system-running --wait\nexit 0\n' >"$lib/bench-settle.sh"
setup "a 256 MiB file to edit" head -c 256M /dev/urandom >"$data/big" || return 0
setup "the tree to unpack" tar -cf "$data/tree.tar" -C "$debroot" \
	usr/share usr/bin usr/sbin usr/lib/x86_64-linux-gnu || return 0
setup "the .deb's files" cp -a "$debroot"/lib/modules/*/kernel/fs "$pay/usr/share/rosnap-bench-payload/" ||
	return 0
cat >"$pay/DEBIAN/control" <<EOF
Package: rosnap-bench-payload
Version: 1.0
Architecture: all
Maintainer: rosnap <rosnap@localhost>
Description: files for rosnap's benchmark to install
EOF
setup "the .deb to install" dpkg-deb -Zgzip --root-owner-group --build "$pay" "$data/payload.deb" \
	>/dev/null || return 0
rm -rf "$pay"
image --include "$inc" peers || return 0
rm -rf "$inc"

# One boot before the rounds, unprotected: every measured boot is then
# the system's next boot, not its first (machine-id, first-boot units).
boot bench-settle
check "the first boot, unprotected, before the rounds" step_ok
step_ok || return 0
# Every boot from a raw copy of that image, in the host's memory when
# run from tests/bench/run (TMPDIR=/dev/shm).
mv "$img/root.img" "$img/root.pristine" || return 0

boot_limit=1200
cmdline_of() {
	case $1 in
	plain) echo "" ;;
	rosnap) echo rosnap ;;
	rosnap-lzo-rle) echo rosnap rosnap.compression=lzo-rle ;;
	overlayroot) echo overlayroot=tmpfs ;;
	bilibop) echo lockfs ;;
	esac
}
# What / must be in each, and the compression, else the figures are not
# the system's.
root_of() {
	case $1 in
	plain) echo "ext4 /dev/vda rw" ;;
	rosnap) echo "ext4 /dev/mapper/rosnap-root rw zstd" ;;
	rosnap-lzo-rle) echo "ext4 /dev/mapper/rosnap-root rw lzo-rle" ;;
	*) echo "overlay" ;;
	esac
}
# The last boot's / is what $sys makes it.
root_is_theirs() {
	[ "${root#"$(root_of "$sys")"}" != "$root" ]
}

n=$(echo $systems | wc -w)
failed_boots=0
round=1
while [ $round -le "$rounds" ]; do
	# Rotated by a third of the systems each round, every other round
	# backwards first: no system keeps its place or its neighbours.
	order=$systems
	[ $((round % 2)) = 1 ] || order=$(echo $order | tr ' ' '\n' | sed -n '1!G;h;$p')
	start=$(((round - 1) * n / rounds % n))
	order=$(echo $order $order | cut -d' ' -f$((start + 1))-$((start + n)))
	for sys in $order; do
		cp --sparse=always "$img/root.pristine" "$img/root.img" || return 0
		# shellcheck disable=SC2046
		boot bench-workload $(cmdline_of "$sys")
		check "$sys, round $round: booted, the workload ran" step_ok
		root=$(tr -d '\r' <"$img/boot$bootno/results.log" | sed -n 's/^BENCH root //p')
		check "$sys, round $round: / is $(root_of "$sys") ($root)" root_is_theirs
		if step_ok && root_is_theirs; then
			tr -d '\r' <"$img/boot$bootno/results.log" |
				awk -v s="$sys" -v r="$round" '
				$1 == "BENCH" && NF == 3 && $3 ~ /^-?[0-9]+(\.[0-9]+)?$/ {
					print "BENCH sys." s "." $2, r, $3 }
				$1 == "CHAIN" { $1 = "CHAIN " s " " r; print }'
		else
			failed_boots=$((failed_boots + 1))
		fi
	done
	round=$((round + 1))
done
echo "BENCH sys.rounds 0 $rounds"
echo "BENCH sys.failed_boots 0 $failed_boots"
