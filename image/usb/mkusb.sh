#!/bin/bash
# shellcheck disable=SC2016  # $1 (mmdebstrap hooks), ${...} (dpkg-query) and GRUB variables expand later
# Hybrid BIOS/UEFI USB disk image, without loop devices or mounts.
# Usage: mkusb.sh VMLINUZ INITRD OUT.img FREE_MIB SIGNED_EFI_DIR
# Layout: MBR (GRUB boot.img code, 440 bytes) | GRUB core.img from LBA 1 | one FAT32 partition
# (type 0x0c, label WIPESTATION) at 1 MiB holding EFI/BOOT/BOOTX64.EFI, boot/grub/grub.cfg,
# boot/vmlinuz, boot/initrd.img, wipestation.toml and reports/, with FREE_MIB MiB free.
# UEFI (Secure Boot on or off): EFI/BOOT/BOOTX64.EFI is Debian's shim (signed by Microsoft's
# UEFI CA), which loads EFI/BOOT/grubx64.efi, Debian's signed GRUB (SIGNED_EFI_DIR, from
# fetch-signed-efi.sh); that GRUB reads /EFI/debian/grub.cfg on its own partition (its built-in
# prefix), which leads to the one boot/grub/grub.cfg. GRUB has shim check the kernel (signed by
# Debian); the initrd is not checked. BIOS: this script's own GRUB core.img.
set -euo pipefail
kernel=$1 initrd=$2 out=$3 free_mib=${4:-256} efi=${5:?SIGNED_EFI_DIR (fetch-signed-efi.sh) missing}
here=$(cd "$(dirname "$0")" && pwd)
label=WIPESTATION
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
export MTOOLS_SKIP_CHECK=1

# Identities: the MBR disk signature gives the partition's PARTUUID (<signature>-01), which
# the bootloader passes on the kernel command line; the FAT serial is how GRUB finds itself.
sig=${DISK_ID:-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')}
volid=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
fs_uuid=$(echo "${volid:0:4}-${volid:4:4}" | tr a-f A-F)

# BIOS GRUB: every module built in, so the stick needs no /boot/grub/<platform>/ directory.
mods="biosdisk part_msdos fat normal linux configfile search search_fs_uuid echo
	test serial terminal sleep halt reboot ls cat keystatus"
# The stick is found by its FAT serial, on the boot drive first (the BIOS lists the drive it
# booted from as hd0), so a second stick written from the same image is not taken before it.
# Found nowhere, the boot drive's partition is used.
# This early config runs in GRUB's rescue parser: commands only, no if/else.
# The serial console comes first so that a failure is visible there too.
printf '%s\n' 'serial --unit=0 --speed=115200' 'terminal_input console serial' \
	'terminal_output console serial' 'set root=hd0,msdos1' \
	"search --no-floppy --fs-uuid $fs_uuid --set=root --hint-bios=hd0,msdos1" \
	'set prefix=($root)/boot/grub' 'configfile $prefix/grub.cfg' >"$tmp/early.cfg"
# shellcheck disable=SC2086
grub-mkimage -O i386-pc -c "$tmp/early.cfg" -p /boot/grub -o "$tmp/core.img" $mods
[ "$(stat -c %s "$tmp/core.img")" -lt $((2047 * 512)) ] || { echo "core.img too big" >&2; exit 1; }
sed "s/@PARTUUID@/$sig-01/g" "$here/grub.cfg" >"$tmp/grub.cfg"

# FAT32 partition: payload + FREE_MIB + slack for FAT tables.
payload=$(du -cm --apparent-size "$kernel" "$initrd" "$efi"/{shim,grub}x64.efi | tail -1 | cut -f1)
fat_mib=$((payload + free_mib + 16))
mkfs.vfat -F 32 -n "$label" -i "$volid" -C "$tmp/fat.img" $((fat_mib * 1024)) >/dev/null
mmd -i "$tmp/fat.img" ::/EFI ::/EFI/BOOT ::/EFI/debian ::/boot ::/boot/grub ::/reports
mcopy -i "$tmp/fat.img" "$efi/shimx64.efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$tmp/fat.img" "$efi/grubx64.efi" ::/EFI/BOOT/grubx64.efi
# The signed GRUB's built-in config sources $prefix/grub.cfg, $prefix = /EFI/debian here.
mcopy -i "$tmp/fat.img" "$tmp/early.cfg" ::/EFI/debian/grub.cfg
mcopy -i "$tmp/fat.img" "$tmp/grub.cfg" ::/boot/grub/grub.cfg
mcopy -i "$tmp/fat.img" "$kernel" ::/boot/vmlinuz
mcopy -i "$tmp/fat.img" "$initrd" ::/boot/initrd.img
mcopy -i "$tmp/fat.img" "$here/../rootfs-overlay/etc/wipestation/wipestation.toml" ::/wipestation.toml
mcopy -i "$tmp/fat.img" "$here/README.txt" ::/README.txt

# Disk: MBR with one bootable FAT32 (LBA) partition at 1 MiB, then the three pieces.
rm -f "$out.tmp" && truncate -s $(((fat_mib + 1) * 1024 * 1024)) "$out.tmp"
printf 'label: dos\nlabel-id: 0x%s\nstart=2048, type=c, bootable\n' "$sig" | sfdisk -q "$out.tmp"
dd if="$tmp/fat.img" of="$out.tmp" bs=1M seek=1 conv=notrunc,sparse status=none
# Only the boot code: bytes 440-511 hold the disk signature and partition table sfdisk wrote.
dd if=/usr/lib/grub/i386-pc/boot.img of="$out.tmp" bs=440 count=1 conv=notrunc status=none
# core.img's first sector (diskboot) already points at LBA 1, and boot.img at diskboot.
dd if="$tmp/core.img" of="$out.tmp" bs=512 seek=1 conv=notrunc status=none
mv "$out.tmp" "$out"
echo "$sig-01" >"$out.partuuid"
