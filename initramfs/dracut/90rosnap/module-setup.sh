#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# dracut module: protect the root filesystem with rosnap (rosnap-boot(7)).

check() {
    require_binaries @SBINDIR@/rosnap || return 1
    return 0
}

depends() {
    # dm brings dmsetup and device-mapper's udev rules (udev sync).
    echo dm rootfs-block
    return 0
}

installkernel() {
    hostonly='' instmods dm_snapshot zram brd loop lzo lzo_rle lz4 lz4hc zstd
}

install() {
    inst_binary @SBINDIR@/rosnap /usr/sbin/rosnap
    inst_rules 12-rosnap-layers.rules 56-rosnap.rules
    [ -e /etc/rosnap/boot.conf ] && inst_simple /etc/rosnap/boot.conf
    if dracut_module_included "systemd"; then
        # systemd in the initrd: sysroot.mount must mount the snapshot.
        inst_script "$moddir/rosnap-generator" \
            "$systemdutildir/system-generators/rosnap-generator"
    else
        inst_hook pre-mount 10 "$moddir/rosnap-root.sh"
    fi
}
