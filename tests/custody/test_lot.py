"""The matching rules of a lot reconciliation, on typed records (no files, no keys)."""

from __future__ import annotations

from dataclasses import replace

from wipestation.custody.lot import COMPLETE, INCOMPLETE, Lot, chain_links, reconcile
from wipestation.custody.manifest import Manifest, parse_manifest
from wipestation.custody.records import FoundRecord
from wipestation.reports.chain import check_links

BASE = FoundRecord(
    file="r.json", kind="wipe", outcome="PASS", serial="", asset_tag="", model="Samsung SSD 870",
    size_bytes=500_107_862_016, identity="x", when="2026-11-27T03:00:00+01:00", station="bench-2",
    operator="Ana", customer="ACME", location="Floor 1", lot_id="L1", record_sha256="0" * 64,
    key_fingerprint="aaaa:" * 7 + "aaaa", report_id="r",
)  # fmt: skip


def rec(n: int, **kw: object) -> FoundRecord:
    return replace(BASE, file=f"r{n}.json", record_sha256=f"{n:064x}", report_id=f"r{n}", **kw)  # type: ignore[arg-type]


def manifest(text: str) -> Manifest:
    return parse_manifest(text.encode(), "m.csv")


def test_serial_case_insensitive_and_asset_tag_match():
    m = manifest("serial,asset_tag\nS1,\n,T2\n")
    r = reconcile(Lot("L1", manifest=m), [rec(1, serial="s1"), rec(2, asset_tag="T2")])
    assert [e.outcome for e in r.entries] == ["PASS", "PASS"]
    assert r.status == COMPLETE
    assert not r.unexpected


def test_model_and_size_tell_one_serial_apart():
    m = manifest("serial,model,size\n0001,Kingston A400,120GB\n0001,Samsung,500GB\n")
    r = reconcile(Lot("L1", manifest=m), [rec(1, serial="0001")])
    assert [e.outcome for e in r.entries] == ["MISSING", "PASS"]


def test_ambiguous_serial_is_never_guessed():
    m = manifest("serial,model\n0001,Kingston A400\n0001,Kingston A400 v2\n")
    r = reconcile(Lot("L1", manifest=m), [rec(1, serial="0001", model="Kingston A400 v2 SSD")])
    # "Kingston A400" is in both models: two candidates, so the record counts for neither
    assert [e.outcome for e in r.entries] == ["MISSING", "MISSING"]
    assert "lines 2, 3" in r.unexpected[0].reason


def test_asset_tag_on_a_drive_with_another_serial_is_unexpected_with_the_reason():
    m = manifest("serial,asset_tag\nS1,T1\n")
    r = reconcile(Lot("L1", manifest=m), [rec(1, serial="S9", asset_tag="T1")])
    assert r.entries[0].outcome == "MISSING"
    assert "serial S1" in r.unexpected[0].reason
    assert "S9" in r.unexpected[0].reason


def test_serial_and_tag_pointing_at_two_entries_match_neither():
    m = manifest("serial,asset_tag\nS1,\n,T2\n")
    r = reconcile(Lot("L1", manifest=m), [rec(1, serial="S1", asset_tag="T2")])
    assert [e.outcome for e in r.entries] == ["MISSING", "MISSING"]
    assert "line 2" in r.unexpected[0].reason
    assert "line 3" in r.unexpected[0].reason


def test_serial_match_with_another_tag_counts_and_is_noted():
    m = manifest("serial,asset_tag\nS1,T1\n")
    r = reconcile(Lot("L1", manifest=m), [rec(1, serial="S1", asset_tag="T7")])
    assert r.entries[0].outcome == "PASS"
    assert "T7" in r.entries[0].notes[0]


def test_wiped_twice_lists_every_record_and_the_last_outcome_counts():
    m = manifest("serial\nS1\nS2\n")
    early, late = "2026-11-27T03:00:00+01:00", "2026-11-27T02:30:00Z"  # late is later (UTC)
    records = [
        rec(1, serial="S1", outcome="PASS", when=late),
        rec(2, serial="S1", outcome="FAIL", when=early),
        rec(3, serial="S2", outcome="PASS", when=early),
        rec(4, serial="S2", outcome="FAIL", when=late),
    ]
    r = reconcile(Lot("L1", manifest=m), records)
    s1, s2 = r.entries
    assert [x.file for x in s1.records] == ["r2.json", "r1.json"]
    assert s1.outcome == "PASS"
    assert len(s2.records) == 2
    assert s2.outcome == "FAIL"
    assert r.status == INCOMPLETE
    assert [e.entry.serial for e in r.not_done] == ["S2"]
    assert r.count("FAIL") == 1
    assert not r.missing


def test_a_destruction_record_makes_a_failed_drive_done():
    m = manifest("serial\nS1\n")
    records = [
        rec(1, serial="S1", outcome="DESTROYED", kind="destroy", when="2026-11-27T01:00:00Z"),
        rec(2, serial="S1", outcome="FAIL", when="2026-11-27T05:00:00Z"),
    ]
    r = reconcile(Lot("L1", manifest=m), records)
    assert r.entries[0].outcome == "DESTROYED"
    assert r.status == COMPLETE
    assert r.count("DESTROYED") == 1


