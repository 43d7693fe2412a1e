# The benchmark's booted systems (make bench), a scenario of
# tests/system/run: one Debian system with rosnap, Debian's overlayroot
# and bilibop-lockfs all installed (one initramfs holds all three),
# booted unprotected ("plain"), with "rosnap" (and with
# rosnap.compression=lzo-rle, its choice for write-heavy systems),
# "overlayroot=tmpfs" and "lockfs", each at its defaults, in
# $BENCH_ROUNDS rounds (3) whose order rotates.  Each boot runs tests/bench/system-workload.sh and prints its
# figures as "BENCH sys.SYSTEM.KEY ROUND VALUE" for tests/bench/run.
# The disks are opened with snapshot=on: every boot starts from the same
# image, and rosnap's merge of the workload's changes leaves it as it was.
rounds=${BENCH_ROUNDS:-3}
systems=${BENCH_SYSTEMS:-plain rosnap rosnap-lzo-rle overlayroot bilibop}

# What the workload uses, in the image: a 256 MiB file of random data, a
# tar archive of Debian's files, a .deb of kernel modules.
inc=$work/systems-include
debroot=$("$top/tests/vm/debroot" peers) || { check "the Debian root with the peers" false; return 0; }
mkdir -p "$inc/usr/local/lib/rosnap-test" "$inc/var/lib/rosnap-bench" "$work/payload/DEBIAN" \
	"$work/payload/usr/share/rosnap-bench-payload"
cp "$scenario_dir/system-workload.sh" "$inc/usr/local/lib/rosnap-test/bench-workload.sh"
head -c 256M /dev/urandom >"$inc/var/lib/rosnap-bench/big"
tar -cf "$inc/var/lib/rosnap-bench/tree.tar" -C "$debroot" \
	usr/share usr/bin usr/sbin usr/lib/x86_64-linux-gnu
cp -a "$debroot"/lib/modules/*/kernel/fs "$work/payload/usr/share/rosnap-bench-payload/"
cat >"$work/payload/DEBIAN/control" <<EOF
Package: rosnap-bench-payload
Version: 1.0
Architecture: all
Maintainer: rosnap <rosnap@localhost>
Description: files for rosnap's benchmark to install
EOF
dpkg-deb -Zgzip --root-owner-group --build "$work/payload" \
	"$inc/var/lib/rosnap-bench/payload.deb" >/dev/null
rm -rf "$work/payload"
image --include "$inc" peers || return 0
rm -rf "$inc"

drive_options=cache=unsafe,snapshot=on
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
# What / must be in each, else the figures are not the system's.
root_of() {
	case $1 in
	plain) echo "ext4 /dev/vda" ;;
	rosnap*) echo "ext4 /dev/mapper/rosnap-root" ;;
	*) echo "overlay" ;;
	esac
}

n=$(echo $systems | wc -w)
round=1
while [ $round -le "$rounds" ]; do
	start=$(((round - 1) % n))
	order=$(echo $systems $systems | cut -d' ' -f$((start + 1))-$((start + n)))
	[ $((round % 2)) = 1 ] || order=$(echo $order | tr ' ' '\n' | sed -n '1!G;h;$p')
	for sys in $order; do
		# shellcheck disable=SC2046
		boot bench-workload $(cmdline_of "$sys")
		check "$sys, round $round: booted, the workload ran" step_ok
		root=$(tr -d '\r' <"$img/boot$bootno/results.log" | sed -n 's/^BENCH root //p')
		check "$sys, round $round: / is $(root_of "$sys") ($root)" \
			eval '[ "${root#$(root_of "$sys")}" != "$root" ]'
		tr -d '\r' <"$img/boot$bootno/results.log" |
			awk -v s="$sys" -v r="$round" '$1 == "BENCH" && $2 != "root" {
				print "BENCH sys." s "." $2, r, $3 }
				$1 == "CHAIN" { $1 = "CHAIN " s " " r; print }'
	done
	round=$((round + 1))
done
echo "BENCH sys.rounds 0 $rounds"
