"""``wipestation lot reconcile`` over signed records on disk: trust, rejection, exit status, the
signed lot record (schema, one changed byte) and the lot PDF (pdftotext finds every serial)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from wipestation.custody.destroy import Destruction, build_destruction_record
from wipestation.custody.lot_record import load_schema
from wipestation.reports.record import serialize
from wipestation.reports.sign import Signer, verify_bytes

from tests.custody.helpers import public_pem, record, save
from tests.reports.factory import STATION

ROOT = Path(__file__).resolve().parents[2]
LONG = "WD-WXA1234567890123456789ZZ"  # a long serial must still come out of the PDF whole


def cli(*args: str | Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wipestation", *map(str, args)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "app"), "XDG_DATA_HOME": str(home)},
    )  # fmt: skip


@pytest.fixture
def lot(tmp_path: Path) -> dict[str, Path]:
    """Two stations' records on two sticks, a manifest with one entry more, trust files."""
    a, b = Signer.generate(), Signer.generate()
    stick1, stick2 = tmp_path / "stick1", tmp_path / "stick2"
    r1 = record(a, "S6PYNX0T123456A", asset_tag="ACME-1")
    save(stick1 / "reports" / "2026-11-27", "S6PYNX0T123456A", r1)
    save(stick1 / "reports" / "2026-11-27", "S6PYNX0T123456B", record(a, "S6PYNX0T123456B"))
    save(stick2 / "reports", "LONG", record(b, LONG, passed=False))
    save(stick2 / "reports", "LONG-2", record(b, LONG, ended_at="2026-11-27T05:00:00+01:00"))
    save(stick2 / "reports", "X", record(b, "NOT-ON-MANIFEST"))
    save(stick2 / ".journal", "ignored", {"not": "a record"})
    manifest = tmp_path / "manifest.csv"
    manifest.write_bytes(
        b"\xef\xbb\xbfSerial;Asset Tag;Model\r\n"
        b"S6PYNX0T123456A;ACME-1;Samsung\r\nS6PYNX0T123456B;;\r\n"
        + f"{LONG};;WD\r\nMISSING-0001;ACME-9;Seagate\r\n".encode()
    )
    (tmp_path / "a.pub.pem").write_bytes(public_pem(r1))
    (tmp_path / "b.fingerprint").write_text(f"# station b\n{b.fingerprint}\n")
    return {"tmp": tmp_path, "stick1": stick1, "stick2": stick2, "manifest": manifest,
            "a": tmp_path / "a.pub.pem", "b": tmp_path / "b.fingerprint"}  # fmt: skip


def reconcile(lot: dict[str, Path], *extra: str | Path) -> subprocess.CompletedProcess[str]:
    return cli(
        "lot", "reconcile", "--manifest", lot["manifest"], "--lot", "L1",
        "--trust", lot["a"], lot["b"], lot["stick1"], lot["stick2"], *extra, home=lot["tmp"],
    )  # fmt: skip


def test_incomplete_names_the_missing_entry_exit_3(lot):
    out = reconcile(lot, "--json")
    assert out.returncode == 3, out.stderr
    s = json.loads(out.stdout)
    assert s["status"] == "INCOMPLETE"
    assert (s["expected"], s["passed"], s["failed"], s["destroyed"]) == (4, 3, 0, 0)
    assert [m["serial"] for m in s["missing"]] == ["MISSING-0001"]
    assert [u["serial"] for u in s["unexpected"]] == ["NOT-ON-MANIFEST"]
    assert s["rejected"] == []
    assert s["chain_gaps"] == []
    text = reconcile(lot)
    assert "not done: manifest line 5: MISSING-0001 (MISSING)" in text.stdout


def test_tampered_and_untrusted_records_are_rejected_never_counted(lot):
    one = lot["stick1"] / "reports" / "2026-11-27" / "S6PYNX0T123456B.json"
    data = bytearray(one.read_bytes())
    at = data.index(b'"PASS"') + 2
    data[at] = ord("Q")  # one byte
    one.write_bytes(bytes(data))
    stranger = Signer.generate()
    forged = lot["stick2"] / "forged.json"
    forged.write_bytes(serialize(record(stranger, "MISSING-0001", asset_tag="ACME-9")))
    out = reconcile(lot, "--json")
    assert out.returncode == 3
    s = json.loads(out.stdout)
    reasons = {Path(r["file"]).name: r["reason"] for r in s["rejected"]}
    assert "record was changed" in reasons["S6PYNX0T123456B.json"]
    assert f"unknown key {stranger.fingerprint}" in reasons["forged.json"]
    assert {m["serial"] for m in s["missing"]} == {"S6PYNX0T123456B", "MISSING-0001"}
    assert s["passed"] == 2


