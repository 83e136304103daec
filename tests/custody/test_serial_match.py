"""Manifests match the serial on the drive's label, and udev's escaped form of it (issue 19).

A manifest typed from the label says ``AB 12/34``; records certified before raw serials (and
manifests made from them) say ``AB_12_34``. Both are the same drive. A placeholder serial names
no drive and never matches.
"""

from __future__ import annotations

from wipestation.custody.desk import LotDesk
from wipestation.custody.lot import Lot, reconcile
from wipestation.model import IdentitySource

from tests.custody.test_lot import manifest, rec
from tests.reports.factory import drive

RAW = "AB 12/34"


def test_a_label_serial_matches_a_raw_record_and_an_escaped_one() -> None:
    m = manifest(f"serial,asset_tag\n{RAW},T1\nCD_56_78,T2\n")
    records = [rec(1, serial=RAW), rec(2, serial="CD 56/78")]
    r = reconcile(Lot("L1", manifest=m), records)
    assert [e.outcome for e in r.entries] == ["PASS", "PASS"]
    assert not r.unexpected
    old = reconcile(Lot("L1", manifest=m), [rec(3, serial="AB_12_34")])  # a pre-fix record
    assert old.entries[0].outcome == "PASS"


def test_a_different_serial_still_does_not_match() -> None:
    m = manifest(f"serial,asset_tag\n{RAW},T1\n")
    r = reconcile(Lot("L1", manifest=m), [rec(1, serial="AB 12/35", asset_tag="T1")])
    assert r.entries[0].outcome == "MISSING"
    assert "AB 12/35" in r.unexpected[0].reason


def test_a_placeholder_serial_matches_no_entry() -> None:
    m = manifest("serial,asset_tag\nTo Be Filled By O.E.M.,\n")
    r = reconcile(Lot("L1", manifest=m), [rec(1, serial="To Be Filled By O.E.M.")])
    assert r.entries[0].outcome == "MISSING"


def test_a_placeholder_record_still_matches_its_asset_tag() -> None:
    m = manifest("serial,asset_tag\nS-REAL-1,T9\n")
    r = reconcile(Lot("L1", manifest=m), [rec(1, serial="XXXXXXXX", asset_tag="T9")])
    assert r.entries[0].outcome == "PASS"  # the placeholder cannot contradict the label


def _desk(text: str) -> LotDesk:
    return LotDesk(manifest=manifest(text))


def test_desk_scans_find_the_drive_by_its_label_serial_or_the_escaped_one() -> None:
    desk = _desk(f"serial,asset_tag\n{RAW},T1\n")
    d = drive(serial=RAW, identity=RAW)
    assert "label checked" in desk.scan(RAW, [d], None).text
    assert "label checked" in desk.scan("ab_12_34", [d], None).text  # a pre-fix label's barcode
    entry = desk.entry_of(d)
    assert entry is not None
    assert entry.asset_tag == "T1"


def test_desk_never_picks_a_drive_by_a_placeholder_scan() -> None:
    desk = _desk("serial,asset_tag\nS-REAL-1,T9\n")
    d = drive(
        serial="To Be Filled By O.E.M.",
        identity="0x5002538f42a1b2c3",
        identity_source=IdentitySource.WWN,
        serial_placeholder=True,
    )
    out = desk.scan("To Be Filled By O.E.M.", [d], None)
    assert "label checked" not in out.text
    linked = desk.scan("S-REAL-1", [d], d)  # the manifest line's serial links the drive
    assert not linked.error
    assert "label S/N" not in linked.text
