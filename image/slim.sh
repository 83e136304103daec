#!/bin/bash
# shellcheck disable=SC2016  # $1 (mmdebstrap hooks), ${...} (dpkg-query) and GRUB variables expand later
# Slim the base rootfs in place (run as mmdebstrap customize hook). Usage: slim.sh ROOT OUT_DIR
# Saves the kernel to OUT_DIR, then drops what a RAM-only appliance never needs: perl (pulled
# by usrmerge), docs/man/locales (copyright files stay), apt caches, /boot, pip, and every
# kernel module not matched by modules.txt or needed by one that is.
set -euo pipefail
root=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)

kver=$(basename "$(ls -d "$root"/lib/modules/*)")
cp "$root/boot/vmlinuz-$kver" "$out/vmlinuz"
echo "$kver" >"$out/kernel-version"

# Only needed to install packages, never at run time (~65 MB): perl (pulled in by usrmerge),
# apt. The image runs from RAM and is never upgraded in place.
purge=$(chroot "$root" dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' usrmerge \
	libfile-find-rule-perl libnumber-compare-perl libtext-glob-perl perl perl-modules-5.36 \
	libperl5.36 libgdbm-compat4 apt libapt-pkg6.0 perl-base 2>/dev/null | awk '$1 == "ii" {print $2}')
# shellcheck disable=SC2086
[ -z "$purge" ] || chroot "$root" dpkg --purge --force-depends --force-remove-essential $purge \
	>/dev/null 2>&1

# shellcheck disable=SC2115
rm -rf "$root"/boot/* "$root"/usr/share/{man,info} "$root"/var/lib/apt/lists/* \
	"$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old "$root"/usr/share/python-wheels \
	"$root"/var/log/*.log "$root"/usr/share/lintian "$root"/usr/lib/udev/hwdb.d \
	"$root"/usr/lib/python3.11/{lib2to3,pydoc_data,ensurepip,idlelib,turtledemo}
find "$root/usr/share/doc" -type f ! -name copyright -delete
# glibc iconv modules: nothing in the image converts charsets through iconv (Python has its own).
find "$root/usr/lib/x86_64-linux-gnu/gconv" -name '*.so' ! -name 'UTF-*' ! -name 'UNICODE.so' -delete
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +

# The venv needs neither pip nor setuptools at run time; precompile it for fast imports.
venv_site=$(echo "$root"/opt/wipestation/venv/lib/python3*/site-packages)
rm -rf "$venv_site"/{pip,setuptools,_distutils_hack,pkg_resources}* "$venv_site"/distutils-precedence.pth \
	"$root"/opt/wipestation/venv/bin/pip*
chroot "$root" python3 -m compileall -q -j0 --invalidation-mode unchecked-hash /opt/wipestation/venv/lib >/dev/null

# Kernel modules: keep the whitelist plus its dependency closure, then rebuild modules.dep.
mods=$root/lib/modules/$kver
(cd "$mods" && find kernel -name '*.ko*' | sed 's#^kernel/##' |
	grep -E -f <(grep -v '^#' "$here/modules.txt" | grep .) | sed 's#^#kernel/#') >"$out/keep.txt"
awk -F': *' 'NR == FNR {keep[$1] = 1; next}
	($1 in keep) {print $1; n = split($2, d, " "); for (i = 1; i <= n; i++) print d[i]}' \
	"$out/keep.txt" "$mods/modules.dep" | sort -u >"$out/modules.kept"
(cd "$mods" && find kernel -name '*.ko*' | LC_ALL=C sort | comm -23 - "$out/modules.kept" | xargs -r rm -f)
find "$mods/kernel" -type d -empty -delete
# xz-compressed modules (kmod decompresses them) leave ~28 MB less for the kernel to unpack
# at every boot; CRC32 is the check the kernel's own decompressor accepts.
find "$mods/kernel" -name '*.ko' -print0 | xargs -0 -r -n 32 -P "$(nproc)" xz -q -9 --check=crc32
chroot "$root" depmod "$kver"
rm -f "$out/keep.txt"
