#!/bin/bash
# Debian's signed UEFI boot chain, unpacked, never installed: their maintainer scripts would run
# grub-install on the build host. Usage: fetch-signed-efi.sh LOCK OUT_DIR
# Writes OUT_DIR/shimx64.efi (shim-signed) and OUT_DIR/grubx64.efi (grub-efi-amd64-signed), the
# exact versions LOCK pins, each .deb checked against LOCK's SHA-256 before it is unpacked.
set -euo pipefail
lock=$1 out=$2
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
rm -rf "$out" && mkdir -p "$out"
while read -r pin sum; do
	pkg=${pin%%=*}
	# apt-get download uses the host's sources; a fresh host may need its lists first.
	(cd "$tmp" && { apt-get download -q "$pin" >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get download -q "$pin" >/dev/null; }; }) || {
		echo "fetch-signed-efi: $pin is not in the host's apt sources: update $lock" >&2
		exit 1
	}
	deb=$(echo "$tmp/${pkg}"_*.deb)
	echo "$sum  $deb" | sha256sum -c --quiet - || {
		echo "fetch-signed-efi: $(basename "$deb") does not match $lock" >&2
		exit 1
	}
	dpkg-deb -x "$deb" "$tmp/root"
done < <(grep -v '^#' "$lock" | grep .)
cp "$tmp/root/usr/lib/shim/shimx64.efi.signed" "$out/shimx64.efi"
cp "$tmp/root/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" "$out/grubx64.efi"
touch "$out/.done"
