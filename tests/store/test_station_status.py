"""The station's live status.json (reports/station_status.py, reports/status_publisher.py): built
from the engine's snapshots, put into a real SeaweedFS, read back."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from wipestation.assembly import start_status
from wipestation.config import StationConfig
from wipestation.discovery.inventory import Inventory
from wipestation.engine.jobs import Engine
from wipestation.model import Drive, IdentitySource, JobResult, JobState, Progress, Transport
from wipestation.planning.planner import Planner
from wipestation.reports.record import StationInfo
from wipestation.reports.station_status import (
    Address,
    HostFacts,
    StatusSources,
    addresses,
    boot_time,
    build_status,
    status_key,
)
from wipestation.reports.status_publisher import StatusPublisher
from wipestation.reports.store import StoreLocation
from wipestation.reports.store_client import StoreClient, StoreError
from wipestation.reports.target import DirectoryTarget
from wipestation.reports.writer import ReportWriter
from wipestation.services import Services

from tests.engine.conftest import planned_engine
from tests.store.seaweed import Seaweed

MiB = 1 << 20
GIVE_UP_S = 120.0  # guards against a hang, never a speed requirement
HOST = HostFacts((Address("eth0", "10.0.2.15"),), "2026-12-06T08:00:00+00:00")
STATION = StationInfo("bay-3", software_version="0.1.0", operator="Ana", lot_id="LOT-7")


def drive(name: str, serial: str, size: int) -> Drive:
    return Drive(
        f"/dev/{name}", name, Transport.SATA, "ST500DM002", serial, "", "CC45", size, 512, 4096,
        True, False, False, f"ST500DM002-{serial}", IdentitySource.SERIAL,
    )  # fmt: skip


def result(job: str, d: Drive, state: JobState, reason: str) -> JobResult:
    return JobResult(job, d, "overwrite-zero", "clear", "NIST SP 800-88r2", state, reason,
                     "2026-12-06T09:00:00+01:00", "2026-12-06T09:30:00+01:00")  # fmt: skip


def test_the_status_of_a_known_set_of_snapshots() -> None:
    """Running, passed, failed (drive since pulled) and idle drives; a re-wipe's newer job wins."""
    sda, sdb, sdc, sdd = (drive(f"sd{n}", f"Z{n}", 10**9) for n in "abcd")
    progress = {
        "j1": Progress("j1", "/dev/sda", sda.identity, JobState.ERASING, "overwrite-zero",
                       "pass 1/1", 1, 1, 250 * 10**6, 10**9, 1.25e8, 6.4, timestamp=5.0),
        "j0": Progress("j0", "/dev/sdb", sdb.identity, JobState.FAILED, "overwrite-zero",
                       timestamp=1.0),
        "j2": Progress("j2", "/dev/sdb", sdb.identity, JobState.PASSED, "overwrite-zero",
                       "done", 1, 1, 10**9, 10**9, 1.1e8, 0.0, timestamp=9.0),
        "j3": Progress("j3", "/dev/sdc", sdc.identity, JobState.FAILED, "overwrite-zero",
                       "verify", 1, 1, 10**8, 10**9, 0.0, None, timestamp=7.0),
    }  # fmt: skip
    results = {
        "j0": result("j0", sdb, JobState.FAILED, "cancelled"),
        "j2": result("j2", sdb, JobState.PASSED, "verified: every sampled block zero"),
        "j3": result("j3", sdc, JobState.FAILED, "write error at 104857600"),
    }
    now = datetime(2026, 12, 6, 10, 0, 0, tzinfo=UTC)
    status = build_status(STATION, HOST, [sda, sdb, sdd], progress, results, "running", now)
    common = {"serial": "", "model": "ST500DM002", "size_bytes": 10**9, "method": "overwrite-zero"}
    assert json.loads(status.body()) == {
        "schema": "wipestation.station-status/1",
        "station": "bay-3",
        "state": "running",
        "updated_at": "2026-12-06T10:00:00+00:00",
        "addresses": [{"interface": "eth0", "address": "10.0.2.15"}],
        "boot_time": "2026-12-06T08:00:00+00:00",
        "computer": None,  # HOST read no SMBIOS (tests/reports/test_host_record.py has one)
        "clock": None,  # HOST's clock being set (tests/timesync/test_status_clock.py has one)
        "software_version": "0.1.0",
        "lot": "LOT-7",
        "operator": "Ana",
        "drives": [
            {**common, "identity": sda.identity, "serial": "Za", "path": "/dev/sda",
             "state": "erasing", "phase": "pass 1/1", "progress": 0.25,
             "rate_bps": 125000000, "eta_s": 6, "result": "", "reason": ""},
            {**common, "identity": sdb.identity, "serial": "Zb", "path": "/dev/sdb",
             "state": "passed", "phase": "done", "progress": 1.0, "rate_bps": 0, "eta_s": None,
             "result": "PASS", "reason": "verified: every sampled block zero"},
            {**common, "identity": sdc.identity, "serial": "Zc", "path": "/dev/sdc",
             "state": "failed", "phase": "verify", "progress": 0.1, "rate_bps": 0,
             "eta_s": None, "result": "FAIL", "reason": "write error at 104857600"},
            {**common, "identity": sdd.identity, "serial": "Zd", "path": "/dev/sdd",
             "state": "idle", "method": "", "phase": "", "progress": 0.0, "rate_bps": 0,
             "eta_s": None, "result": "", "reason": ""},
        ],
    }  # fmt: skip
    later_at = datetime(2026, 12, 6, 10, 0, 5, tzinfo=UTC)
    later = build_status(STATION, HOST, [sda, sdb, sdd], progress, results, "running", later_at)
    assert later.content() == status.content()  # the time alone is no change
    site = StoreLocation("floor", "site-a")
    assert status_key(site, "bay-3") == "site-a/stations/bay-3/status.json"
    unsafe = status_key(site, "bay 3/x")  # one key part, told apart from "bay_3_x"
    assert unsafe.startswith("site-a/stations/bay_3_x-")
    assert unsafe.count("/") == 3


