"""Board scripts run for real: post-build on a fake rootfs; genimage, GRUB, QEMU on the layout."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.buildroot.brtree import BOARD, DEFCONFIG, REPO

OVERLAY = REPO / "image" / "rootfs-overlay"


def _unit_programs(root: Path) -> set[str]:
    progs = set()
    for unit in (root / "etc/systemd/system").glob("*.service"):
        if unit.is_file() and not unit.is_symlink():
            for m in re.finditer(r"^Exec\w*=[-@!+:]*(/\S+)", unit.read_text(), re.M):
                progs.add(m[1])
    return progs


def _fake_target(tmp_path: Path) -> Path:
    """A rootfs as Buildroot leaves it before post-build: merged /usr, the overlay copied in,
    and the app's console script in /usr/bin (python-package installs it there)."""
    target = tmp_path / "target"
    shutil.copytree(OVERLAY, target, symlinks=True)
    for d in ("bin", "sbin", "lib"):
        (target / "usr" / d).mkdir(parents=True, exist_ok=True)
        (target / d).symlink_to(f"usr/{d}")
    (target / "boot/grub").mkdir(parents=True)
    (target / "usr/bin/wipestation").write_text("#!/bin/sh\n")
    for prog in _unit_programs(target):
        if prog != "/usr/local/bin/wipestation":  # post-build's job
            path = target / prog.lstrip("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")
    return target


