#!/bin/bash
# Build the Wipestation boot payload. Usage: image/build.sh [BUILD_DIR]
#   BUILD_DIR/vmlinuz, BUILD_DIR/wipestation.initrd  (-kernel/-initrd and PXE boots)
#   BUILD_DIR/wipestation.img                        (hybrid BIOS/UEFI USB disk image)
#   BUILD_DIR/signed-efi/<hash>/                     (Debian's signed shim + GRUB, unpacked)
# The initrd is the concatenation of the layers; only changed layers are rebuilt:
#   app    app/wipestation + image/rootfs-overlay, rebuilt in seconds
#   config optional: WIPESTATION_CONFIG=file.toml bakes /etc/wipestation/wipestation.toml
#   base   Debian rootfs + pinned wheels, cached in BUILD_DIR/base/<hash of its inputs>/
# The base comes LAST: it is LZ4 (fast to unpack), and the kernel's LZ4 reader runs to the end
# of the initrd. A later archive wins for a file both have, so the app and config layers may
# not replace a base file (checked below); BUILD_DIR/wipestation.initrd.layers lists the order.
# Environment: FREE_MIB (free space on the stick, default 256),
# WIPESTATION_APT_SOURCES (apt source files for mmdebstrap; default: the host's).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=$(mkdir -p "${1:-build}" && cd "${1:-build}" && pwd)
py=$repo/.venv/bin/python
[ -x "$py" ] || py=python3
t0=$SECONDS
log() { printf 'image: %s (%ss)\n' "$*" $((SECONDS - t0)); }

# Replace $2 by $1 only when the content differs, so mtimes show what really changed.
install_if_changed() { if cmp -s "$1" "$2"; then rm -f "$1"; else mv -f "$1" "$2"; fi; }

# --- wheels: exact pins from requirements.lock, binary only, for the image's Python 3.11 ---
lock_hash=$(sha256sum "$repo/requirements.lock" | cut -c1-16)
wheels=$build/wheels/$lock_hash
if [ ! -f "$wheels/.done" ]; then
	log "downloading wheels"
	rm -rf "$wheels" && mkdir -p "$wheels"
	env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_NO_INDEX PIP_CONFIG_FILE=/dev/null \
		"$py" -m pip download -q -d "$wheels" --no-deps --only-binary=:all: \
		--python-version 3.11 --implementation cp --abi cp311 \
		--platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
		--platform manylinux_2_28_x86_64 --platform manylinux_2_34_x86_64 \
		-r "$repo/requirements.lock"
	cp "$repo/requirements.lock" "$wheels/"
	touch "$wheels/.done"
fi
find "$build/wheels" -mindepth 1 -maxdepth 1 -type d ! -name "$lock_hash" -exec rm -rf {} +

# --- base layer, keyed by everything that goes into it ---
base_hash=$(cat "$here"/{packages.txt,modules.txt,base.sh,slim.sh} "$repo/requirements.lock" |
	sha256sum | cut -c1-16)
base=$build/base/$base_hash
if [ ! -f "$base/base.cpio.lz4" ]; then
	log "building base layer $base_hash (mmdebstrap; a few minutes)"
	rm -rf "$base.tmp"
	"$here/base.sh" "$base.tmp" "$wheels"
	rm -rf "$base.tmp/rootfs" "$base" && mv "$base.tmp" "$base"
	log "base layer done"
fi
ln -sfn "$base_hash" "$build/base/current"
find "$build/base" -mindepth 1 -maxdepth 1 -type d ! -name "$base_hash" -exec rm -rf {} +

# --- app layer: the package from the working tree, a launcher, and the rootfs overlay ---
stage=$build/app
rm -rf "$stage" && mkdir -p "$stage"
cp -a "$here/rootfs-overlay/." "$stage/"
site=$stage/opt/wipestation/venv/lib/python3.11/site-packages
mkdir -p "$site" "$stage/usr/local/bin"
(cd "$repo/app" && find wipestation -name __pycache__ -prune -o -type f -print |
	grep -Ev '\.py[co]$' | cpio --quiet -pdm "$site")
