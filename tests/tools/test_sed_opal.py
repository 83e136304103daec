"""The kernel's sed-opal ioctl as the station calls it, and the kernel command lines that let
libata pass TCG commands to SATA drives."""

from __future__ import annotations

from pathlib import Path

import pytest
from wipestation.tools import sed_opal

REPO = Path(__file__).resolve().parents[2]


def test_the_psid_revert_request_and_its_key_layout():
    # include/uapi/linux/sed-opal.h: IOC_OPAL_PSID_REVERT_TPR is _IOW('p', 232, struct opal_key)
    assert sed_opal.IOC_OPAL_PSID_REVERT_TPR == 0x410870E8
    key = sed_opal.opal_key(b"0123456789ABCDEF0123456789ABCDEF")
    assert len(key) == 264
    assert (key[0], key[1], bytes(key[2:8])) == (0, 32, bytes(6))
    assert key[8:40] == b"0123456789ABCDEF0123456789ABCDEF"
    assert not any(key[40:])
    with pytest.raises(ValueError, match="1 to 256 bytes"):
        sed_opal.opal_key(b"")


def test_the_drive_answers_have_their_tcg_names():
    assert sed_opal.status_name(0x01) == "NOT_AUTHORIZED"
    assert sed_opal.status_name(0x12) == "AUTHORITY_LOCKED_OUT"
    assert sed_opal.status_name(0x42) == "status 0x42"


def test_every_kernel_command_line_the_project_builds_lets_libata_pass_tcg_commands():
    grub = (REPO / "image/usb/grub.cfg").read_text()
    linux_lines = [ln for ln in grub.splitlines() if ln.strip().startswith("linux ")]
    assert len(linux_lines) == 2  # the station entry and the debug entry
    assert all("libata.allow_tpm=1" in ln for ln in linux_lines)
    machine = (REPO / "tests/vm/machine.py").read_text()
    assert 'DEFAULT_APPEND = "console=ttyS0,115200 libata.allow_tpm=1' in machine
    fragment = (REPO / "buildroot-config/board/wipestation/linux.fragment").read_text()
    assert "CONFIG_BLK_SED_OPAL=y" in fragment.splitlines()
