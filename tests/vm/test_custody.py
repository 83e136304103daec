"""Issue 17's VM scenario: an unattended station works a lot from a customer's manifest.

First boot: a 5-entry manifest (on the boot stick, as a spreadsheet writes it) and 4 of its
drives attached; the station wipes them, closes its lot INCOMPLETE naming the fifth, and powers
off. Second boot, from the same boot stick (the same station key, so the same identity and one
record chain), with the fifth drive and another report stick. Then, on the host, as at the
office: ``wipestation lot reconcile`` over copies of both report sticks, trusting only the
station identity the first stick carries → COMPLETE, and the lot certificate names every serial.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from wipestation.custody.lot_record import load_schema
from wipestation.reports.sign import verify_bytes

from tests.vm.hostcheck import Reports, Stick, result_of
from tests.vm.machine import Boot, Image, Machine
from tests.vm.rack import Disk, Rack, ReportStick
from tests.vm.test_scenarios import (
    assert_boot_stick_unchanged,
    assert_erased,
    report_stick,
    run_to_poweroff,
    unattended,
)

pytestmark = pytest.mark.vm

LOT = "LOT-17-VM"
CUSTOMER = "東京都 Recycling"  # a Japanese name must come out of the certificate as it went in
DISKS = (
    Disk("nvme", 16, "LOTD0001"),
    Disk("sata", 16, "LOTD0002"),
    Disk("scsi", 16, "LOTD0003"),
    Disk("virtio", 16, "LOTD0004"),
    Disk("sata", 16, "LOTD0005"),
)
#: As a spreadsheet exports it: BOM, semicolons, CRLF, a quoted note with a semicolon.
MANIFEST = "\ufeffSerial;Asset Tag;Note\r\n" + "".join(
    f'{d.serial};AT-{i + 1001};"box {i // 3 + 1}; shelf A"\r\n' for i, d in enumerate(DISKS)
)
LOT_LINE = r"^LOT (\S+) (COMPLETE|INCOMPLETE) (.*)$"


def lot_options() -> tuple[str, ...]:
    return (f"wipestation.lot={LOT}", "wipestation.manifest=lot-17-manifest.csv")


def boot_with_lot(image: Image) -> Boot:
    files = {"lot-17-manifest.csv": MANIFEST, "wipestation.toml": STATION_TOML}
    return unattended(image, "overwrite-zero", *lot_options(), stick=True, stick_files=files)


#: The customer's name has no place on a kernel command line: the stick's settings carry it.
STATION_TOML = f'[station]\ncustomer = "{CUSTOMER}"\nlocation = "Bay 7"\n'


def lot_line(m: Machine) -> re.Match[str]:
    match = re.search(LOT_LINE, m.console_text().replace("\r", ""), re.MULTILINE)
    assert match, f"no LOT line on the console: {m.tail()}"
    return match


def copy_stick(stick: Stick, dest: Path) -> Path:
    """Everything on a report stick, copied to a directory as the office would."""
    dest.mkdir(parents=True)
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    subprocess.run(["mcopy", "-s", "-n", "-i", stick.spec, "::/*", str(dest)], check=True, env=env)
    return dest


def lot_files(stick: Stick) -> list[str]:
    return [p for p in stick.files() if p.startswith("/lots/")]


def check_station_lot(stick: Stick, trusted: tuple[str, ...], missing: list[str]) -> None:
    """The lot record the station left: schema-valid, signed by the station, names the missing."""
    files = lot_files(stick)
    jsons = [p for p in files if p.endswith(".json")]
    assert len(jsons) == 1, files
    assert any(p.endswith(".pdf") for p in files), files
    data = stick.read(jsons[0])
    lot = json.loads(data)
    jsonschema.validate(lot, load_schema(), cls=jsonschema.Draft202012Validator)
    assert verify_bytes(data, trusted).ok, "the station's lot record does not verify"
    assert (lot["lot_id"], lot["customer"]) == (LOT, CUSTOMER)
    open_serials = [e["serial"] for e in lot["entries"] if e["outcome"] not in ("PASS",)]
    assert open_serials == missing, lot["entries"]


def reconcile(trust: Path, out: Path, *sources: Path) -> subprocess.CompletedProcess[str]:
    manifest = out.parent / "lot-17-manifest.csv"
    manifest.write_bytes(MANIFEST.encode("utf-8-sig").removeprefix(b"\xef\xbb\xbf"))
    argv = [sys.executable, "-m", "wipestation", "lot", "reconcile", "--manifest", str(manifest)]
    argv += ["--lot", LOT, "--trust", str(trust), *map(str, sources), "--out", str(out), "--json"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300)


def test_unattended_lot_incomplete_then_complete_across_two_boots(image: Image, tmp_path) -> None:
    first, fifth = DISKS[:4], DISKS[4]
    rack1 = Rack(disks=first, report_stick=ReportStick())
    with Machine(
        boot_with_lot(image), rack=rack1, name="c1-lot", workdir=tmp_path / "boot1", keep=True
    ) as m:
        done = run_to_poweroff(m)
        assert done.groups() == ("4", "0", "4"), done[0]
        line = lot_line(m)
        assert line.groups()[:2] == (LOT, "INCOMPLETE"), line[0]
        assert "LOTD0005" in line[3], line[0]
        assert "LOTD0001" not in line[3], line[0]
        for disk in first:
            assert_erased(m, disk)
        assert_boot_stick_unchanged(m)
        stick1 = report_stick(m)
        reports1 = Reports.load(stick1)
        assert sorted(reports1.records) == [d.serial for d in first]
        for i, disk in enumerate(first):
            rec = reports1.check_drive(disk)
            assert result_of(rec) == "PASS"
            assert (rec["lot_id"], rec["asset_tag"], rec["customer"]) == (
                LOT,
                f"AT-{i + 1001}",
                CUSTOMER,
            )
        trusted = tuple({r["signature"]["key_fingerprint"] for r in reports1.records.values()})
        check_station_lot(stick1, trusted, ["LOTD0005"])
        identity = [p for p in stick1.files() if p.startswith("/wipestation-identity/")]
        assert identity, stick1.files()
        trust = tmp_path / "station.identity.json"
        trust.write_bytes(stick1.read(identity[0]))
        copy1 = copy_stick(stick1, tmp_path / "office" / "stick1")
        boot_stick = m.dir / "boot-stick.img"

    # The same boot stick again (its key home keeps the station's one identity), the fifth
    # drive and a second report stick.
    boot2 = tmp_path / "boot2"
    boot2.mkdir()
    subprocess.run(
        ["cp", "--sparse=always", str(boot_stick), str(boot2 / "boot-stick.img")], check=True
    )
    rack2 = Rack(disks=(fifth,), report_stick=ReportStick())
    with Machine(boot_with_lot(image), rack=rack2, name="c2-lot", workdir=boot2, keep=True) as m:
        done = run_to_poweroff(m)
        assert done.groups() == ("1", "0", "1"), done[0]
        assert_erased(m, fifth)
        stick2 = report_stick(m)
        rec = Reports.load(stick2, trusted).check_drive(fifth)
        assert (result_of(rec), rec["asset_tag"]) == ("PASS", "AT-1005")
        copy2 = copy_stick(stick2, tmp_path / "office" / "stick2")

    out = tmp_path / "office" / "out"
    done_lot = reconcile(trust, out, copy1, copy2)
    assert done_lot.returncode == 0, done_lot.stdout + done_lot.stderr
    summary = json.loads(done_lot.stdout)
    assert summary["status"] == "COMPLETE", summary
    assert (summary["expected"], summary["passed"], summary["missing"]) == (5, 5, [])
    assert summary["rejected"] == [], summary
    assert summary["chain_gaps"] == [], summary
    (pdf,) = out.glob("*.pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "COMPLETE" in text, text[:800]
    assert CUSTOMER in text, text[:800]
    for disk in DISKS:
        assert disk.serial in text, f"{disk.serial} missing from the lot certificate"

    # Without the second stick the office sees what the station saw: the fifth is missing.
    partial = reconcile(trust, tmp_path / "office" / "partial", copy1)
    assert partial.returncode == 3, partial.stdout + partial.stderr
    assert [e["serial"] for e in json.loads(partial.stdout)["missing"]] == ["LOTD0005"]