# The image's Python is 3.11, like the build host's; hash-based pycs survive the copy.
python3 -m compileall -q --invalidation-mode unchecked-hash -d /opt/wipestation/venv/lib/python3.11/site-packages/wipestation "$site/wipestation" >/dev/null || true
printf '#!/bin/sh\nexec /opt/wipestation/venv/bin/python3 -m wipestation "$@"\n' >"$stage/usr/local/bin/wipestation"
chmod 0755 "$stage/usr/local/bin/wipestation"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) | zstd -q -3 >"$build/app.cpio.zst.new"
install_if_changed "$build/app.cpio.zst.new" "$build/app.cpio.zst"
log "app layer ready"

# --- optional config layer ---
layers=("$build/app.cpio.zst")
if [ -n "${WIPESTATION_CONFIG:-}" ]; then
	cfg=$(mktemp -d) && mkdir -p "$cfg/etc/wipestation"
	cp "$WIPESTATION_CONFIG" "$cfg/etc/wipestation/wipestation.toml"
	(cd "$cfg" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) |
		zstd -q -3 >"$build/config.cpio.zst"
	rm -rf "$cfg"
	layers+=("$build/config.cpio.zst")
else
	rm -f "$build/config.cpio.zst"
fi

# The base is unpacked last: a file of an earlier layer at a path where the base has a file too
# would be silently replaced by the base's copy. Refuse that.
shadowed=$({ (cd "$stage" && find . -mindepth 1 ! -type d)
	[ -z "${WIPESTATION_CONFIG:-}" ] || echo ./etc/wipestation/wipestation.toml; } |
	LC_ALL=C sort -u | LC_ALL=C comm -12 - "$base/base.files")
if [ -n "$shadowed" ]; then
	echo "image: the base layer (unpacked last) would replace these app/config files:" >&2
	echo "$shadowed" >&2
	echo "image: remove them from the base in image/slim.sh" >&2
	exit 1
fi
layers+=("$base/base.cpio.lz4")

# --- payload: kernel + concatenated layers (Linux unpacks each archive in turn) ---
cp "$base/vmlinuz" "$build/vmlinuz.new" && install_if_changed "$build/vmlinuz.new" "$build/vmlinuz"
# Each layer padded to 4 bytes (the kernel skips zeros between archives; a plain cpio put
# between them, as the VM tests do before the base, must start aligned).
# Nothing after the last (LZ4) archive: its reader would take trailing zeros for a chunk.
for l in "${layers[@]}"; do
	cat "$l"
	[ "$l" = "${layers[-1]}" ] || head -c $(((4 - $(stat -c %s "$l") % 4) % 4)) /dev/zero
done >"$build/wipestation.initrd.new"
install_if_changed "$build/wipestation.initrd.new" "$build/wipestation.initrd"
printf '%s\n' "${layers[@]}" >"$build/wipestation.initrd.layers"

# --- Debian's signed UEFI chain for Secure Boot (shim -> GRUB), the versions the lock pins ---
efi_hash=$(sha256sum "$here/usb/signed-efi.lock" | cut -c1-16)
efi=$build/signed-efi/$efi_hash
if [ ! -f "$efi/.done" ]; then
	log "fetching the signed UEFI boot chain"
	"$here/usb/fetch-signed-efi.sh" "$here/usb/signed-efi.lock" "$efi"
fi
find "$build/signed-efi" -mindepth 1 -maxdepth 1 -type d ! -name "$efi_hash" -exec rm -rf {} +

# --- USB image, only when its inputs changed ---
img=$build/wipestation.img
if [ ! -f "$img" ] || [ "$build/wipestation.initrd" -nt "$img" ] || [ "$build/vmlinuz" -nt "$img" ] ||
	[ "$efi/.done" -nt "$img" ] || [ -n "$(find "$here/usb" -newer "$img" -print -quit)" ]; then
	"$here/usb/mkusb.sh" "$build/vmlinuz" "$build/wipestation.initrd" "$img" "${FREE_MIB:-256}" "$efi"
	log "USB image written"
fi

sizes() { stat -c '%s %n' "$@" | awk '{printf "%-40s %6.1f MiB\n", $2, $1 / 1048576}'; }
sizes "$build/vmlinuz" "${layers[@]}" "$build/wipestation.initrd" >"$build/sizes.txt"
cat "$build/sizes.txt"
log "done: $img"
