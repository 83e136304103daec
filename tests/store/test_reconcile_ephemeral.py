"""``lot reconcile s3://…`` and a TPM-less netbooted station: its key lives in RAM (a real tmpfs
here, as the initramfs is), so its records say ``key_protection: "ephemeral"``. Wiped by the real
engine on loop devices and uploaded by the real writer to the real SeaweedFS, they are listed as
UNENROLLED from the store (exit 3), and counted with ``--accept-ephemeral`` (exit 0)."""

from __future__ import annotations

from pathlib import Path

import pytest
from wipestation.reports.readrecord import parse_object
from wipestation.reports.store_client import StoreClient

from tests.helpers.tmpfs import mounted_tmpfs
from tests.store.seaweed import Seaweed
from tests.store.test_delivery import settings_for
from tests.store.test_reconcile_store import (
    Floor,
    reconcile,
    station_wipes,
    store_url,
    summary,
)


@pytest.fixture
def bucket(seaweed: Seaweed) -> StoreClient:
    return seaweed.make_bucket("rc-ephemeral")


def test_a_per_boot_key_s_records_in_the_store_are_unenrolled(
    seaweed: Seaweed, bucket: StoreClient, make_loop, tmp_path: Path
) -> None:
    settings = settings_for(seaweed, bucket.bucket)
    enrolled = station_wipes(make_loop, tmp_path, "station-a", ["TAG-1"], settings)
    with mounted_tmpfs(tmp_path / "netboot-1" / "keys"):  # the station's key dir, in RAM
        stick, netboot_fp = station_wipes(make_loop, tmp_path, "netboot-1", ["TAG-2"], settings)
    record = parse_object(next((stick / "reports").rglob("*.json")).read_bytes())
    assert record["signature"]["key_protection"] == "ephemeral"
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("Asset Tag\nTAG-1\nTAG-2\n")
    creds = seaweed.credentials_file(tmp_path / "credentials")
    floor = Floor((enrolled[0],), (enrolled[1],), manifest, creds)  # only station-a enrolled
    opts = ("--store-endpoint", seaweed.endpoint, "--store-credentials-file", creds, "--lot", "L7")

    held = reconcile(floor, store_url(bucket), *opts, "--json")
    s = summary(held)
    assert held.returncode == 3, held.stderr
    assert (s["status"], s["passed"], s["rejected"]) == ("INCOMPLETE", 1, [])
    assert [(u["asset_tag"], u["key_fingerprint"]) for u in s["unenrolled"]] == [
        ("TAG-2", netboot_fp)
    ]
    assert s["unenrolled"][0]["file"].startswith(f"s3://{bucket.bucket}/site-a/records/")
    assert [m["asset_tag"] for m in s["missing"]] == ["TAG-2"]

    took = reconcile(floor, store_url(bucket), *opts, "--accept-ephemeral")
    assert took.returncode == 0, took.stdout + took.stderr
    assert "COMPLETE" in took.stdout.splitlines()[0]
    assert "accepted with --accept-ephemeral: 1 records" in took.stdout
