"""A real wipe of a loop device through the engine: its record validates and verifies.

The other report tests build JobResult values by hand; this one proves the engine's actual output
(timestamps, identities of loop devices, step commands) fits the schema too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from wipestation.discovery.inventory import Inventory
from wipestation.reports.sign import verify_bytes
from wipestation.reports.trust import load_trust
from wipestation.reports.writer import ReportWriter

from tests.engine.conftest import planned_engine
from tests.reports.factory import validate

MiB = 1024 * 1024


def test_engine_wipe_produces_a_valid_signed_record(make_loop, tmp_path: Path) -> None:
    dev = make_loop(8 * MiB, b"secret ")
    inventory = Inventory()
    drive = inventory.get(os.path.basename(dev))
    assert drive is not None
    writer = ReportWriter(tmp_path / "out", key_home=tmp_path / "keys")
    engine = planned_engine(journal_dir=tmp_path / "journal", report_writer=writer)
    try:
        engine.start(drive, "overwrite-zero", "full")
        assert engine.wait(120)
    finally:
        engine.close()
        writer.close()
    (path,) = [p for p in (tmp_path / "out" / "reports").glob("*/*.json")]
    trusted = load_trust(list((tmp_path / "keys").glob("*.pub.pem"))).fingerprints
    v = verify_bytes(path.read_bytes(), trusted)
    assert v.ok, v.reason
    record = validate(json.loads(path.read_bytes()))
    assert record["result"]["status"] == "PASS"
    assert record["verification"]["coverage_pct"] == 100.0
    assert record["steps"]
    assert path.with_suffix(".pdf").exists()
