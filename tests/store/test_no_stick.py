"""A station with no report stick (a network boot, issue 20): its records wait in RAM and go to
the store, and power-off follows the store's acknowledgement instead of waiting for a stick
that never comes. The real engine wipes a loop device; the real writer finds no stick (its
probe lists no partition); the real uploader talks to the real SeaweedFS."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from wipestation.config import StationConfig
from wipestation.discovery.inventory import Inventory
from wipestation.engine.jobs import Engine
from wipestation.planning.planner import Planner
from wipestation.reports.record import serialize
from wipestation.reports.sign import verify_bytes
from wipestation.reports.store import StoreLocation, StoreSettings
from wipestation.reports.target import StickTarget
from wipestation.reports.uploader import StoreStatus, Uploader
from wipestation.reports.writer import ReportWriter
from wipestation.services import Services
from wipestation.unattended import Autopilot

from tests.engine.conftest import planned_engine
from tests.store.seaweed import Seaweed, free_ports

MiB = 1 << 20
GIVE_UP_S = 120.0  # guards against a hang, never a speed requirement


def wait_for(store: Uploader, ok: Callable[[StoreStatus], bool]) -> StoreStatus:
    """Poll the uploader's status until ``ok`` (bounded): its thread sets it after a try."""
    deadline = time.monotonic() + GIVE_UP_S
    while not ok(status := store.status()):
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    return status


@pytest.fixture
def settings(seaweed: Seaweed) -> StoreSettings:
    bucket = seaweed.make_bucket("no-stick-" + hashlib.sha256(b"no-stick").hexdigest()[:12])
    location = StoreLocation(bucket.bucket, "site-a")
    return StoreSettings(location, seaweed.endpoint, "us-east-1", seaweed.credentials)


def test_without_a_stick_power_off_waits_for_the_store_then_goes(
    seaweed: Seaweed, settings: StoreSettings, make_loop: Callable[..., str], tmp_path: Path
) -> None:
    down = replace(settings, endpoint=f"http://127.0.0.1:{free_ports(1)[0]}")  # nobody there
    store = Uploader(down, first_delay=0.1, max_delay=1.0)
    no_stick = StickTarget(probe=lambda: [])
    writer = ReportWriter(target=no_stick, key_home=tmp_path / "keys", store=store)
    engine = planned_engine(journal_dir=tmp_path / "journal", report_writer=writer, buffer_size=MiB)
    idle = Engine(Inventory(), journal_dir=tmp_path / "idle-journal")
    try:
        drive = Inventory().get(make_loop(8 * MiB, b"customer data "))
        assert drive is not None
        engine.start(drive, "overwrite-zero", "sample")
        assert engine.wait(timeout=GIVE_UP_S)
        (record,) = writer.spool.pending()  # signed (the key is at hand), kept in RAM
        assert writer.status.target == "absent"
        store.submit(record, serialize(record), None)  # as the writer offers it: same key
        status = wait_for(store, lambda s: bool(s.reason))
        services = Services(StationConfig(station="t"), Inventory(), Planner(), idle, None, writer)
        pilot = Autopilot(services, print)
        # Not the stick's "NOT YET SAVED": the store is where this record can go.
        assert pilot.waiting_for_reports() == status.message
        assert "records not yet in the store: store unreachable" in status.message
        assert not pilot.may_power_off()
        store.use(settings)
        assert store.wait_idle(GIVE_UP_S), store.status()
        assert writer.status.pending == 1  # still only in RAM besides the store ...
        assert pilot.waiting_for_reports() == ""  # ... which holds it: nothing is lost
        assert pilot.may_power_off()
        (key,) = [
            o.key for o in settings.client().list("site-a/records/") if o.key.endswith("json")
        ]
        assert verify_bytes(settings.client().get(key)).ok
    finally:
        engine.close()
        idle.close()
        writer.close()
