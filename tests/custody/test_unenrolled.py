"""Records signed by a per-boot key (``key_protection: "ephemeral"``: a netbooted station with no
TPM and no boot stick) that no trusted identity names: intact, but of unknown origin. ``lot
reconcile`` lists them as UNENROLLED by serial and key, never counts them and exits 3, unless
``--accept-ephemeral`` is given; then they count and the summary says how many did. A record of
an unknown key that is not a per-boot one stays rejected, with or without the option."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from wipestation.custody.lot import COMPLETE, INCOMPLETE, Lot, reconcile
from wipestation.custody.lot_record import load_schema
from wipestation.custody.manifest import load_manifest
from wipestation.custody.records import FoundRecord
from wipestation.custody.resume import read_prior
from wipestation.custody.sources import Rejected, Unenrolled, check_bytes, collect
from wipestation.reports.record import serialize
from wipestation.reports.sign import Signer, verify_bytes

from tests.custody.helpers import record, save
from tests.custody.test_reconcile import cli


def ephemeral() -> Signer:
    """A key as a netbooted station without TPM makes it at boot (``keystore.file_signer``)."""
    return replace(Signer.generate(), protection="ephemeral")


@pytest.fixture
def floor(tmp_path: Path) -> dict:
    """A TPM-less netbooted station (per-boot key) and an enrolled one, a 3-entry manifest."""
    enrolled, netboot = Signer.generate(), ephemeral()
    stick = tmp_path / "stick"
    save(stick / "reports", "A", record(enrolled, "SER-A"))
    save(stick / "reports", "B", record(netboot, "SER-B"))
    save(stick / "reports", "C", record(netboot, "SER-C", ended_at="2026-11-27T04:00:00+01:00"))
    save(stick / "reports", "other-lot", record(netboot, "SER-Z", lot_id="L9"))
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("serial\nSER-A\nSER-B\nSER-C\n")
    trust = tmp_path / "enrolled.fingerprint"
    trust.write_text(enrolled.fingerprint + "\n")
    return {"tmp": tmp_path, "stick": stick, "manifest": manifest, "trust": trust,
            "enrolled": enrolled, "netboot": netboot}  # fmt: skip


def run(floor: dict, *extra: str | Path) -> subprocess.CompletedProcess[str]:
    return cli(
        "lot", "reconcile", "--manifest", floor["manifest"], "--lot", "L1",
        "--trust", floor["trust"], floor["stick"], *extra, home=floor["tmp"],
    )  # fmt: skip


# ---- the verifier (one for sticks and stores) -----------------------------------------------


def test_the_verifier_keeps_a_per_boot_key_s_record_apart() -> None:
    key, other = ephemeral(), Signer.generate()
    data = serialize(record(key, "SER-1"))
    found = check_bytes("r.json", data, (other.fingerprint,))
    assert isinstance(found, Unenrolled)
    assert isinstance(found, Rejected)  # a reader that knows nothing of it rejects it
    assert found.record.serial == "SER-1"
    assert found.record.key_fingerprint == key.fingerprint
    assert found.record.key_protection == "ephemeral"
    assert key.fingerprint in found.reason
    # Enrolled (its fingerprint given): an ordinary record.
    trusted = check_bytes("r.json", data, (other.fingerprint, key.fingerprint))
    assert isinstance(trusted, FoundRecord)
    assert trusted.key_protection == "ephemeral"


def test_an_unknown_file_key_and_a_changed_per_boot_record_stay_rejected() -> None:
    trusted = (Signer.generate().fingerprint,)
    stranger = Signer.generate()
    found = check_bytes("x.json", serialize(record(stranger, "SER-1")), trusted)
    assert type(found) is Rejected
    assert found.reason == f"signed by an unknown key {stranger.fingerprint}"
    changed = serialize(record(ephemeral(), "SER-1")).replace(b"SER-1", b"SER-2")
    found = check_bytes("y.json", changed, trusted)
    assert type(found) is Rejected
    assert "record was changed" in found.reason
    # A file key relabelled "ephemeral" after signing is a changed record, not an unenrolled one.
    relabelled = serialize(record(stranger, "SER-1")).replace(b'"file"', b'"ephemeral"')
    found = check_bytes("z.json", relabelled, trusted)
    assert type(found) is Rejected


def test_a_resumed_lot_does_not_count_an_earlier_boot_s_key(tmp_path: Path) -> None:
    """A netbooted station's key of this boot does not vouch for its key of the last boot."""
    this_boot, last_boot = ephemeral(), ephemeral()
    save(tmp_path / "reports" / "d", "old", record(last_boot, "SER-1"))
    save(tmp_path / "reports" / "d", "new", record(this_boot, "SER-2"))
    prior = read_prior(tmp_path, "L1", this_boot.fingerprint)
    assert [r.serial for r in prior.records] == ["SER-2"]
    assert [Path(r.file).name for r in prior.rejected] == ["old.json"]


# ---- reconcile --------------------------------------------------------------------------------


def test_unenrolled_records_are_not_counted_unless_accepted(floor: dict) -> None:
    found = collect([floor["stick"]], (floor["enrolled"].fingerprint,))
    assert [r.serial for r in found.records] == ["SER-A"]
    assert sorted(u.record.serial for u in found.unenrolled) == ["SER-B", "SER-C", "SER-Z"]
    assert found.rejected == ()
    lot = Lot(lot_id="L1", manifest=load_manifest(floor["manifest"]))
    held = reconcile(lot, found.records, found.rejected, unenrolled=found.unenrolled)
    assert held.status == INCOMPLETE
    assert [e.outcome for e in held.entries] == ["PASS", "MISSING", "MISSING"]
    assert [(u.record.serial, u.reason) for u in held.unenrolled] == [
        ("SER-B", "per-boot key not enrolled; would count for: manifest line 3"),
        ("SER-C", "per-boot key not enrolled; would count for: manifest line 4"),
    ]  # oldest first; SER-Z is another lot's and passed over
    assert held.passed_over == 1
    assert held.accepted_ephemeral == 0
    took = reconcile(
        lot, found.records, found.rejected, unenrolled=found.unenrolled, accept_ephemeral=True
    )
    assert took.status == COMPLETE
    assert [e.outcome for e in took.entries] == ["PASS", "PASS", "PASS"]
    assert took.unenrolled == ()
    assert took.accepted_ephemeral == 2  # SER-Z is another lot's: not counted, not accepted


def test_an_extra_unenrolled_record_keeps_a_done_lot_open(floor: dict) -> None:
    """Every entry proven by an enrolled key, and one more record of a per-boot key: a person
    must decide about it before the lot is called complete."""
    lot = Lot(lot_id="L1", manifest=load_manifest(floor["manifest"]))
    enrolled = floor["enrolled"]
    records = list(collect([floor["stick"]], (enrolled.fingerprint,)).records)
    for serial in ("SER-B", "SER-C"):
        data = serialize(record(enrolled, serial))
        found = check_bytes(serial, data, (enrolled.fingerprint,))
        assert isinstance(found, FoundRecord)
        records.append(found)
    extra = check_bytes("x", serialize(record(ephemeral(), "NOT-LISTED")), (enrolled.fingerprint,))
    assert isinstance(extra, Unenrolled)
    assert reconcile(lot, records).status == COMPLETE
    rec = reconcile(lot, records, unenrolled=[extra])
    assert rec.status == INCOMPLETE
    assert rec.unenrolled[0].reason.endswith("would count for: not on the manifest")


