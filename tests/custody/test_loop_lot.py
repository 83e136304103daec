"""Issue 17 end to end on real loop devices: ``wipestation wipe --lot/--asset-tag/--operator/
--location`` then ``wipestation lot reconcile`` over the report dirs (one entry missing → exit 3
and named; a tampered record and one re-signed with an untrusted key → rejected; the missing
drive wiped into a second report dir → exit 0, COMPLETE), the lot record against its schema and
one changed byte, and the lot PDF through pdftotext. Also: a drive named twice is refused."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from wipestation.custody.lot_record import load_schema
from wipestation.reports.record import serialize
from wipestation.reports.sign import Signer, verify_bytes

from tests.custody.helpers import public_pem
from tests.engine.conftest import MiB, read_all
from tests.reports.factory import validate

ROOT = Path(__file__).resolve().parents[2]
SIZE = 4 * MiB


def cli(*args: str | Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wipestation", *map(str, args)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "app"), "XDG_DATA_HOME": str(home)},
    )  # fmt: skip


def wipe(home: Path, report_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli(
        "wipe", *args, "--method", "overwrite-zero", "--verify", "full", "--yes",
        "--report-dir", report_dir, "--lot", "L1", "--operator", "Ana Pérez",
        "--customer", "ACME Recycling", "--location", "Bay 3", home=home,
    )  # fmt: skip


def records(report_dir: Path) -> dict[str, Path]:
    """asset tag → record file."""
    out = {}
    for p in (report_dir / "reports").rglob("*.json"):
        out[json.loads(p.read_bytes())["asset_tag"]] = p
    return out


def trust_files(tmp: Path, *record_files: Path) -> list[Path]:
    """The PEM public keys of the keys that signed these genuine records (the test made them)."""
    out = []
    for i, f in enumerate(record_files):
        pem = tmp / f"station-{i}.pub.pem"
        pem.write_bytes(public_pem(json.loads(f.read_bytes())))
        out.append(pem)
    return out


def reconcile(home: Path, manifest: Path, trust: list[Path], *more: str | Path):
    return cli(
        "lot", "reconcile", "--manifest", manifest, "--lot", "L1", "--trust", *trust, *more,
        "--json", home=home,
    )  # fmt: skip


@pytest.mark.slow
def test_lot_from_wipe_to_complete_certificate(make_loop, tmp_path):
    a, b, c = (make_loop(SIZE, p) for p in (b"aaaa", b"bbbb", b"cccc"))
    d1, d2, out_dir = tmp_path / "D1", tmp_path / "D2", tmp_path / "out"
    manifest = tmp_path / "manifest.csv"
    manifest.write_bytes(
        b"\xef\xbb\xbfAsset Tag;Model;Note\r\nLOT-A;;\r\nLOT-B;;\r\nLOT-C;;box 2\r\n"
    )

    w = wipe(tmp_path, d1, a, b, "--asset-tag", f"{a}=LOT-A", "--asset-tag", f"{b}=LOT-B")
    assert w.returncode == 0, w.stderr
    first = records(d1)
    assert sorted(first) == ["LOT-A", "LOT-B"]
    for tag, path in first.items():
        r = validate(json.loads(path.read_bytes()))
        assert (r["lot_id"], r["operator"], r["customer"]) == ("L1", "Ana Pérez", "ACME Recycling")
        assert r["station"]["location"] == "Bay 3"
        assert r["asset_tag"] == tag
    trust = trust_files(tmp_path, *first.values())

    out = reconcile(tmp_path, manifest, trust, d1)
    assert out.returncode == 3, out.stderr
    s = json.loads(out.stdout)
    assert s["status"] == "INCOMPLETE"
    assert (s["expected"], s["passed"]) == (3, 2)
    assert [m["asset_tag"] for m in s["missing"]] == ["LOT-C"]

    # a copy with one byte changed, and one re-signed with a key nobody trusts
    forged_dir = tmp_path / "forged"
    forged_dir.mkdir()
    genuine = first["LOT-B"].read_bytes()
    tampered = bytearray(genuine)
    tampered[genuine.index(b"LOT-B") + 4] = ord("C")
    (forged_dir / "tampered.json").write_bytes(bytes(tampered))
    resigned = json.loads(genuine)
    resigned["asset_tag"] = "LOT-C"
    stranger = Signer.generate()
    (forged_dir / "resigned.json").write_bytes(serialize(stranger.sign(resigned)))
    out = reconcile(tmp_path, manifest, trust, d1, forged_dir)
    assert out.returncode == 3
    s = json.loads(out.stdout)
    reasons = {Path(r["file"]).name: r["reason"] for r in s["rejected"]}
    assert "record was changed" in reasons["tampered.json"]
    assert f"unknown key {stranger.fingerprint}" in reasons["resigned.json"]
    assert [m["asset_tag"] for m in s["missing"]] == ["LOT-C"]

    w = wipe(tmp_path, d2, c, "--asset-tag", f"{c}=LOT-C")
    assert w.returncode == 0, w.stderr
    (late,) = records(d2).values()
    trust.append(tmp_path / "late.pub.pem")
    trust[-1].write_bytes(public_pem(json.loads(late.read_bytes())))
    out = reconcile(tmp_path, manifest, trust, d1, d2, forged_dir, "--out", out_dir)
    assert out.returncode == 0, out.stdout + out.stderr
    s = json.loads(out.stdout)
    assert s["status"] == "COMPLETE"
    assert (s["expected"], s["passed"], s["missing"]) == (3, 3, [])
    assert len(s["rejected"]) == 2  # still listed, still not counted

    lot_json = out_dir / "lot-L1.json"
    data = lot_json.read_bytes()
    lot = json.loads(data)
    jsonschema.validate(lot, load_schema(), cls=jsonschema.Draft202012Validator)
    assert [e["asset_tag"] for e in lot["entries"]] == ["LOT-A", "LOT-B", "LOT-C"]
    assert lot["operators"] == ["Ana Pérez"]
    assert verify_bytes(data, (s["signed_by"],)).ok
    changed = bytearray(data)
    changed[data.index(b"LOT-A") + 4] = ord("B")
    assert not verify_bytes(bytes(changed), (s["signed_by"],)).ok
    text = subprocess.run(
        ["pdftotext", "-layout", str(out_dir / "lot-L1.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "COMPLETE" in text
    for tag in ("LOT-A", "LOT-B", "LOT-C"):
        assert tag in text
    for e in lot["entries"]:
        assert e["records"][-1]["record_sha256"][:32] in text


def aliases_of(dev: str, tmp_path: Path) -> list[str]:
    """udev's links to ``dev`` (by-diskseq, by-id, by-path ...) and a link of our own."""
    link = tmp_path / "alias"
    link.symlink_to(dev)
    real = os.path.realpath(dev)
    found = [p for p in glob.glob("/dev/disk/by-*/*") if os.path.realpath(p) == real]
    return [*found[:1], str(link)]


