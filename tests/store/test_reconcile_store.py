"""``wipestation lot reconcile s3://BUCKET/PREFIX`` against the real SeaweedFS: records the real
engine and writer wiped and uploaded for two stations (two station keys), verified exactly as a
stick's records, counted once when also on a stick, a tampered copy rejected, and a store that
cannot be used said in words, without the secret and without a traceback."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from wipestation.reports.readrecord import parse_object
from wipestation.reports.record import StationInfo
from wipestation.reports.sign import Signer
from wipestation.reports.store import StoreLocation, record_key
from wipestation.reports.store_client import StoreClient
from wipestation.reports.target import DirectoryTarget
from wipestation.reports.writer import ReportWriter

from tests.store.seaweed import Seaweed
from tests.store.test_delivery import GIVE_UP_S, settings_for, uploader
from tests.store.test_papers import wipe_tagged

ROOT = Path(__file__).resolve().parents[2]
LOT = "L7"
SECRET_FREE_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL")


@dataclass(frozen=True)
class Floor:
    """Two stations' sticks, the store they uploaded to, the keys to trust, a manifest."""

    sticks: tuple[Path, ...]
    fingerprints: tuple[str, ...]
    manifest: Path
    creds_file: Path


def station_wipes(
    make_loop: Callable[..., str], tmp: Path, name: str, tags: list[str], store_settings
) -> tuple[Path, str]:
    """One station (its own key): wipe one loop device per asset tag with the real engine; the
    real writer puts each record on the station's stick and uploads it. → stick, fingerprint."""
    store = uploader(store_settings)
    stick = tmp / name / "stick"
    writer = ReportWriter(
        target=DirectoryTarget(stick),
        key_home=tmp / name / "keys",
        station=StationInfo(station_id=name, lot_id=LOT),
        store=store,
    )
    try:
        wipe_tagged(make_loop, writer, tmp / name, tags, label=name)
        assert store.wait_idle(GIVE_UP_S), store.status()
        assert store.status().delivered == len(tags) + 1  # and the identity file
    finally:
        writer.close()
    record = next(p for p in (stick / "reports").rglob("*.json"))
    return stick, parse_object(record.read_bytes())["signature"]["key_fingerprint"]


@pytest.fixture
def bucket(seaweed: Seaweed, request: pytest.FixtureRequest) -> StoreClient:
    name = "rc-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:20]
    return seaweed.make_bucket(name)


@pytest.fixture
def floor(seaweed: Seaweed, bucket: StoreClient, make_loop, tmp_path: Path) -> Floor:
    settings = settings_for(seaweed, bucket.bucket)
    a = station_wipes(make_loop, tmp_path, "station-a", ["TAG-1", "TAG-2"], settings)
    b = station_wipes(make_loop, tmp_path, "station-b", ["TAG-3"], settings)
    assert a[1] != b[1]
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("Asset Tag;Model\nTAG-1;\nTAG-2;\nTAG-3;\nTAG-4;\n")
    creds = seaweed.credentials_file(tmp_path / "credentials")
    return Floor((a[0], b[0]), (a[1], b[1]), manifest, creds)


