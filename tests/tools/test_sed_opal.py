"""The kernel's sed-opal ioctl as the station calls it, and the kernel command lines that let
libata pass TCG commands to SATA drives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from wipestation.steps.tcg import PsidRefusedError
from wipestation.tools import sed_opal

from tests.policy.test_psid_revert import run_step
from tests.tools.fakes import fixture

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


def sedutil_status(log: str) -> tuple[int, str]:
    """The status a real drive answered, and sedutil's name for it, from sedutil's own output.

    Read from the reply's bytes where the log dumps them (the status list after End of Data:
    ``f9 f0 <status> 00 00 f1``), else from sedutil's ``rc = <status>`` line.
    """
    name = re.search(r"method status code (\w+)", log)
    assert name, "the log names no method status"
    rows = re.findall(r"^[0-9a-f]{4} ((?:[0-9a-f]{2,8} ?)+)", log, re.M)
    data = bytes.fromhex("".join(rows).replace(" ", ""))
    tail = re.search(rb"\xf9\xf0(.)\x00\x00\xf1", data, re.S)
    rc = re.search(r"rc = (\d+)", log)
    code = tail.group(1)[0] if tail else int(rc.group(1)) if rc else None
    assert code is not None, "the log holds no status value"
    return code, name.group(1)


@pytest.mark.parametrize(
    ("log", "code"),
    [
        ("opal/sedutil-300-crucial-m550-psid-revert-not-authorized-reply.txt", 0x01),
        ("opal/sedutil-197-crucial-mx200-reverttper-authority-locked-out.txt", 0x12),
    ],
)
def test_a_real_drives_refusal_drives_the_ioctl_and_keeps_its_name(log, code):
    """The status values real drives answered (tests/fixtures/opal/PROVENANCE.md, "TCG method
    failures"), returned by a fake ioctl as the kernel returns them: psid_revert hands the value
    back unchanged and the station names it as sedutil named it."""
    real, sedutil_name = sedutil_status(fixture(log))
    assert real == code
    calls = []

    def ioctl(fd: int, request: int, buf: bytearray, mutate: bool) -> int:
        calls.append(request)
        return real

    assert sed_opal.psid_revert(3, "0123456789ABCDEF0123456789ABCDEF", ioctl=ioctl) == real
    assert calls == [sed_opal.IOC_OPAL_PSID_REVERT_TPR]
    assert sed_opal.status_name(real) == sedutil_name


@pytest.mark.parametrize(
    "log",
    [
        "opal/sedutil-300-crucial-m550-psid-revert-not-authorized-reply.txt",
        "opal/sedutil-197-crucial-mx200-reverttper-authority-locked-out.txt",
    ],
)
def test_the_revert_step_refused_with_a_real_status_records_the_drives_answer(tmp_path, log):
    real, sedutil_name = sedutil_status(fixture(log))
    step, ctx, ioctl, runner = run_step(tmp_path, real)  # tests/policy/test_psid_revert.py
    with pytest.raises(PsidRefusedError, match=f"the drive answered {sedutil_name}") as e:
        step.run(ctx)
    assert e.value.answer == sedutil_name
    assert len(ioctl.calls) == 1
    assert not runner.calls  # no read-back of a drive that refused


def test_every_kernel_command_line_the_project_builds_lets_libata_pass_tcg_commands():
    grub = (REPO / "image/usb/grub.cfg").read_text()
    linux_lines = [ln for ln in grub.splitlines() if ln.strip().startswith("linux ")]
    assert len(linux_lines) == 2  # the station entry and the debug entry
    assert all("libata.allow_tpm=1" in ln for ln in linux_lines)
    machine = (REPO / "tests/vm/machine.py").read_text()
    assert 'DEFAULT_APPEND = "console=ttyS0,115200 libata.allow_tpm=1' in machine
    fragment = (REPO / "buildroot-config/board/wipestation/linux.fragment").read_text()
    assert "CONFIG_BLK_SED_OPAL=y" in fragment.splitlines()