def test_host_facts_are_read_from_the_kernel(tmp_path: Path) -> None:
    """The addresses match what iproute2 says (when the host has it); unreadable is unknown."""
    mine = addresses()
    assert all(a.interface != "lo" and a.address for a in mine)
    if shutil.which("ip"):
        listed = json.loads(subprocess.run(["ip", "-j", "addr"], capture_output=True).stdout)
        theirs = {
            (i["ifname"], a["local"])
            for i in listed
            for a in i.get("addr_info", [])
            if i["ifname"] != "lo" and (a["family"] == "inet" or a.get("scope") == "global")
        }
        assert {(a.interface, a.address) for a in mine} <= theirs
    up = float(Path("/proc/uptime").read_text().split()[0])
    booted = datetime.fromisoformat(boot_time()).timestamp()
    assert abs(booted + up - time.time()) < 5
    (tmp_path / "stat").write_text("cpu 1 2 3\nbtime x\n")
    assert boot_time(tmp_path / "stat") == ""
    assert boot_time(tmp_path / "missing") == ""


# ---- against the real store -----------------------------------------------------------------


@pytest.fixture
def bucket(seaweed: Seaweed, request: pytest.FixtureRequest) -> StoreClient:
    name = "st-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:20]
    return seaweed.make_bucket(name)


def read_back(client: StoreClient, key: str, ok: Callable[[dict], bool]) -> dict:
    """Read status.json until ``ok`` holds (bounded): the publisher's thread puts it."""
    deadline = time.monotonic() + GIVE_UP_S
    seen: dict = {}
    while True:
        try:
            seen = json.loads(client.get(key))
        except StoreError:
            seen = {}
        if seen and ok(seen):
            return seen
        assert time.monotonic() < deadline, seen
        time.sleep(0.05)


def results_of(status: dict) -> list[str]:
    return [d["result"] for d in status["drives"]]


def loops(make_loop: Callable[..., str], count: int) -> list[Drive]:
    found = []
    for n in range(count):
        d = Inventory().get(make_loop(8 * MiB + n * 4096, f"customer data {n} ".encode()))
        assert d is not None
        found.append(d)
    return found


