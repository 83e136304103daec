"""The upload queue survives a restart: a station that stops with records not yet in the store
delivers them at its next start, from its report stick, each exactly once.

Stations here are built the way the station builds them (``ReportWriter.from_config`` +
``assembly.attach_store``, which starts the re-offer at start); the engine is the real one on
loop devices, the store the real SeaweedFS, stopped and started by PID."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from wipestation.assembly import attach_store
from wipestation.config import StationConfig
from wipestation.custody.close import close_lot, identity_of
from wipestation.custody.desk import LotDesk
from wipestation.discovery.inventory import Inventory
from wipestation.reports.store_client import StoreClient
from wipestation.reports.uploader import StoreStatus, Uploader
from wipestation.reports.writer import REOFFER_BUDGET, ReportWriter
from wipestation.tui.reporting import report_status_of

from tests.engine.conftest import planned_engine
from tests.store.seaweed import Seaweed
from tests.store.test_delivery import GIVE_UP_S, MiB, wait_for_status

PAPERS = 5  # three drive records, the lot record, the identity file
OBJECTS = 9  # their JSON + PDF (the identity file has no PDF)


@dataclass(frozen=True)
class Station:
    cfg: StationConfig
    tmp: Path

    def start(self, budget: int = REOFFER_BUDGET) -> ReportWriter:
        """A fresh start of the station's writer: its store attached as at boot."""
        writer = ReportWriter.from_config(self.cfg, spool_dir=self.tmp / "spool")
        writer.key_home = self.tmp / "keys"  # the host's /var/lib is no test's to write
        writer.reoffer_budget = budget
        attach_store(writer, self.cfg)
        assert isinstance(writer.store, Uploader)
        return writer


@pytest.fixture
def station(seaweed: Seaweed, request: pytest.FixtureRequest, tmp_path: Path) -> Station:
    bucket = "rs-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:20]
    seaweed.make_bucket(bucket)
    c = seaweed.credentials
    cfg = StationConfig(
        station="floor-7",
        lot="L5",
        report_dir=str(tmp_path / "stick"),
        store=f"s3://{bucket}/site-a",
        store_endpoint=seaweed.endpoint,
        store_access_key=c.access_key,
        store_secret_key=c.secret_key,
    )
    return Station(cfg, tmp_path)


def wipe_and_close(make_loop: Callable[..., str], writer: ReportWriter, station: Station) -> None:
    """Three loop devices wiped by the real engine, then the lot closed (custody/close.py)."""
    tmp = station.tmp
    engine = planned_engine(journal_dir=tmp / "journal", report_writer=writer, buffer_size=MiB)
    try:
        inventory = Inventory()
        for n in range(3):
            drive = inventory.get(make_loop(8 * MiB + n * 4096, f"restart data {n} ".encode()))
            assert drive is not None
            engine.start(drive, "overwrite-zero", "sample")
        assert engine.wait(timeout=GIVE_UP_S)
        assert all(r.passed for r in engine.results().values())
    finally:
        engine.close()
    close_lot(writer, LotDesk(), identity_of(station.cfg))


def stick_papers(stick: Path) -> list[bytes]:
    """Every signed paper's file on the stick (records, lot record, identity; PDFs)."""
    return [
        p.read_bytes()
        for p in sorted(stick.rglob("*"))
        if p.suffix in (".json", ".pdf")
        and not p.name.startswith("session-")
        and ".wipestation" not in p.parts
    ]


def in_store(client: StoreClient) -> dict[str, bytes]:
    listed = [o.key for o in client.list("site-a/") if not o.key.endswith("/status.json")]
    assert len(listed) == len(set(listed))
    return {k: client.get(k) for k in listed}


def status_of(writer: ReportWriter) -> StoreStatus:
    status = writer.status.store
    assert status is not None
    return status


@pytest.mark.parametrize("budget", [REOFFER_BUDGET, 1], ids=["one-batch", "paper-by-paper"])
def test_records_left_by_a_stopped_station_are_delivered_once_at_its_next_start(
    seaweed: Seaweed, station: Station, make_loop, budget: int
) -> None:
    """With a budget of one byte the stick is offered one paper at a time, each once the store
    took the one before (a stick bigger than RAM could hold at once): the same result."""
    first_batch = PAPERS if budget == REOFFER_BUDGET else 1
    bucket = seaweed.client(station.cfg.store.split("/")[2])
    seaweed.stop()  # the store is down for the first run and the start of the second
    try:
        first = station.start()
        try:
            wipe_and_close(make_loop, first, station)
            down = wait_for_status(first.store, lambda s: bool(s.reason))  # type: ignore[arg-type]
            assert down.pending == PAPERS
        finally:
            first.close()  # the station stops (power cut, reboot): nothing acknowledged
        stick = Path(station.cfg.report_dir)
        assert len(stick_papers(stick)) == OBJECTS
        second = station.start(budget)
        try:
            waiting = wait_for_status(
                second.store,  # type: ignore[arg-type]
                lambda s: s.found == first_batch and bool(s.reason),
            )
            assert waiting.message == (
                f"{first_batch} records not yet in the store: store unreachable "
                f"({first_batch} found on the stick at start)"
            )
            assert report_status_of(second, station.cfg).store == waiting.message  # the screen
            seaweed.start()
            done = wait_for_status(
                second.store,  # type: ignore[arg-type]
                lambda s: s.ok and s.found == PAPERS,
            )
        finally:
            second.close()
    finally:
        if seaweed.process is None:
            seaweed.start()
    assert done == StoreStatus(0, PAPERS, created=OBJECTS, found=PAPERS, recovered=PAPERS)
    late = f"({PAPERS} pending from before the restart)"
    assert done.message == f"Store: {PAPERS} records in the store {late}"
    objects = in_store(bucket)
    assert sorted(objects.values()) == sorted(stick_papers(stick))  # each once, byte-identical


def test_a_start_with_everything_delivered_creates_nothing(
    seaweed: Seaweed, station: Station, make_loop
) -> None:
    """A restart after a clean run: the stick's papers are offered again, the store holds
    them all ("already there" is delivered), nothing is created or rewritten."""
    bucket = seaweed.client(station.cfg.store.split("/")[2])
    first = station.start()
    try:
        wipe_and_close(make_loop, first, station)
        assert first.store is not None
        assert first.store.wait_idle(GIVE_UP_S), first.store.status()
    finally:
        first.close()
    before = {o.key: o.etag for o in bucket.list("site-a/records/")}
    second = station.start()
    try:
        status = wait_for_status(
            second.store,  # type: ignore[arg-type]
            lambda s: s.found == PAPERS and s.ok,
        )
    finally:
        second.close()
    assert status == StoreStatus(0, PAPERS, already=OBJECTS, found=PAPERS)
    assert status.message == f"Store: {PAPERS} records in the store"
    assert {o.key: o.etag for o in bucket.list("site-a/records/")} == before
    assert sorted(in_store(bucket).values()) == sorted(stick_papers(Path(station.cfg.report_dir)))