def _post_build(target: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TARGET_DIR": str(target)}
    return subprocess.run(
        [BOARD / "post-build.sh", target], env=env, capture_output=True, text=True, timeout=30
    )


@pytest.mark.skipif(not OVERLAY.is_dir(), reason="image/rootfs-overlay/ not present")
def test_post_build_adapts_the_shared_overlay(tmp_path):
    target = _fake_target(tmp_path)
    r = _post_build(target)
    assert r.returncode == 0, r.stderr
    launcher = target / "usr/local/bin/wipestation"
    assert launcher.is_symlink()
    assert launcher.resolve() == (target / "usr/bin/wipestation").resolve()
    assert not (target / "boot").exists(), "the initramfs rootfs carries no /boot"


@pytest.mark.skipif(not OVERLAY.is_dir(), reason="image/rootfs-overlay/ not present")
def test_post_build_rejects_a_unit_whose_program_is_missing(tmp_path):
    target = _fake_target(tmp_path)
    others = sorted(p for p in _unit_programs(target) if p != "/usr/local/bin/wipestation")
    assert others, "the overlay's units start no other program (expected /bin/sh, /bin/bash)"
    (target / others[0].lstrip("/")).unlink()
    r = _post_build(target)
    assert r.returncode != 0
    assert f"starts {others[0]}, which is not in the rootfs" in r.stderr


def _grub_modules(platform: str) -> list[str]:
    m = re.search(
        rf'^BR2_TARGET_GRUB2_BUILTIN_MODULES_{platform}="([^"]*)"', DEFCONFIG.read_text(), re.M
    )
    assert m, platform
    return m[1].split()


def _boot_until(args: list[str], log: Path, pattern: bytes, timeout: float) -> bytes:
    """Run QEMU until the serial log shows `pattern` (or timeout); return the log."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            if log.exists() and pattern in log.read_bytes():
                break
            time.sleep(0.5)
    finally:
        proc.kill()
        proc.wait()
    return log.read_bytes() if log.exists() else b""


TOOLS = ["genimage", "grub-mkimage", "qemu-system-x86_64", "sfdisk", "mdir", "mlabel"]
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
GRUB_PC_BOOT = Path("/usr/lib/grub/i386-pc/boot.img")


FAKE_GENIMAGE_SH = """#!/bin/sh
# What Buildroot's support/scripts/genimage.sh does, for post-image.sh under test.
set -e
[ "$1" = -c ] && cfg=$2
mkdir -p "$BUILD_DIR/genimage.root"
exec genimage --rootpath "$BUILD_DIR/genimage.root" --tmppath "$BUILD_DIR/genimage.tmp" \\
    --inputpath "$BINARIES_DIR" --outputpath "$BINARIES_DIR" --config "$cfg"
"""


@pytest.mark.slow
@pytest.mark.skipif(not (REPO / "image/usb/grub.cfg").is_file(), reason="no image/usb/grub.cfg")
def test_post_image_stick_boots_grub_on_bios_and_uefi(tmp_path):
    """post-image.sh for real, on fake Buildroot output dirs: GRUB images made like Buildroot's
    (same modules, same built-in config), dummy kernel and initrd. The stick must have the
    Debian image's layout and reach the shared GRUB menu on SeaBIOS and on OVMF; GRUB then
    fails to load the dummy kernel, which proves it read grub.cfg from the stick."""
    missing = [t for t in TOOLS if not shutil.which(t)]
    missing += [str(p) for p in (OVMF_CODE, OVMF_VARS, GRUB_PC_BOOT) if not p.exists()]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install genimage grub-pc-bin ...)")
    top, images, build = tmp_path / "buildroot", tmp_path / "images", tmp_path / "build"
    target = _fake_target(tmp_path)
    grub_core = build / "grub2-2.14/build-i386-pc/grub-core"
    for d in (top / "support/scripts", images / "efi-part/EFI/BOOT", grub_core):
        d.mkdir(parents=True)
    script = top / "support/scripts/genimage.sh"
    script.write_text(FAKE_GENIMAGE_SH)
    script.chmod(0o755)
    shutil.copy(GRUB_PC_BOOT, grub_core / "boot.img")
    (images / "bzImage").write_bytes(os.urandom(1 << 20))
    (images / "rootfs.cpio.zst").write_bytes(os.urandom(1 << 20))
    early = BOARD / "grub-early.cfg"
    for fmt, dst, platform in (
        ("i386-pc", images / "grub.img", "PC"),
        ("x86_64-efi", images / "efi-part/EFI/BOOT/bootx64.efi", "EFI"),
    ):
        subprocess.run(
            ["grub-mkimage", "-O", fmt, "-c", early, "-p", "/boot/grub", "-o", dst]
            + _grub_modules(platform),
            check=True,
            timeout=60,
        )
    env = {
        **os.environ,
        "BINARIES_DIR": str(images),
        "BUILD_DIR": str(build),
        "TARGET_DIR": str(target),
        "DISK_ID": "5749a0e1",
    }
    r = subprocess.run(
        [BOARD / "post-image.sh"], cwd=top, env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stdout + r.stderr
    img = images / "wipestation.img"
    assert (images / "wipestation.img.partuuid").read_text().strip() == "5749a0e1-01"
    assert "wipestation.boot=PARTUUID=5749a0e1-01" in (images / "grub.cfg").read_text()

    table = subprocess.run(["sfdisk", "-d", img], capture_output=True, text=True, check=True)
    assert "label-id: 0x5749a0e1" in table.stdout
    parts = [ln for ln in table.stdout.splitlines() if ln.startswith(str(img))]
    assert len(parts) == 1, table.stdout
    assert re.search(r"start=\s*2048,.*type=c, bootable", parts[0]), parts[0]
    mtools = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    listing = subprocess.run(
        ["mdir", "-i", f"{img}@@1M", "-/", "-b", "::"],
        capture_output=True,
        text=True,
        check=True,
        env=mtools,
    ).stdout.upper()
    for f in ("BOOT/VMLINUZ", "BOOT/INITRD.IMG", "BOOT/GRUB/GRUB.CFG", "EFI/BOOT/BOOTX64.EFI"):
        assert f"::/{f}" in listing, listing
    for f in ("WIPESTATION.TOML", "README.TXT", "REPORTS/"):
        assert f"::/{f}" in listing, listing
    label = subprocess.run(
        ["mlabel", "-i", f"{img}@@1M", "-s", "::"], capture_output=True, text=True, env=mtools
    ).stdout
    assert "WIPESTATION" in label

    usb = ["-drive", f"file={img},format=raw,if=none,id=stick", "-device", "qemu-xhci"]
    usb += ["-device", "usb-storage,drive=stick,bootindex=0"]
    base = ["qemu-system-x86_64", "-accel", "tcg", "-m", "512", "-display", "none", "-no-reboot"]
    bios_log = tmp_path / "bios.log"
    log = _boot_until([*base, "-serial", f"file:{bios_log}", *usb], bios_log, b"invalid magic", 90)
    assert b"Wipestation" in log, log[-2000:]
    assert b"invalid magic" in log, "GRUB did not try the kernel from grub.cfg (BIOS)"

    vars_copy = tmp_path / "vars.fd"
    shutil.copy(OVMF_VARS, vars_copy)
    uefi_log = tmp_path / "uefi.log"
    firmware = ["-machine", "q35"]
    firmware += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}"]
    firmware += ["-drive", f"if=pflash,format=raw,file={vars_copy}"]
    log = _boot_until(
        [*base, *firmware, "-serial", f"file:{uefi_log}", *usb], uefi_log, b"invalid magic", 150
    )
    assert b"Wipestation" in log, log[-2000:]
    assert b"invalid magic" in log, "GRUB did not try the kernel from grub.cfg (UEFI)"
