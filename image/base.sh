#!/bin/bash
# shellcheck disable=SC2016  # $1 (mmdebstrap hooks), ${...} (dpkg-query) and GRUB variables expand later
# Base layer: Debian bookworm rootfs (mmdebstrap) + the pinned Python wheels in a venv, slimmed,
# packed as an LZ4 cpio. Usage: base.sh OUT_DIR WHEEL_DIR
# Writes OUT_DIR/{base.cpio.lz4,base.list,vmlinuz,kernel-version,rootfs.du}.
# Needs root (mmdebstrap --mode=root).
set -euo pipefail
out=$1 wheels=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$out/rootfs
rm -rf "$root" && mkdir -p "$out"

# The package mirror comes from the host's apt configuration, never from a name written here.
mapfile -t sources < <(ls /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	/etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "${WIPESTATION_APT_SOURCES:-}" ] && read -ra sources <<<"$WIPESTATION_APT_SOURCES"
[ ${#sources[@]} -gt 0 ] || { echo "base.sh: no apt sources on this host" >&2; exit 1; }
pkgs=$(grep -v '^#' "$here/packages.txt" | grep . | paste -sd, -)

# Host pip settings (PIP_FIND_LINKS, /etc/pip.conf...) must not leak into the chroot's pip.
pip_env='env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin PIP_CONFIG_FILE=/dev/null PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1'

mmdebstrap --mode=root --variant=minbase --quiet \
	--include="$pkgs" \
	--aptopt='Acquire::Languages "none"' \
	--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
	--customize-hook='mkdir -p "$1/tmp/wheels"' \
	--customize-hook="cp -a '$wheels/.' \"\$1/tmp/wheels/\"" \
	--customize-hook='chroot "$1" python3 -m venv /opt/wipestation/venv' \
	--customize-hook="$pip_env chroot \"\$1\" /opt/wipestation/venv/bin/pip install -q --no-index \
		--find-links /tmp/wheels --no-compile -r /tmp/wheels/requirements.lock" \
	--customize-hook='rm -rf "$1/tmp/wheels"' \
	--customize-hook="'$here/slim.sh' \"\$1\" '$out'" \
	bookworm "$root" "${sources[@]}"

du -sm "$root" | cut -f1 >"$out/rootfs.du"
# The kernel unpacks the initramfs and runs /init: systemd, booting default.target.
ln -sfn /usr/lib/systemd/systemd "$root/init"
# Owners and modes as installed (journal, setgid dirs); sorted for a stable archive.
# LZ4 (legacy frame, the one the kernel reads): the kernel unpacks it in about half the time
# of zstd under QEMU TCG (2 s of a boot), for a larger file. The kernel's LZ4 reader cannot
# find the end of its stream, so this archive must be the LAST one of the initrd (build.sh).
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort) >"$out/base.list"
(cd "$root" && find . -mindepth 1 ! -type d | LC_ALL=C sort) >"$out/base.files"  # build.sh checks
(cd "$root" && cpio --quiet -o -H newc --reproducible <"$out/base.list") |
	lz4 -q -l -9 >"$out/base.cpio.lz4"
