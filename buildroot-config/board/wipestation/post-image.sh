#!/bin/sh
# Buildroot post-image script: assembles images/wipestation.img, the same
# hybrid BIOS/UEFI stick as the Debian image (image/usb/mkusb.sh), from
# genimage.cfg. Runs from the Buildroot top directory.
# Env: DISK_ID (8 hex digits, MBR disk signature; random by default).
set -eu

: "${BINARIES_DIR:?run by Buildroot as a post-image script}"
BOARD_DIR=$(cd "$(dirname "$0")" && pwd)
SHARED_USB=$(cd "$BOARD_DIR/../../../image/usb" && pwd)

# The disk signature gives the partition's PARTUUID (<signature>-01); GRUB
# passes it as wipestation.boot= so the station protects its own stick.
sig=${DISK_ID:-$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')}
case $sig in
[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;;
*)
	echo "post-image: DISK_ID must be 8 lower-case hex digits, not '$sig'" >&2
	exit 1
	;;
esac
sed "s/@PARTUUID@/$sig-01/g" "$SHARED_USB/grub.cfg" >"$BINARIES_DIR/grub.cfg"
sed "s/@DISK_SIGNATURE@/0x$sig/" "$BOARD_DIR/genimage.cfg" >"$BINARIES_DIR/genimage.cfg"

# The same files on the stick as the Debian image.
cp "$SHARED_USB/README.txt" "$BINARIES_DIR/stick-README.txt"
cp "$TARGET_DIR/etc/wipestation/wipestation.toml" "$BINARIES_DIR/stick-wipestation.toml"
rm -rf "$BINARIES_DIR/reports" && mkdir "$BINARIES_DIR/reports"

# GRUB's 440-byte MBR stage is not installed to images/ by Buildroot.
boot_img=$(find "$BUILD_DIR" -maxdepth 4 -path '*/grub2-*/build-i386-pc/grub-core/boot.img' | head -n 1)
if [ -z "$boot_img" ]; then
	echo "post-image: GRUB i386-pc boot.img not found under $BUILD_DIR" >&2
	exit 1
fi
cp "$boot_img" "$BINARIES_DIR/boot.img"

support/scripts/genimage.sh -c "$BINARIES_DIR/genimage.cfg"
echo "$sig-01" >"$BINARIES_DIR/wipestation.img.partuuid"
