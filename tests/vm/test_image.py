"""Issue 7: the build's layers, sizes and the USB image layout (no QEMU needed, but the image)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.vm.conftest import REPO, build_dir
from tests.vm.machine import Image

pytestmark = pytest.mark.vm
MIB = 1024 * 1024


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_app_layer_rebuilds_without_rebuilding_base(image: Image) -> None:
    build = build_dir()
    base = (build / "base" / "current" / "base.cpio.lz4").resolve()
    app = build / "app.cpio.zst"
    base_before = (base.stat().st_mtime_ns, sha256(base))
    app_before = app.stat().st_mtime_ns
    os.utime(REPO / "app" / "wipestation" / "station.py")  # an app change
    t0 = time.monotonic()
    subprocess.run([str(REPO / "image" / "build.sh"), str(build)], check=True)
    print(f"app layer rebuilt in {time.monotonic() - t0:.1f} s")
    assert (base.stat().st_mtime_ns, sha256(base)) == base_before
    assert app.stat().st_mtime_ns != app_before
    # The initrd is the layers, concatenated in order, the LZ4 base last (the kernel's LZ4
    # reader runs to the end of the initrd).
    initrd = image.initrd.read_bytes()
    assert initrd.startswith(app.read_bytes())
    assert initrd.endswith(base.read_bytes())
    layers = Path(f"{image.initrd}.layers").read_text().split()
    assert layers == [str(app), str(base)]


def test_boot_payload_within_budget(image: Image) -> None:
    payload = image.kernel.stat().st_size + image.initrd.stat().st_size
    assert payload <= 80 * MIB, f"kernel + initrd = {payload / MIB:.1f} MiB"


def mtools(*argv: str) -> str:
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    return subprocess.run(argv, check=True, capture_output=True, text=True, env=env).stdout


def test_usb_image_layout(image: Image) -> None:
    dump = subprocess.run(
        ["sfdisk", "--dump", str(image.usb)], check=True, capture_output=True, text=True
    ).stdout
    label_id = next(ln.split()[-1] for ln in dump.splitlines() if ln.startswith("label-id"))
    assert image.partuuid == f"{label_id.removeprefix('0x')}-01"
    parts = [ln for ln in dump.splitlines() if "start=" in ln]
    assert len(parts) == 1
    assert "start=        2048" in parts[0]
    assert "type=c" in parts[0]
    assert "bootable" in parts[0]
    fat = f"{image.usb}@@1M"
    info = mtools("minfo", "-i", fat, "::")
    assert 'disk label="WIPESTATION"' in info
    listing = mtools("mdir", "-/", "-b", "-i", fat, "::")
    for name in ("EFI/BOOT/BOOTX64.EFI", "EFI/BOOT/grubx64.efi", "EFI/debian/grub.cfg",
                 "boot/grub/grub.cfg", "boot/vmlinuz", "boot/initrd.img"):  # fmt: skip
        assert f"::/{name}" in listing, listing
    # The signed GRUB reads /EFI/debian/grub.cfg (its built-in prefix): one step to the one menu.
    chain = mtools("mtype", "-i", fat, "::/EFI/debian/grub.cfg")
    assert "set prefix=($root)/boot/grub" in chain
    assert "configfile $prefix/grub.cfg" in chain
    grub = mtools("mtype", "-i", fat, "::/boot/grub/grub.cfg")
    assert f"wipestation.boot=PARTUUID={image.partuuid}" in grub
    free_line = next(ln for ln in mtools("mdir", "-i", fat, "::").splitlines() if "free" in ln)
    free = int("".join(c for c in free_line.split("bytes free")[0] if c.isdigit()))
    assert free >= 256 * MIB, free_line
    # BIOS boot code in the MBR, GRUB core.img right after it (no grub-install, no loop mount).
    head = image.usb.read_bytes()[:1024]
    assert head[510:512] == b"\x55\xaa"
    assert b"GRUB" in head[:440]


def test_stick_boots_without_a_menu_wait(image: Image, tmp_path: Path) -> None:
    """Issue 18: GRUB's 2 s menu was a seventh of a stick boot. No wait now, and an engineer
    still reaches the menu by holding Shift (the keystatus module is built into GRUB)."""
    fat = f"{image.usb}@@1M"
    grub = mtools("mtype", "-i", fat, "::/boot/grub/grub.cfg")
    assert "if keystatus --shift; then" in grub
    assert "set timeout=-1" in grub  # Shift held: the menu waits
    lines = [ln.strip() for ln in grub.splitlines()]
    assert "set timeout_style=hidden" in lines, grub
    assert "set timeout=0" in lines, grub
    assert not any(ln.startswith("set timeout=") and ln[12:] not in ("0", "-1") for ln in lines)
    # UEFI: Debian's signed GRUB (issue 21) has keystatus built in, uncompressed.
    mtools("mcopy", "-i", fat, "::/EFI/BOOT/grubx64.efi", str(tmp_path / "grub.efi"))
    assert b"keystatus" in (tmp_path / "grub.efi").read_bytes()