def test_a_drive_named_twice_is_refused_before_anything_is_written(make_loop, tmp_path):
    a, b = make_loop(SIZE, b"keep me "), make_loop(SIZE, b"me too ")
    before = hashlib.sha256(read_all(a) + read_all(b)).hexdigest()
    for twice in ([a, b, a], *([b, a, alias] for alias in aliases_of(a, tmp_path))):
        out = wipe(tmp_path, tmp_path / "r", *twice)
        assert out.returncode == 1, (twice, out.stdout, out.stderr)
        assert "name each drive once" in out.stderr
        assert "Traceback" not in out.stderr
    assert hashlib.sha256(read_all(a) + read_all(b)).hexdigest() == before
    assert not list((tmp_path / "r").rglob("*.json")) if (tmp_path / "r").exists() else True


@pytest.mark.slow
def test_config_file_and_flags_and_bad_asset_tags(make_loop, tmp_path):
    dev = make_loop(SIZE, b"cfg ")
    cfg = tmp_path / "wipestation.toml"
    cfg.write_text(
        '[station]\nstation = "bench-7"\noperator = "From Config"\ncustomer = "Cfg Customer"\n'
        'method = "overwrite-ones"\nverify = "full"\n'
    )
    before = read_all(dev)
    for bad, words in ((f"{dev}", "expected DEVICE=TAG"), ("/dev/null=T", "not one of the drives")):
        out = cli("wipe", dev, "--config", cfg, "--yes", "--report-dir", tmp_path / "x",
                  "--asset-tag", bad, home=tmp_path)  # fmt: skip
        assert out.returncode == 1
        assert words in out.stderr
    assert read_all(dev) == before
    missing = cli("wipe", dev, "--config", tmp_path / "nope.toml", "--yes", home=tmp_path)
    assert missing.returncode == 1
    assert "no such file" in missing.stderr
    out = cli(
        "wipe", dev, "--config", cfg, "--operator", "From Flag", "--yes", "--asset-tag",
        f"{dev}=T-9", "--report-dir", tmp_path / "r", home=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert read_all(dev) == b"\xff" * SIZE  # the config's method
    (path,) = records(tmp_path / "r").values()
    r = json.loads(path.read_bytes())
    assert (r["station"]["id"], r["operator"], r["customer"]) == (
        "bench-7",
        "From Flag",
        "Cfg Customer",
    )
    assert (r["asset_tag"], r["lot_id"], r["verification"]["mode"]) == ("T-9", "", "full")
