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
    # A store encrypted with LUKS2: dm-crypt, aes-xts, and the kernel's
    # crypto API for user space (libcryptsetup opens key slots with it).
    hostonly='' instmods dm_crypt xts ecb af_alg algif_skcipher algif_hash
}

install() {
    inst_binary @SBINDIR@/rosnap /usr/sbin/rosnap
    inst_rules 12-rosnap-layers.rules 56-rosnap.rules
    # glibc loads it when libcryptsetup's key derivation threads end.
    inst_libdir_file 'libgcc_s.so*'
    if [ -e /etc/rosnap/boot.conf ]; then
        inst_simple /etc/rosnap/boot.conf
        # key=FILE: the key of the root's encrypted store or save (dracut
        # makes the image readable by root only).
        local key
        key=$(sed -n 's/^[[:space:]]*key[[:space:]]*=[[:space:]]*//p' \
            /etc/rosnap/boot.conf | sed -e 's/[[:space:]]*$//' \
            -e 's/^"\(.*\)"$/\1/' | tail -n 1)
        if [ -n "$key" ] && [ -f "$key" ]; then
            inst_simple "$key"
            chmod 0600 "$initdir$key"
        elif [ -n "$key" ]; then
            dwarn "rosnap: the key file $key (key= in /etc/rosnap/boot.conf) does not exist"
        fi
    fi
    if dracut_module_included "systemd"; then
        # systemd in the initrd: sysroot.mount must mount the snapshot.
        inst_script "$moddir/rosnap-generator" \
            "$systemdutildir/system-generators/rosnap-generator"
    else
        inst_hook pre-mount 10 "$moddir/rosnap-root.sh"
    fi
}
