"""The headless conveyor closes its lot on real loop devices: a 3-entry manifest and 2 drives →
``LOT … INCOMPLETE`` naming the third, the lot record valid against its schema and its PDF under
``lots/``; a second run with the third drive on the same report dir counts the first run's
records (``PRIOR``) and closes the lot ``COMPLETE``."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from wipestation.config import StationConfig
from wipestation.conveyor import run_headless
from wipestation.custody.lot_record import load_schema
from wipestation.custody.resume import open_lots
from wipestation.discovery.inventory import Inventory
from wipestation.engine.jobs import Engine
from wipestation.model import Drive, IdentitySource
from wipestation.planning.planner import Planner
from wipestation.reports.record import StationInfo
from wipestation.reports.sign import verify_bytes
from wipestation.reports.writer import ReportWriter
from wipestation.services import Services

from tests.config.test_headless import NoHotplug
from tests.engine.conftest import MiB

LOT_LINE = re.compile(
    r"^LOT (\S+) (COMPLETE|INCOMPLETE) expected=(\d+) passed=(\d+) failed=(\d+) "
    r"destroyed=(\d+) missing=(\S*) record=(\S+)$",
    re.MULTILINE,
)


class Labelled(Inventory):
    """The real inventory, limited to this test's loop devices, each with the serial a real
    drive's firmware would report (loop devices have none, and the manifest lists serials); the
    engine re-checks every drive through it before writing, as it does the real one."""

    def __init__(self, serials: dict[str, str]) -> None:
        super().__init__()
        self.serials = serials

    def _label(self, d: Drive) -> Drive:
        s = self.serials.get(d.path, "")
        return replace(d, serial=s, identity=s, identity_source=IdentitySource.SERIAL) if s else d

    def drives(self, *, busy_of: str | None = None) -> list[Drive]:
        listed = super().drives(busy_of=busy_of)
        return [self._label(d) for d in listed if d.path in self.serials]

    def get(self, path_or_name: str, others: Iterable[Drive] | None = None) -> Drive | None:
        d = super().get(path_or_name, others)
        return self._label(d) if d is not None else None


def conveyor(tmp_path: Path, report_dir: Path, serials: dict[str, str]) -> tuple[int, str]:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("Serial;Asset tag\nLOOP-A;AT-A\nLOOP-B;\nLOOP-C;AT-C\n", encoding="utf-8")
    cfg = StationConfig(
        station="bay-1", unattended=True, method="overwrite-zero", verify="full", poweroff=True,
        report_dir=str(report_dir), lot="L-42", customer="ACME Recycling", manifest=str(manifest),
    )  # fmt: skip
    station = StationInfo(station_id=cfg.station, customer=cfg.customer, lot_id=cfg.lot)
    writer = ReportWriter(report_dir, station=station, key_home=tmp_path / "keys", spool_dir=None)
    inventory = Labelled(serials)
    engine = Engine(inventory, journal_dir=report_dir / ".journal", report_writer=writer)
    services = Services(cfg, inventory, Planner(), engine, NoHotplug(), writer)  # type: ignore[arg-type]
    out, powered = io.StringIO(), []
    rc = run_headless(services, out, power_off=lambda: powered.append(True))
    assert powered == [True]
    return rc, out.getvalue()


def lot_line(text: str) -> tuple[str, ...]:
    found = LOT_LINE.findall(text)
    assert len(found) == 1, text
    assert text.index("\nLOT ") < text.index("\nDONE "), text  # before DONE
    return found[0]


@pytest.mark.slow
def drive_records(report_dir):
    return [json.loads(p.read_bytes()) for p in sorted(report_dir.glob("reports/*/*.json"))]


def test_the_conveyor_closes_its_lot_then_a_second_boot_completes_it(make_loop, tmp_path):
    report_dir = tmp_path / "stick"
    a, b, c = (make_loop(4 * MiB, p) for p in (b"aaaa", b"bbbb", b"cccc"))

    rc, text = conveyor(tmp_path, report_dir, {a: "LOOP-A", b: "LOOP-B"})
    assert rc == 0, text
    assert "PRIOR lot=L-42 records=0 rejected=0" in text
    lot, status, expected, passed, failed, destroyed, missing, record = lot_line(text)
    assert (lot, status, expected, passed, failed, destroyed) == (
        "L-42", "INCOMPLETE", "3", "2", "0", "0",
    )  # fmt: skip
    assert missing == "LOOP-C"
    first = report_dir / "lots" / record
    doc = json.loads(first.read_bytes())
    jsonschema.validate(doc, load_schema())
    assert verify_bytes(first.read_bytes()).ok
    assert (doc["lot_id"], doc["status"], doc["customer"]) == (
        "L-42",
        "INCOMPLETE",
        "ACME Recycling",
    )
    assert first.with_suffix(".pdf").exists()
    assert open_lots(report_dir) == []  # closed after its last record
    # nothing is scanned at a conveyor: the manifest names each drive's asset tag
    tags = {r["drive"]["serial"]: r["asset_tag"] for r in drive_records(report_dir)}
    assert tags == {"LOOP-A": "AT-A", "LOOP-B": ""}

    rc, text = conveyor(tmp_path, report_dir, {c: "LOOP-C"})
    assert rc == 0, text
    assert "PRIOR lot=L-42 records=2 rejected=0" in text
    lot, status, expected, passed, failed, destroyed, missing, record = lot_line(text)
    assert (status, expected, passed, failed, missing) == ("COMPLETE", "3", "3", "0", "")
    assert record != first.name  # the first lot record stays
    doc = json.loads((report_dir / "lots" / record).read_bytes())
    jsonschema.validate(doc, load_schema())
    assert doc["status"] == "COMPLETE"
    assert {e["serial"]: e["outcome"] for e in doc["entries"]} == {
        "LOOP-A": "PASS", "LOOP-B": "PASS", "LOOP-C": "PASS",
    }  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("why", ["no target", "bad manifest"])
def test_a_lot_that_cannot_be_written_says_why_and_the_station_still_powers_off(why, tmp_path):
    bad = tmp_path / "m.csv"
    bad.write_text("colour;weight\nred;3\n", encoding="utf-8")
    cfg = StationConfig(unattended=True, poweroff=True, lot="L 7", customer="ACME")
    report_dir: Path | None = None
    if why == "bad manifest":
        cfg, report_dir = replace(cfg, manifest=str(bad)), tmp_path / "stick"
    station = StationInfo("bay-1", lot_id="L 7")
    writer = ReportWriter(report_dir, station=station, key_home=tmp_path / "k", spool_dir=None)
    inventory = Labelled({})  # no drive: the run ends at once
    engine = Engine(inventory, journal_dir=tmp_path / ".journal", report_writer=writer)
    services = Services(cfg, inventory, Planner(), engine, NoHotplug(), writer)  # type: ignore[arg-type]
    out, powered = io.StringIO(), []
    assert run_headless(services, out, power_off=lambda: powered.append(True)) == 0
    text = out.getvalue()
    assert powered == [True]
    assert LOT_LINE.search(text) is None
    if why == "no target":
        assert "\nLOT L_7 NOT-WRITTEN no report target configured\nDONE " in text, text
        assert "PRIOR lot=L_7 unread: no report target configured" in text
    else:
        assert re.search(r"\nLOT L_7 NOT-WRITTEN manifest not loaded: .*m\.csv.*\nDONE ", text)
        assert "\nMANIFEST lot=L_7 manifest not loaded: " in text
        assert "PRIOR lot=L_7 records=0 rejected=0" in text
        assert not (report_dir / "lots").exists()
