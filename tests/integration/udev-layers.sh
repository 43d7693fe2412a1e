#!/bin/sh
# udev never probes rosnap's internal layers, under Debian's numbering of
# the device-mapper rules (55-dm, 60-persistent-storage-dm) and under
# upstream lvm2's (10-dm, 13-dm-disk: Fedora, Arch, openSUSE): after the
# events rosnap makes, and after events without its cookie (udevadm
# trigger, as at boot or after a watch; also once udev's database is
# gone, as after dracut's switch to the real root), the store layer (and
# an encrypted store's crypt device) gets no /dev/disk link and no blkid
# probe; the writable device gets its links.
# modes: udev
. /tests/lib.sh
rules=/etc/udev/rules.d
on_exit 'remove_all; rm -f $rules/10-dm.rules $rules/13-dm-disk.rules $rules/55-dm.rules $rules/60-persistent-storage-dm.rules; udevadm control --reload'

mkfs_on /dev/vdc ext4 -b 4096
dm_rules=$(dirname "$(ls /lib/udev/rules.d/55-dm.rules /usr/lib/udev/rules.d/55-dm.rules 2>/dev/null | head -n 1)")
[ -f "$dm_rules/55-dm.rules" ] || fail "no 55-dm.rules in the guest"

layers_unprobed() { # LAYOUT [CREATE-OPTIONS]
	rosnap create /dev/vdc --name kc ${2:---ram 16M} >/dev/null || fail "create ${2:-}"
	udevadm settle
	# The layers have no /dev/mapper name (hidden): their kernel names.
	layers=kc-cow
	case ${2:-} in *--encrypt*) layers="kc-cow kc-cow.crypt" ;; esac
	for l in $layers; do
		dev=/dev/$(dmsetup info -c --noheadings -o blkdevname $l) || fail "no $l layer"
		[ -b "$dev" ] || fail "no $dev"
		udevadm info --query=property "$dev" >/dev/null || fail "udev does not know $dev"
	done
	check() { # WHEN
		for l in $layers; do
			dev=/dev/$(dmsetup info -c --noheadings -o blkdevname $l)
			[ ! -e /dev/disk/by-id/dm-name-$l ] ||
				fail "$1 ($2): the disk rules ran on $l (it has /dev/disk/by-id/dm-name-$l)"
			udevadm info --query=property "$dev" | grep -q '^ID_FS_' &&
				fail "$1 ($2): $l was probed: $(udevadm info --query=property "$dev" | grep '^ID_FS_')"
		done
		[ -e /dev/disk/by-id/dm-name-kc ] || fail "$1 ($2): kc has no /dev/disk/by-id link"
		[ -e /dev/rosnap/kc ] || fail "$1 ($2): no /dev/rosnap/kc"
	}
	devs=
	for l in $layers; do devs="$devs /dev/$(dmsetup info -c --noheadings -o blkdevname $l)"; done
	check "$1" "rosnap's events"
	udevadm trigger --action=change --settle $devs /dev/mapper/kc
	check "$1" "udevadm trigger --action=change"
	udevadm trigger --action=add --settle $devs /dev/mapper/kc
	check "$1" "udevadm trigger --action=add"
	# As after dracut's switch to the real root (initrd-udevadm-cleanup-db):
	# what udev knew of the devices is gone, rosnap's cookie flags with it.
	udevadm info --cleanup-db
	udevadm trigger --action=change --settle $devs /dev/mapper/kc
	check "$1" "udevadm info --cleanup-db, then a change"
	rosnap remove kc || fail "remove"
	udevadm settle
}

step "Debian's numbering"
layers_unprobed debian
step "Debian's numbering, an encrypted store on disk"
layers_unprobed debian "--store /dev/vdd --overwrite --encrypt"

step "upstream lvm2's numbering"
# The same rules under upstream's names; Debian's masked.
mkdir -p $rules &&
	cp "$dm_rules/55-dm.rules" $rules/10-dm.rules &&
	cp "$dm_rules/60-persistent-storage-dm.rules" $rules/13-dm-disk.rules &&
	ln -s /dev/null $rules/55-dm.rules &&
	ln -s /dev/null $rules/60-persistent-storage-dm.rules &&
	udevadm control --reload || fail "cannot install the rules under upstream's names"
layers_unprobed upstream
step "upstream lvm2's numbering, an encrypted store on disk"
layers_unprobed upstream "--store /dev/vdd --overwrite --encrypt"