def test_cli_lists_unenrolled_by_serial_and_key_exit_3(floor: dict) -> None:
    fp = floor["netboot"].fingerprint
    out = run(floor, "--json")
    assert out.returncode == 3, out.stderr
    s = json.loads(out.stdout)
    assert (s["status"], s["passed"], s["accepted_ephemeral"]) == ("INCOMPLETE", 1, 0)
    assert sorted((u["serial"], u["key_fingerprint"]) for u in s["unenrolled"]) == [
        ("SER-B", fp),
        ("SER-C", fp),
    ]
    assert {u["key_protection"] for u in s["unenrolled"]} == {"ephemeral"}
    assert s["rejected"] == []
    assert [m["serial"] for m in s["missing"]] == ["SER-B", "SER-C"]
    text = run(floor).stdout
    assert "INCOMPLETE" in text.splitlines()[0]
    assert ", 2 UNENROLLED" in text.splitlines()[0]
    assert f"UNENROLLED: SER-B PASS key {fp} (" in text
    assert "give --accept-ephemeral" in text


def test_cli_accept_ephemeral_counts_them_and_says_how_many(floor: dict, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out = run(floor, "--accept-ephemeral", "--out", out_dir, "--json")
    assert out.returncode == 0, out.stderr
    s = json.loads(out.stdout)
    assert (s["status"], s["passed"], s["accepted_ephemeral"]) == ("COMPLETE", 3, 2)
    assert s["unenrolled"] == []
    data = (out_dir / "lot-L1.json").read_bytes()
    lot = json.loads(data)
    jsonschema.validate(lot, load_schema(), cls=jsonschema.Draft202012Validator)
    assert verify_bytes(data, (s["signed_by"],)).ok
    assert lot["accepted_ephemeral"] == lot["counts"]["accepted_ephemeral"] == 2
    protections = {r["serial"]: r["key_protection"] for e in lot["entries"] for r in e["records"]}
    assert protections == {"SER-A": "file", "SER-B": "ephemeral", "SER-C": "ephemeral"}
    text = run(floor, "--accept-ephemeral").stdout
    assert "accepted with --accept-ephemeral: 2 records" in text
    assert "UNENROLLED" not in text


def test_cli_lot_record_and_pdf_name_the_unenrolled(floor: dict, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    assert run(floor, "--out", out_dir).returncode == 3
    lot = json.loads((out_dir / "lot-L1.json").read_bytes())
    jsonschema.validate(lot, load_schema(), cls=jsonschema.Draft202012Validator)
    assert lot["status"] == "INCOMPLETE"
    assert lot["counts"]["unenrolled"] == 2
    assert sorted(u["serial"] for u in lot["unenrolled"]) == ["SER-B", "SER-C"]
    text = subprocess.run(
        ["pdftotext", str(out_dir / "lot-L1.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    assert "Unenrolled, not counted: 2 records of per-boot keys" in flat
    assert floor["netboot"].fingerprint in flat


def test_accept_ephemeral_never_accepts_an_unknown_file_key(floor: dict) -> None:
    stranger = Signer.generate()
    save(floor["stick"] / "reports", "forged", record(stranger, "SER-B"))
    out = run(floor, "--accept-ephemeral", "--json")
    s = json.loads(out.stdout)
    assert [(Path(r["file"]).name, r["reason"]) for r in s["rejected"]] == [
        ("forged.json", f"signed by an unknown key {stranger.fingerprint}")
    ]
    assert (s["status"], s["passed"], s["accepted_ephemeral"]) == ("COMPLETE", 3, 2)
    assert out.returncode == 0  # SER-B passed by its per-boot record, never by the forged one


def test_accept_ephemeral_is_no_trust_anchor(floor: dict) -> None:
    """Per-boot keys' records are counted beside an enrolled station's, never instead of one."""
    out = cli(
        "lot", "reconcile", "--manifest", floor["manifest"], "--accept-ephemeral",
        floor["stick"], home=floor["tmp"],
    )  # fmt: skip
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.strip() == (
        "wipestation: error: no trusted key: give --trust FILE or --fingerprint FP"
        " (--accept-ephemeral adds to enrolled keys, never replaces them)"
    )
