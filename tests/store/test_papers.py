"""Everything the station signs reaches the store, not only drive records: the lot record (JSON
+ PDF, closed by custody/close.py through the writer) and the station identity file, with a
report stick and without one (records kept in RAM only). Real engine on loop devices, real
writer and uploader, real SeaweedFS; ``lot reconcile s3://`` passes a lot record and an
identity file over (they are not drive records) instead of rejecting them."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from wipestation.custody.close import LotIdentity, close_lot
from wipestation.custody.desk import LotDesk
from wipestation.custody.lot_record import LOT_SCHEMA
from wipestation.discovery.inventory import Inventory
from wipestation.reports.identity import IDENTITY_DIR, SCHEMA_ID, check_identity
from wipestation.reports.readrecord import parse_object
from wipestation.reports.record import StationInfo
from wipestation.reports.store import IDENTITY_SCHEMA, identity_key
from wipestation.reports.store import LOT_SCHEMA as STORE_LOT_SCHEMA
from wipestation.reports.store_client import StoreClient
from wipestation.reports.target import DirectoryTarget
from wipestation.reports.uploader import Uploader
from wipestation.reports.writer import ReportWriter

from tests.engine.conftest import planned_engine
from tests.store.seaweed import Seaweed
from tests.store.test_delivery import GIVE_UP_S, MiB, settings_for, uploader

ROOT = Path(__file__).resolve().parents[2]
LOT = "L9"
STATION = "floor-7"


@pytest.fixture
def bucket(seaweed: Seaweed, request: pytest.FixtureRequest) -> StoreClient:
    name = "pp-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:20]
    return seaweed.make_bucket(name)


def station_writer(target: Path, tmp: Path, store: Uploader) -> ReportWriter:
    return ReportWriter(
        target=DirectoryTarget(target),
        key_home=tmp / "keys",
        station=StationInfo(station_id=STATION, lot_id=LOT),
        spool_dir=tmp / "spool",
        store=store,
    )


def wipe_tagged(
    make_loop: Callable[..., str],
    writer: ReportWriter,
    tmp: Path,
    tags: list[str],
    label: str = "lot",
):
    """One loop device per asset tag, wiped by the real engine into ``writer``."""
    engine = planned_engine(journal_dir=tmp / "journal", report_writer=writer, buffer_size=MiB)
    try:
        inventory = Inventory()
        for n, tag in enumerate(tags):
            drive = inventory.get(make_loop(8 * MiB + n * 4096, f"{label} data {n} ".encode()))
            assert drive is not None
            writer.asset_tags[drive.identity] = tag
            engine.start(drive, "overwrite-zero", "sample")
        assert engine.wait(timeout=GIVE_UP_S)
        assert all(r.passed for r in engine.results().values())
    finally:
        engine.close()


def everything(client: StoreClient) -> dict[str, bytes]:
    keys = [o.key for o in client.list("site-a/")]
    assert len(keys) == len(set(keys))
    return {k: client.get(k) for k in keys if not k.endswith("/status.json")}


def fingerprint_of_stick(stick: Path) -> str:
    return check_identity(parse_object(identity_file(stick).read_bytes()))


def identity_file(stick: Path) -> Path:
    (found,) = (stick / IDENTITY_DIR).glob("*.json")
    return found


def test_the_store_module_keys_the_schemas_the_papers_have() -> None:
    assert (STORE_LOT_SCHEMA, IDENTITY_SCHEMA) == (LOT_SCHEMA, SCHEMA_ID)


def test_lot_record_and_identity_file_reach_the_store_byte_identical(
    seaweed: Seaweed, bucket: StoreClient, make_loop, tmp_path: Path
) -> None:
    store = uploader(settings_for(seaweed, bucket.bucket))
    stick = tmp_path / "stick"
    writer = station_writer(stick, tmp_path, store)
    try:
        wipe_tagged(make_loop, writer, tmp_path, ["TAG-1", "TAG-2"])
        closed = close_lot(writer, LotDesk(), LotIdentity(LOT, "ACME", station=STATION))
        assert store.wait_idle(GIVE_UP_S), store.status()
        status = store.status()
    finally:
        writer.close()
    assert (status.pending, status.delivered, status.created) == (0, 4, 7)  # 2 + lot + identity
    objects = everything(bucket)
    lot_json, lot_pdf = closed.paths
    assert lot_json.parent == stick / "lots"
    sha = hashlib.sha256(lot_json.read_bytes()).hexdigest()
    assert objects[f"site-a/records/{LOT}/lot/{sha}.json"] == lot_json.read_bytes()
    assert objects[f"site-a/records/{LOT}/lot/{sha}.pdf"] == lot_pdf.read_bytes()
    fp = fingerprint_of_stick(stick)
    key = identity_key(settings_for(seaweed, bucket.bucket).location, STATION, fp)
    assert key == f"site-a/stations/{STATION}/identity-{fp.replace(':', '')}.json"
    assert objects[key] == identity_file(stick).read_bytes()
    drive_records = [
        k for k in objects if k.startswith(f"site-a/records/{LOT}/") and "/lot/" not in k
    ]
    assert len(drive_records) == 4  # under the lot (records carry lot_id at the top level)
    assert len(objects) == 7


def test_a_station_without_a_stick_sends_records_lot_and_identity_from_ram(
    seaweed: Seaweed, bucket: StoreClient, make_loop, tmp_path: Path
) -> None:
    """No usable report target (its place is a file, as unusable as an absent stick): the
    records wait in the spool and reach the store all the same; the lot closes into RAM and
    the store; the stick that comes later gets the very bytes the store has."""
    blocked = tmp_path / "no-stick"
    blocked.write_text("a file where the stick would be mounted")
    store = uploader(settings_for(seaweed, bucket.bucket))
    writer = station_writer(blocked / "stick", tmp_path, store)
    try:
        wipe_tagged(make_loop, writer, tmp_path, ["TAG-1", "TAG-2"])
        assert writer.status.pending == 2
        assert writer.status.target != "present"
        closed = close_lot(writer, LotDesk(), LotIdentity(LOT, "ACME", station=STATION))
        assert closed.paths[0].parent == tmp_path / "spool" / "papers" / "lots"
        assert store.wait_idle(GIVE_UP_S), store.status()
        assert (store.status().pending, store.status().delivered) == (0, 4)
        in_ram = everything(bucket)
        for spooled in (tmp_path / "spool").glob("*.json"):  # the spool's copy: the same bytes
            assert spooled.read_bytes() in in_ram.values()
        assert closed.paths[0].read_bytes() in in_ram.values()
        (identity,) = [k for k in in_ram if "/stations/" in k]
        assert check_identity(parse_object(in_ram[identity]))  # sound, made in RAM
        blocked.unlink()  # the stick arrives
        writer.flush()
        assert writer.status.pending == 0
        assert store.wait_idle(GIVE_UP_S), store.status()
    finally:
        writer.close()
    stick = blocked / "stick"
    assert everything(bucket) == in_ram  # the stick's delivery added nothing
    for path in (stick / "reports").rglob("*"):
        if path.suffix in (".json", ".pdf") and not path.name.startswith("session-"):
            assert path.read_bytes() in in_ram.values(), path  # PDFs too: rendered once


def test_lot_reconcile_from_the_store_passes_lot_records_and_identities_over(
    seaweed: Seaweed, bucket: StoreClient, make_loop, tmp_path: Path
) -> None:
    """A lot record (records/<lot>/lot/) and an identity file found under records/ (put there
    by hand: another layout) are neither counted nor rejected; nor is the identity trusted
    because it was found there (as on a stick: only --trust/--fingerprint is)."""
    store = uploader(settings_for(seaweed, bucket.bucket))
    stick = tmp_path / "stick"
    writer = station_writer(stick, tmp_path, store)
    try:
        wipe_tagged(make_loop, writer, tmp_path, ["TAG-1", "TAG-2"])
        close_lot(writer, LotDesk(), LotIdentity(LOT, "ACME", station=STATION))
        assert store.wait_idle(GIVE_UP_S), store.status()
    finally:
        writer.close()
    body = identity_file(stick).read_bytes()
    sha = hashlib.sha256(body).hexdigest()
    assert bucket.put(f"site-a/records/{LOT}/{STATION}/{sha}.json", body).created
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("asset_tag\nTAG-1\nTAG-2\n")
    fp = fingerprint_of_stick(stick)
    trusted = reconcile(seaweed, bucket, manifest, "--fingerprint", fp)
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    out = json.loads(trusted.stdout)
    assert (out["status"], out["passed"], out["rejected"], out["unexpected"]) == (
        "COMPLETE", 2, [], []
    )  # fmt: skip
    untrusted = reconcile(seaweed, bucket, manifest, "--fingerprint", "0" * 4 + fp[4:])
    assert untrusted.returncode == 3, untrusted.stdout + untrusted.stderr
    rejected = json.loads(untrusted.stdout)["rejected"]
    assert len(rejected) == 2  # the two drive records; the identity beside them vouches nothing
    assert all("/lot/" not in r["file"] and f"/{STATION}/" not in r["file"] for r in rejected)


def reconcile(seaweed: Seaweed, bucket: StoreClient, manifest: Path, *trust: str):
    c = seaweed.credentials
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "PYTHONPATH": str(ROOT / "app"),
        "XDG_DATA_HOME": str(manifest.parent),
        "AWS_ENDPOINT_URL": seaweed.endpoint,
        "AWS_ACCESS_KEY_ID": c.access_key,
        "AWS_SECRET_ACCESS_KEY": c.secret_key,
    }
    argv = ["lot", "reconcile", "--manifest", str(manifest), "--lot", LOT, *trust, "--json"]
    return subprocess.run(
        [sys.executable, "-m", "wipestation", *argv, f"s3://{bucket.bucket}/site-a"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=env,
    )  # fmt: skip