def reconcile(
    floor: Floor, *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    trust = [x for fp in floor.fingerprints for x in ("--fingerprint", fp)]
    base = {k: v for k, v in os.environ.items() if k not in SECRET_FREE_ENV}
    return subprocess.run(
        [sys.executable, "-m", "wipestation", "lot", "reconcile", "--manifest", floor.manifest,
         *trust, *map(str, args)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**base, "PYTHONPATH": str(ROOT / "app"), "XDG_DATA_HOME": str(floor.manifest.parent),
             **(env or {})},
    )  # fmt: skip


def summary(out: subprocess.CompletedProcess[str]) -> dict:
    assert "Traceback" not in out.stdout + out.stderr, out.stderr
    return dict(json.loads(out.stdout))


def store_url(bucket: StoreClient) -> str:
    return f"s3://{bucket.bucket}/site-a"


def test_the_floor_reconciled_from_the_store(seaweed, bucket, floor):
    """Both stations' records from the store alone: three PASS, TAG-4 missing, exit 3; the
    credentials from a file once and from the AWS environment variables once; with and without
    the lot known (its own prefix, or every lot's)."""
    by_file = reconcile(
        floor, store_url(bucket), "--store-endpoint", seaweed.endpoint,
        "--store-credentials-file", floor.creds_file, "--lot", LOT, "--json",
    )  # fmt: skip
    c = seaweed.credentials
    env = {"AWS_ACCESS_KEY_ID": c.access_key, "AWS_SECRET_ACCESS_KEY": c.secret_key,
           "AWS_ENDPOINT_URL": seaweed.endpoint, "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip
    by_env = reconcile(floor, store_url(bucket), "--json", env=env)
    for out in (by_file, by_env):
        s = summary(out)
        assert out.returncode == 3, out.stderr
        assert (s["status"], s["expected"], s["passed"]) == ("INCOMPLETE", 4, 3)
        assert [m["asset_tag"] for m in s["missing"]] == ["TAG-4"]
        assert s["rejected"] == []
        assert s["unexpected"] == []
    text = reconcile(floor, store_url(bucket), env=env)
    assert text.returncode == 3
    assert "3 passed" in text.stdout
    assert "1 not seen" in text.stdout
    assert "not done: manifest line 5: asset tag TAG-4 (MISSING)" in text.stdout


def test_a_record_on_a_stick_and_in_the_store_is_one_record(seaweed, bucket, floor):
    """Station a's stick and the store (which holds a's records too): still three passed; the
    manifest's last entry wiped nowhere, so still incomplete; b's stick alone misses a's."""
    opts = ("--store-endpoint", seaweed.endpoint, "--store-credentials-file", floor.creds_file)
    both = summary(reconcile(floor, floor.sticks[0], store_url(bucket), *opts, "--json"))
    assert (both["passed"], both["expected"], both["rejected"]) == (3, 4, [])
    floor.manifest.write_text("Asset Tag\nTAG-1\nTAG-2\nTAG-3\n")
    out_dir = floor.manifest.parent / "out"
    out = reconcile(floor, *floor.sticks, store_url(bucket), *opts, "--out", out_dir, "--json")
    s = summary(out)
    assert out.returncode == 0, out.stdout
    assert (s["status"], s["passed"], s["unexpected"], s["chain_gaps"]) == ("COMPLETE", 3, [], [])
    lot_record = json.loads(next(out_dir.glob("lot-*.json")).read_bytes())
    assert [len(e["records"]) for e in lot_record["entries"]] == [1, 1, 1]  # not 2: one record
    assert reconcile(floor, floor.sticks[1], "--json").returncode == 3


def test_a_tampered_record_in_the_store_is_rejected_never_counted(seaweed, bucket, floor):
    """One byte of a genuine record changed (its asset tag now TAG-4, the missing drive) and
    uploaded under its own content key: rejected as a bad signature; TAG-4 still missing."""
    location = StoreLocation(bucket.bucket, "site-a")
    key = next(o.key for o in bucket.list("site-a/records/") if o.key.endswith(".json"))
    genuine = bucket.get(key)
    tag = parse_object(genuine)["asset_tag"].encode()
    tampered = genuine.replace(b'"' + tag + b'"', b'"TAG-4"')
    assert tampered != genuine
    assert len(tampered) == len(genuine)
    identity = parse_object(tampered)["drive"]["identity"]
    forged = record_key(location, LOT, identity, hashlib.sha256(tampered).hexdigest(), "json")
    assert bucket.put(forged, tampered).created
    out = reconcile(
        floor, store_url(bucket), "--store-endpoint", seaweed.endpoint,
        "--store-credentials-file", floor.creds_file, "--json",
    )  # fmt: skip
    s = summary(out)
    assert out.returncode == 3
    assert s["passed"] == 3
    assert [m["asset_tag"] for m in s["missing"]] == ["TAG-4"]
    assert [r["file"] for r in s["rejected"]] == [f"s3://{bucket.bucket}/{forged}"]
    # the verifier's words for a changed record, as for a stick's file (the signature covers
    # the record hash, which no longer matches the content)
    assert s["rejected"][0]["reason"] == (
        "record hash does not match the record content (record was changed)"
    )


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("secret", "refused the credentials (403)"),
        ("bucket", "does not exist"),
        ("endpoint", "unreachable"),
        ("no-credentials", "no credentials for the store"),
        ("no-endpoint", "give --store-endpoint URL"),
        ("url", "is not an S3 bucket name"),
    ],
)
def test_a_store_that_cannot_be_used_is_one_line_exit_2_without_the_secret(
    seaweed, bucket, tmp_path, case, words
):
    wrong = "not-the-secret-0123456789"
    key = seaweed.credentials.access_key
    env = {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": seaweed.credentials.secret_key,
           "AWS_ENDPOINT_URL": seaweed.endpoint}  # fmt: skip
    url = store_url(bucket)
    if case == "secret":
        env["AWS_SECRET_ACCESS_KEY"] = wrong
    elif case == "bucket":
        url = "s3://no-such-bucket-here/site-a"
    elif case == "endpoint":
        env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # discard: nothing listens
    elif case == "no-credentials":
        del env["AWS_SECRET_ACCESS_KEY"]
    elif case == "no-endpoint":
        del env["AWS_ENDPOINT_URL"]
    else:
        url = "s3://Bad_Bucket/x"
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("Asset Tag\nTAG-1\n")
    floor = Floor((), (Signer.generate().fingerprint,), manifest, tmp_path / "none")
    out = reconcile(floor, url, env=env)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("wipestation: error: ")
    assert words in lines[0]
    for secret in (wrong, seaweed.credentials.secret_key):
        assert secret not in out.stderr


def test_a_store_behind_a_private_ca_with_store_ca(seaweed, bucket, tmp_path):
    """Over TLS: with ``--store-ca`` the (empty) store is read and the manifest's drive is
    missing (exit 3); without it, the unknown CA is one line naming the fix (exit 2)."""
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("Asset Tag\nTAG-1\n")
    floor = Floor((), (Signer.generate().fingerprint,), manifest, tmp_path / "none")
    c = seaweed.credentials
    env = {"AWS_ACCESS_KEY_ID": c.access_key, "AWS_SECRET_ACCESS_KEY": c.secret_key,
           "AWS_ENDPOINT_URL": seaweed.https_endpoint}  # fmt: skip
    ok = reconcile(floor, store_url(bucket), "--store-ca", seaweed.ca, "--json", env=env)
    assert ok.returncode == 3, ok.stderr
    assert [m["asset_tag"] for m in summary(ok)["missing"]] == ["TAG-1"]
    bad = reconcile(floor, store_url(bucket), env=env)
    assert bad.returncode == 2
    assert len(bad.stderr.splitlines()) == 1, bad.stderr
    assert "TLS to store" in bad.stderr
    assert "set --store-ca to the CA certificate" in bad.stderr
