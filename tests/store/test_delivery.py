"""Delivery to the store: the real engine wipes loop devices, the real writer delivers each
record to a stick directory and its uploader (reports/uploader.py) to a real SeaweedFS."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from wipestation.assembly import attach_store
from wipestation.config import StationConfig
from wipestation.conveyor import say_store
from wipestation.discovery.inventory import Inventory
from wipestation.engine.jobs import Engine
from wipestation.planning.planner import Planner
from wipestation.reports.identity import IDENTITY_DIR
from wipestation.reports.readrecord import parse_object
from wipestation.reports.sign import verify_bytes
from wipestation.reports.store import StoreLocation, StoreSettings, record_key
from wipestation.reports.store_client import Credentials, ObjectLockedError, StoreClient
from wipestation.reports.target import DirectoryTarget
from wipestation.reports.uploader import StoreStatus, Uploader
from wipestation.reports.writer import ReportWriter
from wipestation.services import Services
from wipestation.tui.reporting import report_status_of
from wipestation.tui.station import Counts
from wipestation.tui.widgets.status_bar import status_text
from wipestation.unattended import Autopilot

from tests.engine.conftest import planned_engine
from tests.store.proxy import CorruptingProxy
from tests.store.seaweed import Seaweed

MiB = 1 << 20
GIVE_UP_S = 120.0  # guards against a hang, never a speed requirement


def uploader(settings: StoreSettings) -> Uploader:
    """The real uploader, its backoff 0.1 s doubling to 1 s (the shape, quicker for a test)."""
    return Uploader(settings, first_delay=0.1, max_delay=1.0)


def settings_for(seaweed: Seaweed, bucket: str, creds: Credentials | None = None) -> StoreSettings:
    location = StoreLocation(bucket, "site-a")
    return StoreSettings(location, seaweed.endpoint, "us-east-1", creds or seaweed.credentials)


@pytest.fixture
def bucket(seaweed: Seaweed, request: pytest.FixtureRequest) -> StoreClient:
    """A fresh bucket per test (S3 names: lower case, no underscores, 3-63 characters)."""
    name = "dl-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:20]
    return seaweed.make_bucket(name)


@pytest.fixture
def wipe(make_loop: Callable[..., str], tmp_path: Path) -> Iterator[Callable[..., ReportWriter]]:
    """``wipe(writer, n)``: wipe ``n`` fresh loop devices with the real engine into ``writer``."""
    engines = []

    def run(writer: ReportWriter, count: int) -> ReportWriter:
        engine = planned_engine(
            journal_dir=tmp_path / f"journal{len(engines)}",
            report_writer=writer,
            buffer_size=MiB,
        )
        engines.append(engine)
        inventory = Inventory()
        for n in range(count):
            dev = make_loop(8 * MiB + n * 4096, f"customer data {n} ".encode())
            drive = inventory.get(dev)
            assert drive is not None
            engine.start(drive, "overwrite-zero", "sample")
        assert engine.wait(timeout=GIVE_UP_S)
        assert all(r.passed for r in engine.results().values())
        return writer

    yield run
    for engine in engines:
        engine.close()


def new_writer(tmp_path: Path, store: Uploader) -> ReportWriter:
    return ReportWriter(
        target=DirectoryTarget(tmp_path / "stick"), key_home=tmp_path / "keys", store=store
    )


def stick_records(stick: Path) -> dict[str, Path]:
    """The drive records' files on the stick, by name (no session summary, no identity)."""
    found = [
        p
        for p in stick.rglob("*")
        if p.suffix in (".json", ".pdf")
        and IDENTITY_DIR not in p.parts
        and not p.name.startswith("session-")
    ]
    return {p.name: p for p in found}


def store_objects(client: StoreClient) -> dict[str, bytes]:
    listed = client.list("site-a/records/")
    keys = [o.key for o in listed]
    assert len(keys) == len(set(keys))
    return {k: client.get(k) for k in keys}


def wait_for_status(store: Uploader, ok: Callable[[StoreStatus], bool]) -> StoreStatus:
    """Poll the uploader's status until ``ok`` (bounded): its thread sets it after a try."""
    deadline = time.monotonic() + GIVE_UP_S
    while not ok(status := store.status()):
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    return status


def assert_store_matches_stick(client: StoreClient, stick: Path, records: int) -> None:
    """Each stick file once in the store, byte for byte; each JSON's signature valid."""
    objects = store_objects(client)
    files = stick_records(stick)
    assert len(objects) == len(files) == 2 * records
    by_content = {body: key for key, body in objects.items()}
    for path in files.values():
        assert path.read_bytes() in by_content, path
    for key, body in objects.items():
        if key.endswith(".json"):
            verdict = verify_bytes(body)
            assert verdict.ok, (key, verdict)
            identity = parse_object(body)["drive"]["identity"]
            sha = hashlib.sha256(body).hexdigest()
            assert key == record_key(
                StoreLocation(client.bucket, "site-a"), "", identity, sha, "json"
            )
            assert objects[key.removesuffix(".json") + ".pdf"].startswith(b"%PDF-")


def test_three_wiped_drives_are_each_in_the_store_once(
    seaweed: Seaweed, bucket: StoreClient, wipe, tmp_path: Path
) -> None:
    store = uploader(settings_for(seaweed, bucket.bucket))
    writer = wipe(new_writer(tmp_path, store), 3)
    try:
        assert store.wait_idle(GIVE_UP_S), store.status()
        # three records (JSON + PDF) and the station's identity file
        assert writer.status.store == StoreStatus(0, 4, created=7)
        assert_store_matches_stick(bucket, tmp_path / "stick", 3)
    finally:
        writer.close()
    # The same delivery again (a re-run, a second station): "already there", nothing new.
    again = uploader(settings_for(seaweed, bucket.bucket))
    before = {o.key: o.etag for o in bucket.list("site-a/records/")}
    try:
        for path in stick_records(tmp_path / "stick").values():
            if path.suffix == ".json":
                pdf = path.with_suffix(".pdf").read_bytes()
                again.submit(parse_object(path.read_bytes()), path.read_bytes(), pdf)
        assert again.wait_idle(GIVE_UP_S), again.status()
        assert again.status() == StoreStatus(0, 3, already=6)
    finally:
        again.stop()
    assert {o.key: o.etag for o in bucket.list("site-a/records/")} == before


def test_wrong_secret_keeps_the_records_and_says_so_until_fixed(
    seaweed: Seaweed, bucket: StoreClient, wipe, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = replace(seaweed.credentials, secret_key="not-the-secret-0123456789")
    store = uploader(settings_for(seaweed, bucket.bucket, wrong))
    writer = wipe(new_writer(tmp_path, store), 3)
    try:
        status = wait_for_status(store, lambda s: bool(s.reason))
        assert status.message == (
            "4 records not yet in the store: "
            "credentials refused (403): check the store's access key and secret"
        )
        assert writer.status.store == status
        assert len(stick_records(tmp_path / "stick")) == 6  # kept: on the stick
        assert bucket.list("site-a/records/") == ()
        store.use(settings_for(seaweed, bucket.bucket))  # the settings fixed
        assert store.wait_idle(GIVE_UP_S), store.status()
        assert store.status() == StoreStatus(0, 4, created=7)
        assert_store_matches_stick(bucket, tmp_path / "stick", 3)
    finally:
        writer.close()
    for secret in (wrong.secret_key, seaweed.credentials.secret_key):
        assert secret not in caplog.text
        assert secret not in repr(store) + repr(writer.status)


def test_store_stopped_mid_run_gets_every_record_once_after_restart(
    seaweed: Seaweed, bucket: StoreClient, wipe, tmp_path: Path
) -> None:
    store = uploader(settings_for(seaweed, bucket.bucket))
    writer = new_writer(tmp_path, store)
    try:
        wipe(writer, 1)
        assert store.wait_idle(GIVE_UP_S), store.status()
        seaweed.stop()
        try:
            wipe(writer, 2)
            status = wait_for_status(store, lambda s: bool(s.reason))
            assert status.pending == 2
            assert status.message.startswith("2 records not yet in the store: store unreachable")
        finally:
            seaweed.start()
        assert store.wait_idle(GIVE_UP_S), store.status()
        assert store.status().pending == 0
        assert store.status().delivered == 4  # and the identity file
        assert_store_matches_stick(bucket, tmp_path / "stick", 3)
    finally:
        writer.close()


@pytest.mark.parametrize("required", [True, False])
def test_power_off_waits_for_the_store_only_when_required(
    seaweed: Seaweed, bucket: StoreClient, wipe, tmp_path: Path, required: bool
) -> None:
    """The autopilot's power-off (screen and conveyor both ask ``may_power_off``), the screen's
    report line and the conveyor's log, while a record is on the stick but not in the store."""
    wrong = replace(seaweed.credentials, secret_key="not-the-secret-0123456789")
    settings = replace(settings_for(seaweed, bucket.bucket, wrong), required=required)
    store = uploader(settings)
    writer = wipe(new_writer(tmp_path, store), 1)
    try:
        status = wait_for_status(store, lambda s: bool(s.reason))
        engine = Engine(Inventory(), journal_dir=tmp_path / "idle-journal")
        services = Services(
            StationConfig(station="t"), Inventory(), Planner(), engine, None, writer
        )
        pilot = Autopilot(services, print)
        assert pilot.waiting_for_reports() == (status.message if required else "")
        assert pilot.may_power_off() is not required
        line = report_status_of(writer, services.config)
        assert line.store == status.message
        assert status.message in status_text("t", Counts(0, 0, 0, 0), line).plain
        said: list[str] = []
        say_store(SimpleNamespace(services=services, say=said.append))  # type: ignore[arg-type]
        assert said == [f"STORE {status.message}"]
        store.use(replace(settings, credentials=seaweed.credentials))
        assert store.wait_idle(GIVE_UP_S), store.status()
        assert pilot.waiting_for_reports() == ""
        assert report_status_of(writer, services.config).store == ""
        engine.close()
    finally:
        writer.close()


def test_the_station_config_attaches_an_uploader_only_with_a_store(
    seaweed: Seaweed, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    creds = seaweed.credentials
    plain = ReportWriter(tmp_path / "a")
    attach_store(plain, StationConfig(station="t"))
    assert plain.store is None
    assert plain.status.store is None
    cfg = StationConfig(
        station="t",
        store="s3://floor/site-a",
        store_endpoint=seaweed.endpoint,
        store_access_key=creds.access_key,
        store_secret_key=creds.secret_key,
        store_required=True,
    )
    wired = ReportWriter(tmp_path / "b")
    attach_store(wired, cfg)
    assert isinstance(wired.store, Uploader)
    assert wired.status.store == StoreStatus(0, 0, required=True)
    wired.close()
    broken = ReportWriter(tmp_path / "c")
    attach_store(broken, replace(cfg, store_endpoint=""))  # store_endpoint is needed
    assert broken.store is None
    assert "records NOT sent to the store" in caplog.text
    assert creds.secret_key not in caplog.text


def test_uploads_carry_compliance_retention_when_configured(
    seaweed: Seaweed, wipe, tmp_path: Path
) -> None:
    """``store_retention_days``: every record's objects are Object-Locked (COMPLIANCE) for that
    long, so not even the store's credentials can delete a version before then."""
    locked = seaweed.make_bucket(
        "dl-lock-" + hashlib.sha256(bytes(tmp_path)).hexdigest()[:16], object_lock=True
    )
    settings = replace(settings_for(seaweed, locked.bucket), retention_days=2)
    store = uploader(settings)
    writer = wipe(new_writer(tmp_path, store), 1)
    started = datetime.now(UTC)
    try:
        assert store.wait_idle(GIVE_UP_S), store.status()
    finally:
        writer.close()
    keys = [o.key for o in locked.list("site-a/records/")]
    assert len(keys) == 2
    for key in keys:
        info = locked.head(key)
        assert info is not None
        assert info.lock_mode == "COMPLIANCE"
        until = datetime.strptime(info.retain_until, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert (
            started + timedelta(days=2, minutes=-10)
            < until
            < started + timedelta(days=2, minutes=10)
        )
        with pytest.raises(ObjectLockedError):
            locked.delete(key, info.version_id)


def test_a_body_corrupted_in_flight_is_rejected_and_uploaded_again(
    seaweed: Seaweed, bucket: StoreClient, wipe, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The store checks each upload's checksums: a flipped bit is refused, never stored, and
    the uploader's retry delivers the intact bytes."""
    proxy = CorruptingProxy(seaweed.ports["s3.port"], corrupt=2)
    settings = replace(
        settings_for(seaweed, bucket.bucket), endpoint=f"http://127.0.0.1:{proxy.port}"
    )
    store = uploader(settings)
    try:
        writer = wipe(new_writer(tmp_path, store), 1)
        try:
            assert store.wait_idle(GIVE_UP_S), store.status()
        finally:
            writer.close()
    finally:
        proxy.close()
    assert proxy.corrupted == 2
    assert "refused PUT" in caplog.text  # the store's own refusal, said once
    assert store.status() == StoreStatus(0, 2, created=3)
    assert_store_matches_stick(bucket, tmp_path / "stick", 1)