def test_complete_after_the_missing_drive_and_the_signed_lot_record(lot, tmp_path):
    c = Signer.generate()
    stick3 = tmp_path / "stick3"
    save(stick3, "late", record(c, "MISSING-0001", asset_tag="ACME-9"))
    out_dir = tmp_path / "out"
    out = cli(
        "lot", "reconcile", "--manifest", lot["manifest"], "--lot", "L1",
        "--trust", lot["a"], lot["b"], "--fingerprint", c.fingerprint,
        lot["stick1"], lot["stick2"], stick3, "--out", out_dir, "--json", home=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    s = json.loads(out.stdout)
    assert s["status"] == "COMPLETE"
    assert s["passed"] == 4
    assert s["missing"] == []
    lot_json = out_dir / "lot-L1.json"
    assert sorted(s["written"]) == sorted([str(lot_json), str(out_dir / "lot-L1.pdf")])
    data = lot_json.read_bytes()
    signed = json.loads(data)
    jsonschema.validate(signed, load_schema(), cls=jsonschema.Draft202012Validator)
    assert verify_bytes(data, (s["signed_by"],)).ok
    wiped_twice = next(e for e in signed["entries"] if e["serial"] == LONG)
    assert [r["outcome"] for r in wiped_twice["records"]] == ["FAIL", "PASS"]
    assert wiped_twice["outcome"] == "PASS"
    changed = data.replace(b'"COMPLETE"', b'"COMPLETF"')
    assert not verify_bytes(changed, (s["signed_by"],)).ok
    text = subprocess.run(
        ["pdftotext", "-layout", str(out_dir / "lot-L1.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "COMPLETE" in text
    assert "INCOMPLETE" not in text
    for serial in ("S6PYNX0T123456A", "S6PYNX0T123456B", LONG, "MISSING-0001", "NOT-ON-MANIFEST"):
        assert serial in text, serial
    assert "ACME-9" in text
    assert "page 1 of" in text


def test_incomplete_pdf_lists_the_entries_not_done_first(lot, tmp_path):
    out = reconcile(lot, "--out", tmp_path / "out")
    assert out.returncode == 3
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "out" / "lot-L1.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert text.index("INCOMPLETE") < text.index("Not done") < text.index("MISSING-0001")
    assert text.index("MISSING-0001") < text.index("S6PYNX0T123456A")
    # a second run never replaces the first certificate
    assert reconcile(lot, "--out", tmp_path / "out").returncode == 3
    assert (tmp_path / "out" / "lot-L1-2.json").exists()


def test_a_destruction_record_closes_the_lot(lot, tmp_path):
    c = Signer.generate()
    d = build_destruction_record(
        Destruction("MISSING-0001", "shredded", "Ana Pérez", lot_id="L1"), STATION
    )
    save(tmp_path / "stick3", "destroyed", c.sign(d))
    out = cli(
        "lot", "reconcile", "--manifest", lot["manifest"], "--lot", "L1", "--trust", lot["a"],
        lot["b"], "--fingerprint", c.fingerprint, lot["stick1"], lot["stick2"],
        tmp_path / "stick3", "--json", home=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["destroyed"] == 1


def test_trust_identity_json_and_a_record_nested_too_deep(lot, tmp_path):
    identity = tmp_path / "station.identity.json"
    r = json.loads(next((lot["stick2"] / "reports").glob("X.json")).read_bytes())
    identity.write_text(json.dumps({"public_key": r["signature"]["public_key"]}))
    (lot["stick2"] / "deep.json").write_text("[" * 5000 + "]" * 5000)
    (lot["stick2"] / "huge.json").write_bytes(b" " * (5 * 2**20))
    out = cli(
        "lot", "reconcile", "--manifest", lot["manifest"], "--trust", lot["a"], identity,
        lot["stick1"], lot["stick2"], "--json", home=tmp_path,
    )  # fmt: skip
    assert out.returncode == 3, out.stderr
    s = json.loads(out.stdout)
    reasons = {Path(r["file"]).name: r["reason"] for r in s["rejected"]}
    assert "nested" in reasons["deep.json"]
    assert "larger than" in reasons["huge.json"]
    assert s["passed"] == 3


def test_trust_a_station_identity_file(lot, tmp_path):
    """The shape ``wipestation station identity`` writes: a key document signed by that key."""
    c = Signer.generate()
    save(tmp_path / "stick3", "late", record(c, "MISSING-0001"))
    doc = {"schema": "wipestation.identity/1", "station": {"id": "bench-9"},
           "key": {"public_key_pem": c.private_key.public_key().public_bytes(
               Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()}}  # fmt: skip
    good, bad = tmp_path / "c.identity.json", tmp_path / "bad.identity.json"
    good.write_bytes(serialize(c.sign(doc)))
    bad.write_bytes(serialize({**c.sign(doc), "station": {"id": "someone else"}}))
    args = ("lot", "reconcile", "--manifest", lot["manifest"], "--json", tmp_path / "stick3")
    ok = cli(*args, "--trust", good, home=tmp_path)
    assert ok.returncode == 3, ok.stderr
    assert json.loads(ok.stdout)["passed"] == 1
    refused = cli(*args, "--trust", bad, home=tmp_path)
    assert refused.returncode == 2
    assert "not signed by the key it names" in refused.stderr


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("manifest", "line 2, column 1: "),
        ("source", "not found"),
        ("trust", "no trusted key"),
        ("trustfile", "is not a key fingerprint"),
        ("private", "a private key is not a trust anchor"),
    ],
)
def test_bad_input_exit_2_one_line_no_traceback(lot, tmp_path, change, words):
    manifest, trust, sources = lot["manifest"], ["--trust", lot["a"]], [lot["stick1"]]
    if change == "manifest":
        manifest = tmp_path / "bad.csv"
        manifest.write_text('serial\n"open\n')
    elif change == "source":
        sources = [tmp_path / "no-such-stick"]
    elif change == "trust":
        trust = []
    elif change == "trustfile":
        (tmp_path / "t.txt").write_text("not a fingerprint\n")
        trust = ["--trust", tmp_path / "t.txt"]
    else:
        from cryptography.hazmat.primitives import serialization

        pem = Signer.generate().private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )  # fmt: skip
        (tmp_path / "k.pem").write_bytes(pem)
        trust = ["--trust", tmp_path / "k.pem"]
    out = cli("lot", "reconcile", "--manifest", manifest, *trust, *sources, home=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert words in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr
