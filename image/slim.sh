#!/bin/bash
# shellcheck disable=SC2016  # $1 (mmdebstrap hooks), ${...} (dpkg-query) and GRUB variables expand later
# Slim the base rootfs in place (run as mmdebstrap customize hook). Usage: slim.sh ROOT OUT_DIR
# Saves the kernel to OUT_DIR, then drops what a RAM-only appliance never needs: perl (pulled
# by usrmerge), docs/man/locales (copyright files stay), apt caches, /boot, pip, and every
# kernel module not matched by modules.txt or needed by one that is.
set -euo pipefail
root=$1 out=$2
[ -d "$root/usr" ] && [ "$(realpath "$root")" != / ] || { echo "slim.sh: $root is not a rootfs" >&2; exit 2; }
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
	"$root"/usr/lib/python3.11/{lib2to3,pydoc_data,ensurepip,idlelib,turtledemo} \
	"$root"/var/lib/dpkg/info/*.{list,md5sums}
# The app layer brings its own; the base is the last archive, so its copy would win.
rm -f "$root/etc/hostname"
# mmdebstrap copies the build host's resolv.conf in: its resolver has no business on a station.
# The station writes its own from the DHCP lease (resolvconf.py), only where there is none.
rm -f "$root/etc/resolv.conf"
# Leap-second time zones are never used. (gnutls and its helpers stay: tpm2-tools links
# libcurl-gnutls, for a command the station never runs, and binds it at load time. Of what came
# with it, nothing links brotli's encoder, and SASL's plugins are loaded by no one here.)
rm -rf "$root"/usr/share/zoneinfo/right "$root"/usr/lib/x86_64-linux-gnu/libbrotlienc.so* \
	"$root"/usr/lib/x86_64-linux-gnu/sasl2 "$root"/usr/share/bash-completion/completions/tpm2*
# TPM 2.0: tools/tpm2.py calls four tpm2-tools commands (one multi-call binary) through the
# kernel's resource manager. The other ~100 commands, the FAPI tools and library (and the
# OpenSSL libcurl only FAPI links), the other TCTIs and FAPI's configuration are never used.
find "$root/usr/bin" -name 'tpm2_*' ! -name tpm2_createprimary ! -name tpm2_evictcontrol \
	! -name tpm2_readpublic ! -name tpm2_sign -delete
rm -rf "$root"/usr/bin/tss2 "$root"/usr/bin/tss2_* "$root"/etc/tpm2-tss \
	"$root"/usr/lib/tmpfiles.d/tpm2-tss-fapi.conf "$root"/var/lib/tpm2-tss \
	"$root"/usr/lib/x86_64-linux-gnu/libtss2-{fapi,tcti-mssim,tcti-swtpm,tcti-cmd,tcti-spi*,tcti-pcap,tcti-libtpms,tcti-i2c*}.so* \
	"$root"/usr/lib/x86_64-linux-gnu/libcurl.so*
# The PDFs use DejaVu Sans, Sans Bold and Sans Mono only (reports/fonts.py).
find "$root/usr/share/fonts/truetype/dejavu" -name '*.ttf' ! -name DejaVuSans.ttf \
	! -name DejaVuSans-Bold.ttf ! -name DejaVuSansMono.ttf -delete
# CJK names: Droid Sans Fallback only (not the 4 MB "Full" variant), xz-compressed: 3.4 MB ->
# 1.2 MB in the payload (lz4 would leave 2.3 MB); reports/fonts.py unpacks it in memory.
rm -f "$root/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"
xz -9e -T1 -f "$root/usr/share/fonts-droid-fallback/truetype/DroidSansFallback.ttf"

# udev: only what storage, consoles, serial ports and input need. The hardware database only
# names vendors (the app reads identities from the drives); hdparm.rules would send APM
# settings to the drives about to be wiped; sound, video, network, sensors and NVMe-oF are not
# on a wipe station. Every rule runs for every device at boot: about 2 s of udev under TCG.
rm -f "$root"/usr/lib/udev/hwdb.bin "$root"/etc/udev/hwdb.bin
(cd "$root/usr/lib/udev/rules.d" && rm -f 60-drm.rules 60-fido-id.rules 60-infiniband.rules \
	60-persistent-alsa.rules 60-persistent-v4l.rules 60-sensor.rules 64-btrfs.rules \
	70-camera.rules 70-joystick.rules 70-memory.rules 70-mouse.rules 70-nvmf-autoconnect.rules \
	70-touchpad.rules 71-nvmf-iopolicy-netapp.rules 73-special-net-names.rules \
	75-net-description.rules 75-probe_mtd.rules 78-sound-card.rules 80-net-setup-link.rules \
	81-net-dhcp.rules 85-hdparm.rules 85-hwclock.rules 96-e2scrub.rules)
# systemd generators that have nothing to find here (no fstab, no crypt/verity/integrity
# volumes, no SysV scripts, no gettys): each is a process start at every boot.
(cd "$root/usr/lib/systemd/system-generators" && rm -f systemd-cryptsetup-generator \
	systemd-fstab-generator systemd-getty-generator systemd-gpt-auto-generator \
	systemd-hibernate-resume-generator systemd-integritysetup-generator \
	systemd-rc-local-generator systemd-system-update-generator systemd-sysv-generator \
	systemd-veritysetup-generator)
find "$root/usr/share/doc" -type f ! -name copyright -delete
# glibc iconv modules: nothing in the image converts charsets through iconv (Python has its own).
find "$root/usr/lib/x86_64-linux-gnu/gconv" -name '*.so' ! -name 'UTF-*' ! -name 'UNICODE.so' -delete
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +

# The venv needs neither pip nor setuptools at run time.
venv_site=$(echo "$root"/opt/wipestation/venv/lib/python3*/site-packages)
rm -rf "$venv_site"/{pip,setuptools,_distutils_hack,pkg_resources}* "$venv_site"/distutils-precedence.pth \
	"$root"/opt/wipestation/venv/bin/pip*
# No Pillow (3.3 MiB of payload): reportlab imports PIL.Image when it loads, only to read bitmap
# images, and the certificates draw none (text, vector QR codes and Code128). The app layer's
# one-line PIL package (rootfs-overlay) puts reportlab in its own "no PIL" state;
# tests/reports/test_pdf_without_pil.py renders a drive and a lot certificate that way.
rm -rf "$venv_site"/{PIL,pillow.libs,pillow-*.dist-info}
# Pygments: only the Python lexer (rich and textual highlight tracebacks with it) and the plain
# text one; the lexer table lists just those, so any other language is "not found", which both
# handle as plain text (1.5 MiB of payload).
lexers=$venv_site/pygments/lexers
find "$lexers" -maxdepth 1 -name '*.py' ! -name __init__.py ! -name _mapping.py \
	! -name python.py ! -name special.py -delete
python3 - "$lexers/_mapping.py" <<'EOF'
import pprint
import sys

ns: dict = {}
exec(open(sys.argv[1], encoding="utf-8").read(), ns)
kept = {k: v for k, v in ns["LEXERS"].items() if v[0].rsplit(".", 1)[1] in ("python", "special")}
open(sys.argv[1], "w", encoding="utf-8").write(f"LEXERS = {pprint.pformat(kept)}\n")
EOF
# reportlab's own Type 1 and Vera fonts: the PDFs embed DejaVu, and the standard 14 fonts'
# metrics are built into reportlab's code.
find "$venv_site/reportlab/fonts" -type f ! -name '*.txt' -delete
# The standard library and the third-party packages as byte code only, next to where the source
# was (Python imports such "sourceless" modules): 25 MB and 8,000 files fewer for the kernel
# to unpack at every boot. Tracebacks still name file and line; the app layer keeps its source.
chroot "$root" python3 -m compileall -q -b -j0 /usr/lib/python3.11 /opt/wipestation/venv/lib >/dev/null
find "$root/usr/lib/python3.11" "$root/opt/wipestation/venv/lib" -name '*.py' -type f -delete
find "$root/usr/lib/python3.11" "$root/opt/wipestation/venv/lib" -name __pycache__ -type d -prune \
	-exec rm -rf {} +

# Kernel modules: keep the whitelist plus its dependency closure, then rebuild modules.dep.
mods=$root/lib/modules/$kver
(cd "$mods" && find kernel -name '*.ko*' | sed 's#^kernel/##' |
	grep -E -f <(grep -v '^#' "$here/modules.txt" | grep .) | sed 's#^#kernel/#') >"$out/keep.txt"
awk -F': *' 'NR == FNR {keep[$1] = 1; next}
	($1 in keep) {print $1; n = split($2, d, " "); for (i = 1; i <= n; i++) print d[i]}' \
	"$out/keep.txt" "$mods/modules.dep" | sort -u >"$out/modules.kept"
(cd "$mods" && find kernel -name '*.ko*' | LC_ALL=C sort | comm -23 - "$out/modules.kept" | xargs -r rm -f)
find "$mods/kernel" -type d -empty -delete
# zstd-compressed modules (kmod decompresses them): ~28 MB less for the kernel to unpack at
# every boot, and about ten times cheaper to load than xz under TCG (udev loads ~50 at boot).
find "$mods/kernel" -name '*.ko' -print0 | xargs -0 -r -n 32 -P "$(nproc)" zstd -q -19 --rm
chroot "$root" depmod "$kver"
rm -f "$out/keep.txt"

# Last, since the steps above may still need them: dpkg, its maintainer scripts, gpgv and
# localedef only install packages (1.4 MiB of payload); /var/lib/dpkg/status still lists what
# the image holds.
rm -rf "$root"/usr/bin/{dpkg,dpkg-deb,dpkg-divert,dpkg-maintscript-helper,dpkg-query,dpkg-realpath} \
	"$root"/usr/bin/{dpkg-split,dpkg-statoverride,dpkg-trigger,gpgv,localedef} "$root"/var/lib/dpkg/info
# Berkeley DB and SQLite (1.8 MiB): only PAM's userdb module (no PAM file uses it) and Python's
# dbm and sqlite3 modules (nothing in the station imports them) link them.
rm -rf "$root"/usr/lib/x86_64-linux-gnu/{libdb-5.3,libsqlite3}.so* \
	"$root"/usr/lib/x86_64-linux-gnu/security/pam_userdb.so "$root"/usr/lib/python3.11/sqlite3 \
	"$root"/usr/lib/python3.11/lib-dynload/{_dbm,_sqlite3}.cpython-*.so

# Every removal above is by name: check that every library an ELF file of the image needs is
# still there, or the station would find out at run time (tpm2-tools binds all of its at load).
command -v readelf >/dev/null || { echo "slim.sh: readelf (binutils) is needed" >&2; exit 1; }
names=$(find "$root" -xdev \( -type f -o -type l \) -printf '%f\n' | LC_ALL=C sort -u)
missing=$(find "$root" -xdev -type f \( -perm -u+x -o -name '*.so*' \) -print0 |
	{ xargs -0 -r readelf -d 2>/dev/null || true; } | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | LC_ALL=C sort -u |
	LC_ALL=C comm -23 - <(echo "$names"))
[ -z "$missing" ] || { echo "slim.sh: libraries needed but removed: $missing" >&2; exit 1; }
