#!/bin/sh
# ORIGIN given as LABEL=, UUID=, PARTUUID=, PARTLABEL= (libblkid).
# modes: plain udev-all
. /tests/lib.sh
on_exit remove_all

wipe /dev/vdb
printf 'label: gpt\nsize=100M, name=rosnap-part\n' | sfdisk -q /dev/vdb || fail "sfdisk"
for i in $(seq 50); do [ -b /dev/vdb1 ] && break; sleep 0.1; done
mkfs.ext4 -q -b 4096 -L rootfs-label /dev/vdb1
uuid=$(blkid -o value -s UUID /dev/vdb1)
partuuid=$(blkid -o value -s PARTUUID /dev/vdb1)
[ -n "$uuid" ] && [ -n "$partuuid" ] || fail "blkid found no UUIDs"

for tag in LABEL=rootfs-label UUID=$uuid PARTUUID=$partuuid PARTLABEL=rosnap-part; do
	step "$tag"
	dev=$(rosnap create "$tag" --ram 16M) || fail "create $tag failed"
	assert_eq "$dev" /dev/mapper/rosnap-vdb1 "device for $tag"
	assert_eq "$(json_value rosnap-vdb1 origin)" /dev/vdb1 "origin for $tag"
	rosnap remove rosnap-vdb1 || fail "remove failed"
done

step "unknown label"
unchanged expect_fail 3 "no device has LABEL=nosuchlabel" rosnap create LABEL=nosuchlabel
wipe /dev/vdb