def test_complete_only_when_every_entry_is_done():
    m = manifest("serial\nS1\nS2\nS3\n")
    r = reconcile(Lot("L1", manifest=m), [rec(1, serial="S1"), rec(2, serial="S2")])
    assert r.status == INCOMPLETE
    assert [e.entry.serial for e in r.missing] == ["S3"]


def test_other_lots_are_passed_over_untagged_matches_count():
    m = manifest("serial\nS1\nS2\n")
    records = [
        rec(1, serial="S1", lot_id="L2"),  # another lot's drive with the same serial
        rec(2, serial="S2", lot_id=""),  # wiped before the lot was set: still this drive
        rec(3, serial="S9", lot_id=""),  # unrelated, untagged
        rec(4, serial="S8", lot_id="L1"),  # this lot, not on the manifest
    ]
    r = reconcile(Lot("L1", manifest=m), records)
    assert [e.outcome for e in r.entries] == ["MISSING", "PASS"]
    assert [u.record.serial for u in r.unexpected] == ["S8"]
    assert r.passed_over == 2


def test_one_record_copied_to_two_sticks_counts_once():
    m = manifest("serial\nS1\n")
    a = rec(1, serial="S1")
    r = reconcile(Lot("L1", manifest=m), [a, replace(a, file="copy/r1.json")])
    assert len(r.entries[0].records) == 1


def test_lot_metadata_is_filled_from_its_records():
    m = manifest("serial\nS1\n")
    r = reconcile(Lot("L1", manifest=m), [rec(1, serial="S1")], closed_at="2026-11-28T00:00:00Z")
    assert r.lot.customer == "ACME"
    assert r.lot.operators == ("Ana",)
    assert r.lot.stations == ("bench-2",)
    assert r.lot.opened_at == BASE.when
    assert r.lot.closed_at == "2026-11-28T00:00:00Z"


def test_chain_gap_fork_and_replaced_are_named():
    chain = [
        rec(1, serial="A", sequence=1),
        rec(2, serial="B", sequence=2, previous_sha256=f"{1:064x}"),
        rec(4, serial="D", sequence=4, previous_sha256=f"{3:064x}"),  # 3 deleted
        rec(5, serial="E", sequence=5, previous_sha256=f"{4:064x}"),
        rec(6, serial="F", sequence=5, previous_sha256=f"{4:064x}"),  # a second 5
        rec(7, serial="G", sequence=6, previous_sha256="f" * 64),  # 6 does not follow 5? (fork)
        rec(8, serial="H", sequence=7, previous_sha256="e" * 64),  # 7 does not follow 6
    ]
    issues = check_links(chain_links(chain))
    kinds = [(i.kind, i.sequences) for i in issues]
    assert kinds == [("gap", (3,)), ("fork", (5,)), ("replaced", (6, 7))]
    assert "station bench-2" in issues[0].message
    assert "record(s) 3 missing" in issues[0].message
    assert issues[1].names == ("r5.json", "r6.json")
    assert issues[2].names == ("r7.json", "r8.json")


def test_no_chain_fields_no_chain_issues():
    assert check_links(chain_links([rec(1, serial="A"), rec(2, serial="B")])) == []
    m = manifest("serial\nA\n")
    assert reconcile(Lot("L1", manifest=m), [rec(1, serial="A")]).chain_gaps == ()


def test_chain_problems_in_the_lot_record_and_its_pdf(tmp_path):
    """The lot record carries the one chain-problem shape (schema-valid); its PDF names them."""
    import subprocess

    import jsonschema
    from wipestation.custody.lot_record import build_lot_record, load_schema, write_lot
    from wipestation.reports.sign import Signer

    m = manifest("serial\nA\nD\n")
    chain = [rec(1, serial="A", sequence=1), rec(4, serial="D", sequence=4)]
    r = reconcile(Lot("L1", manifest=m), chain, closed_at="2026-11-28T00:00:00Z")
    lot = build_lot_record(r, (BASE.key_fingerprint,))
    jsonschema.validate(lot, load_schema(), cls=jsonschema.Draft202012Validator)
    (gap,) = lot["chain_gaps"]
    assert gap["kind"] == "gap"
    assert gap["key_fingerprint"] == BASE.key_fingerprint
    assert gap["station"] == "bench-2"
    assert gap["sequences"] == [2, 3]
    assert gap["names"] == ["r1.json", "r4.json"]
    assert "record(s) 2-3 missing" in gap["message"]
    assert lot["counts"]["chain_gaps"] == 1
    pdf = write_lot(tmp_path, Signer.generate().sign(lot))[1]
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout
    assert b"Record-chain issues: 1" in text
    assert b"record(s) 2-3" in text
    assert b"between r1.json and r4.json" in text
