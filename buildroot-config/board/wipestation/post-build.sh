#!/bin/sh
# Buildroot post-build script: runs after image/rootfs-overlay has been
# copied into TARGET_DIR. Makes the shared systemd units (written for the
# Debian image) find the same paths in the Buildroot rootfs.
set -eu

: "${TARGET_DIR:?run by Buildroot as a post-build script}"

# The units start /usr/local/bin/wipestation (a venv launcher in the Debian
# image); here the app's console script is /usr/bin/wipestation.
if [ ! -e "$TARGET_DIR/usr/local/bin/wipestation" ]; then
	mkdir -p "$TARGET_DIR/usr/local/bin"
	ln -sfn ../../bin/wipestation "$TARGET_DIR/usr/local/bin/wipestation"
fi

# Every absolute program an overlay unit starts must exist in the rootfs.
missing=0
for unit in "$TARGET_DIR"/etc/systemd/system/*.service; do
	[ -f "$unit" ] || continue
	progs=$(sed -n 's/^Exec[A-Za-z]*=[-@!+:]*\(\/[^ ]*\).*/\1/p' "$unit")
	while IFS= read -r prog; do
		[ -n "$prog" ] || continue
		if [ ! -e "$TARGET_DIR$prog" ] && [ ! -L "$TARGET_DIR$prog" ]; then
			echo "post-build: $(basename "$unit") starts $prog, which is not in the rootfs" >&2
			missing=1
		fi
	done <<-PROGS
	$progs
	PROGS
done
[ "$missing" -eq 0 ]

# The rootfs is the initramfs: nothing boots from its /boot (GRUB and the
# kernel live on the stick's FAT partition).
rm -rf "${TARGET_DIR:?}/boot"
