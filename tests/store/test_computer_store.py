"""The computer certificate reaches the floor's store like a lot record: written through the
report writer (``custody/computer_close.certify``), its exact JSON and PDF bytes are uploaded
under ``records/<lot>/computer-<SMBIOS serial>/<sha256>``, beside the drive records it links.
Real engine on loop devices, real writer and uploader, real SeaweedFS."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from wipestation.custody.computer_close import certify
from wipestation.custody.computer_record import COMPUTER_SCHEMA
from wipestation.discovery.host import read_host
from wipestation.model import Drive
from wipestation.reports.record import StationInfo
from wipestation.reports.store import COMPUTER_SCHEMA as STORE_COMPUTER_SCHEMA
from wipestation.reports.store_client import StoreClient
from wipestation.reports.target import DirectoryTarget
from wipestation.reports.writer import ReportWriter

from tests.discovery.dmi_dumps import machine_files, write_tree
from tests.reports.factory import drive
from tests.store.seaweed import Seaweed
from tests.store.test_delivery import GIVE_UP_S, settings_for, uploader
from tests.store.test_papers import LOT, STATION, everything, wipe_tagged


@pytest.fixture
def bucket(seaweed: Seaweed, request: pytest.FixtureRequest) -> StoreClient:
    name = "pc-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:20]
    return seaweed.make_bucket(name)


def as_drive(d: dict) -> Drive:
    """The wiped loop device as discovery saw it, from its record (what certify reads of it)."""
    return drive(identity=d["identity"], serial=d["serial"], model=d["model"],
                 size_bytes=d["capacity_bytes"])  # fmt: skip


def test_the_store_module_keys_the_computer_schema() -> None:
    assert STORE_COMPUTER_SCHEMA == COMPUTER_SCHEMA


def test_the_computer_certificate_reaches_the_store_byte_identical(
    seaweed: Seaweed, bucket: StoreClient, make_loop, tmp_path: Path
) -> None:
    store = uploader(settings_for(seaweed, bucket.bucket))
    stick = tmp_path / "stick"
    host = read_host(write_tree(machine_files("qemu-7.2-q35-smbios"), tmp_path / "dmi"))
    writer = ReportWriter(
        target=DirectoryTarget(stick), key_home=tmp_path / "keys", spool_dir=tmp_path / "spool",
        station=StationInfo(station_id=STATION, lot_id=LOT), store=store, host=host,
    )  # fmt: skip
    try:
        wipe_tagged(make_loop, writer, tmp_path, ["TAG-1", "TAG-2"])
        wiped = [as_drive(r["drive"]) for r in writer.delivered]
        assert len(wiped) == 2
        done = certify(writer, wiped)
        assert store.wait_idle(GIVE_UP_S), store.status()
    finally:
        writer.close()
    assert done.status == "COMPLETE"
    cert_json, cert_pdf = done.paths
    sha = hashlib.sha256(cert_json.read_bytes()).hexdigest()
    objects = everything(bucket)
    base = f"site-a/records/{LOT}/computer-WS-SN-0042/{sha}"
    assert objects[f"{base}.json"] == cert_json.read_bytes()
    assert objects[f"{base}.pdf"] == cert_pdf.read_bytes()
    linked = {d["json_sha256"] for d in json.loads(cert_json.read_bytes())["drives"]}
    stored = {k.rsplit("/", 1)[1].removesuffix(".json") for k in objects if k.endswith(".json")}
    assert linked <= stored  # every drive record it links is in the store too
