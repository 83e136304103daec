"""A key file in RAM is labelled ``ephemeral``, never ``file``: a netbooted station with no TPM
and no boot stick makes a new key at every boot, and its records must say so; and so must the
station itself, from its start (the conveyor's ``KEY`` line here; the screen's banner in
tests/tui/test_key_notice.py)."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from wipestation.cli import run as cli_run
from wipestation.config import StationConfig
from wipestation.conveyor import run_headless
from wipestation.discovery.inventory import Inventory
from wipestation.engine.jobs import Engine
from wipestation.planning.planner import Planner
from wipestation.reports import pdf
from wipestation.reports.keystore import (
    EPHEMERAL_NOTICE,
    KeyHome,
    StationKey,
    file_signer,
    filesystem_of,
    planned_protection,
    volatile,
)
from wipestation.reports.sign import verify_bytes
from wipestation.reports.writer import ReportWriter
from wipestation.services import Services

from tests.config.test_headless import NoHotplug, OnlyThese
from tests.helpers.tmpfs import mounted_tmpfs
from tests.reports.factory import validate
from tests.trust.helpers import load, write_records

MOUNTINFO = """\
1 1 0:2 / / rw shared:1 - rootfs rootfs rw,size=1000k
22 1 0:21 / /run rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,mode=755
40 1 8:1 / /media/boot\\040stick rw,relatime - vfat /dev/sda1 rw
41 1 8:2 / /var/lib/wipestation rw,relatime - ext4 /dev/sda2 rw
42 41 0:30 / /var/lib/wipestation/keys rw - tmpfs tmpfs rw
"""


@pytest.fixture
def mountinfo(tmp_path: Path) -> Path:
    path = tmp_path / "mountinfo"
    path.write_text(MOUNTINFO)
    return path


@pytest.mark.parametrize(
    ("where", "fstype"),
    [
        ("/var/lib/wipestation/keys", "tmpfs"),  # the deepest mount wins
        ("/var/lib/wipestation/keys/not-yet-made", "tmpfs"),
        ("/var/lib/wipestation/chain.json", "ext4"),
        ("/media/boot stick/wipestation-keys", "vfat"),  # mountinfo escapes the space
        ("/media/bootstick", "rootfs"),  # a prefix of a name is not a parent
        ("/opt/x", "rootfs"),
    ],
)
def test_the_file_system_a_key_is_on(mountinfo: Path, where: str, fstype: str) -> None:
    assert filesystem_of(Path(where), mountinfo) == fstype
    assert volatile(Path(where), mountinfo) == (fstype in ("rootfs", "tmpfs"))


def test_unreadable_mountinfo_is_not_called_ram(tmp_path: Path) -> None:
    assert filesystem_of(Path("/x"), tmp_path / "absent") == ""
    assert not volatile(Path("/x"), tmp_path / "absent")


def test_one_key_file_is_labelled_by_where_it_lies(mountinfo: Path, tmp_path: Path) -> None:
    """The same key file: ``file`` when its directory is a stick's, ``ephemeral`` when RAM."""
    on_disk = file_signer(tmp_path / "keys", "bench-1", tmp_path / "no-mountinfo")
    assert on_disk.protection == "file"
    ram = tmp_path / "ram-mountinfo"
    ram.write_text(f"1 1 0:2 / / rw - rootfs rootfs rw\n50 1 0:9 / {tmp_path} rw - tmpfs t rw\n")
    again = file_signer(tmp_path / "keys", "bench-1", ram)
    assert again.protection == "ephemeral"
    assert again.fingerprint == on_disk.fingerprint  # read back, not made anew


def test_the_protection_is_known_before_the_key_is_opened(mountinfo: Path) -> None:
    """What the station says at start, before its first record makes or opens the key."""
    ram, disk = "/var/lib/wipestation/keys", "/var/lib/wipestation/x"
    assert planned_protection(KeyHome.directory(ram), mountinfo) == "ephemeral"
    assert planned_protection(KeyHome.directory(disk), mountinfo) == "file"
    tpm = KeyHome.directory(ram, tcti="swtpm:host=127.0.0.1,port=2321")
    assert planned_protection(tpm, mountinfo) == "tpm"  # a TPM key is never in RAM
    assert planned_protection(KeyHome.boot_stick(), mountinfo) == "file"