def test_publisher_shows_the_drives_then_their_results_then_stopped(
    bucket: StoreClient, make_loop: Callable[..., str], tmp_path: Path
) -> None:
    writer = ReportWriter(target=DirectoryTarget(tmp_path / "stick"), key_home=tmp_path / "k")
    writer.station = STATION
    engine = planned_engine(journal_dir=tmp_path / "journal", report_writer=writer)
    drives = loops(make_loop, 2)
    sources = StatusSources(lambda: writer.station, lambda: drives, engine.snapshot, engine.results)
    key = status_key(StoreLocation(bucket.bucket, "site-a"), "bay-3")
    publisher = StatusPublisher(bucket, key, sources.status, interval=0.1)
    try:
        first = read_back(bucket, key, lambda s: len(s["drives"]) == 2)
        assert first["state"] == "running"
        assert (first["station"], first["lot"], first["operator"]) == ("bay-3", "LOT-7", "Ana")
        assert [d["state"] for d in first["drives"]] == ["idle", "idle"]
        assert {d["serial"] for d in first["drives"]} == {d.serial for d in drives}
        for d in drives:
            engine.start(d, "overwrite-zero", "sample")
        assert engine.wait(timeout=GIVE_UP_S)
        done = read_back(bucket, key, lambda s: results_of(s) == ["PASS", "PASS"])
        assert [(d["state"], d["progress"]) for d in done["drives"]] == [("passed", 1.0)] * 2
    finally:
        assert publisher.stop()
        engine.close()
        writer.close()
    final = json.loads(bucket.get(key))
    assert final["state"] == "stopped"
    assert results_of(final) == ["PASS", "PASS"]


def test_a_store_that_is_down_holds_nothing_and_gets_the_status_once_up(
    seaweed: Seaweed,
    bucket: StoreClient,
    make_loop: Callable[..., str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    engine = planned_engine(journal_dir=tmp_path / "journal", report_writer=None)
    drives = loops(make_loop, 1)
    sources = StatusSources(lambda: STATION, lambda: drives, engine.snapshot, engine.results)
    key = status_key(StoreLocation(bucket.bucket, "site-a"), "bay-3")
    seaweed.stop()
    try:
        publisher = StatusPublisher(bucket, key, sources.status, interval=0.1)
        engine.start(drives[0], "overwrite-zero", "sample")
        assert engine.wait(timeout=GIVE_UP_S)  # the wipe is not held by the store
        assert all(r.passed for r in engine.results().values())
    finally:
        seaweed.start()
    try:
        seen = read_back(bucket, key, lambda s: results_of(s) == ["PASS"])
        assert seen["state"] == "running"
    finally:
        assert publisher.stop()
        engine.close()
    said = caplog.text.count("station status not in the store yet")
    assert 1 <= said <= 3  # once per kind of failure (unreachable, then starting), not per tick
    assert seaweed.credentials.secret_key not in caplog.text


def test_the_station_wiring_publishes_and_close_puts_stopped(
    seaweed: Seaweed, bucket: StoreClient, tmp_path: Path
) -> None:
    """``assembly.start_status`` as ``build_services`` calls it; ``Services.close`` stops it."""
    creds = seaweed.credentials
    cfg = StationConfig(
        station=f"wired-{socket.gethostname()}",
        operator="Bo",
        report_dir=str(tmp_path / "reports"),
        store=f"s3://{bucket.bucket}/site-a",
        store_endpoint=seaweed.endpoint,
        store_access_key=creds.access_key,
        store_secret_key=creds.secret_key,
    )
    writer = ReportWriter.from_config(cfg, spool_dir=None)
    engine = Engine(Inventory(), journal_dir=tmp_path / "journal")
    status = start_status(cfg, writer, Inventory(), engine, None)
    assert status is not None
    services = Services(cfg, Inventory(), Planner(), engine, None, writer, status=status)
    key = status_key(StoreLocation(bucket.bucket, "site-a"), cfg.station)
    seen = read_back(bucket, key, lambda s: s["state"] == "running")
    assert (seen["station"], seen["operator"]) == (cfg.station, "Bo")
    services.close()
    assert json.loads(bucket.get(key))["state"] == "stopped"
    assert start_status(StationConfig(station="t"), writer, Inventory(), engine, None) is None