@pytest.fixture
def ram_dir(tmp_path: Path) -> Iterator[Path]:
    """A real tmpfs, like a netbooted station's /var/lib/wipestation/keys."""
    with mounted_tmpfs(tmp_path / "ram") as where:
        yield where


@pytest.mark.root
def test_a_station_key_in_ram_says_so_before_its_first_record(ram_dir: Path) -> None:
    key = StationKey(KeyHome.directory(ram_dir / "keys"), "bench-3")
    assert key.protection == "ephemeral"
    assert not (ram_dir / "keys").exists()  # said without making the key
    with key.session() as session:
        assert session.signer.protection == "ephemeral"
    assert key.protection == "ephemeral"


def headless(keys: Path, report_dir: Path, devices: list[str]) -> list[str]:
    """The conveyor over ``devices`` (loop devices), its key in ``keys``: its log lines."""
    cfg = StationConfig(
        unattended=True, method="overwrite-zero", verify="sample", poweroff=True,
        report_dir=str(report_dir),
    )  # fmt: skip
    writer = ReportWriter(report_dir, key_home=keys, pdf_enabled=False)
    engine = Engine(Inventory(), journal_dir=report_dir / ".journal", report_writer=writer)
    services = Services(cfg, OnlyThese(devices), Planner(), engine, NoHotplug(), writer)  # type: ignore[arg-type]
    out = io.StringIO()
    assert run_headless(services, out, power_off=lambda: None) == 0, out.getvalue()
    return out.getvalue().splitlines()


@pytest.mark.root
def test_the_conveyor_says_once_at_start_that_its_key_is_made_at_this_boot(
    ram_dir: Path, tmp_path: Path, make_loop
) -> None:
    devices = [make_loop(4 << 20, b"data "), make_loop(4 << 20, b"more ")]
    lines = headless(ram_dir / "keys", tmp_path / "reports", devices)
    assert lines[0].startswith("CONVEYOR ")
    assert lines[1] == f"KEY ephemeral {EPHEMERAL_NOTICE}"
    assert sum(line.startswith("KEY ") for line in lines) == 1  # once, not per record
    assert lines[-1] == "DONE passed=2 failed=0 reports=2"
    records = [json.loads(p.read_bytes()) for p in tmp_path.glob("reports/reports/*/*.json")]
    assert [r["signature"]["key_protection"] for r in records] == ["ephemeral", "ephemeral"]


def test_a_conveyor_with_its_key_on_disk_says_nothing_of_it(tmp_path: Path) -> None:
    lines = headless(tmp_path / "keys", tmp_path / "reports", [])
    assert lines[0].startswith("CONVEYOR ")
    assert not any(line.startswith("KEY ") for line in lines)


@pytest.mark.root
def test_records_signed_with_a_key_in_ram_say_ephemeral(
    ram_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("TPM2TOOLS_TCTI", raising=False)
    keys = ram_dir / "keys"
    (first,) = write_records(tmp_path / "reports", KeyHome.directory(keys), 1)
    (second,) = write_records(tmp_path / "reports", KeyHome.directory(keys), 1, 1)
    for path in (first, second):
        rec = validate(load(path))  # the schema knows "ephemeral"
        assert rec["signature"]["key_protection"] == "ephemeral"
        assert rec["signature"]["algorithm"] == "Ed25519"
        verdict = verify_bytes(path.read_bytes())
        assert verdict.ok, verdict.reason
        assert verdict.protection == "ephemeral"
    fingerprints = {load(p)["signature"]["key_fingerprint"] for p in (first, second)}
    assert len(fingerprints) == 1  # one key for the whole boot
    assert (keys / "bench-2.protection").read_text() == "ephemeral\n"
    assert cli_run(["verify-report", str(first)]) == 0
    assert "(ephemeral)" in capsys.readouterr().out
    # The certificate says it in words.
    out = tmp_path / "c.pdf"
    out.write_bytes(pdf.render_certificate(load(first)))
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, check=True).stdout
    assert b"Ed25519, made at this boot, in RAM only" in b" ".join(text.split())


def test_a_tpm_and_a_boot_stick_key_are_named_as_such() -> None:
    assert pdf.key_line({"algorithm": "ECDSA-P256-SHA256", "key_protection": "tpm"}) == (
        "ECDSA-P256-SHA256, inside the station's TPM 2.0, never exportable"
    )
    assert pdf.key_line({"algorithm": "Ed25519", "key_protection": "file"}).endswith("boot stick")
    assert pdf.key_line({}) == "UNSIGNED"
