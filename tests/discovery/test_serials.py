"""The serial on a record is the one on the drive's label; a placeholder serial is no identity.

udev escapes serials (ata_id, scsi_id, usb_id: blanks and ``/`` become ``_``), so discovery reads
the raw bytes sysfs exposes and checks them against udev's value. The escape itself is checked
against real udev pairs: ID_MODEL/ID_VENDOR are escaped by the very same two functions as
ID_SERIAL_SHORT, and the captured ``*_ENC`` twins hold the bytes before escaping.

Drive dicts with odd serials start from a real record (the QEMU 7.2 guest's, tests/fixtures/udev)
and put in the serial in the forms the kernel and udev give it: sysfs ``device/vpd_pg80`` is the
VPD page 0x80 (SPC-4 7.8.15: 4-byte header, then the serial; libata pads an ATA serial to 20
bytes), NVMe's ``device/serial`` is the padded text plus a newline, and udev's property is
``udev_escape`` of it (ata_id) or the text as is (``$attr{serial}``, NVMe and virtio).
"""

from __future__ import annotations

import json
import re

import pytest
from wipestation.discovery import identity as ident
from wipestation.discovery.inventory import disambiguate, drive_from_properties
from wipestation.model import IdentitySource, Transport

from tests.discovery.udev_dump import FIXTURES, load

QEMU = json.loads((FIXTURES / "qemu-7.2-guest.json").read_text())


def _undo_enc(value: str) -> bytes:
    return re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), value.encode())


def _real_escape_pairs() -> list[tuple[bytes, str]]:
    pairs = []
    for path in sorted(FIXTURES.glob("*.txt")):
        for rec in load(path.name).values():
            for enc, plain in (("ID_MODEL_ENC", "ID_MODEL"), ("ID_VENDOR_ENC", "ID_VENDOR")):
                if rec.get("ID_BUS") in ("ata", "scsi", "usb") and enc in rec and plain in rec:
                    pairs.append((_undo_enc(rec[enc]), rec[plain]))
    return pairs


def test_the_escape_is_udevs_on_every_real_pair() -> None:
    pairs = _real_escape_pairs()
    assert len(pairs) >= 20
    assert any(b"/" in raw for raw, _ in pairs)  # "SM/xD Picture" -> "SM_xD_Picture"
    assert [ident.udev_escape(raw).decode() for raw, _ in pairs] == [p for _, p in pairs]


def vpd80(serial: bytes, pad_to: int = 20) -> str:
    """The page libata builds from an ATA IDENTIFY serial (blank padded to 20 bytes), as hex."""
    field = serial.ljust(pad_to, b" ")
    return (bytes([0, 0x80, 0, len(field)]) + field).hex()


def sata(serial: bytes, **extra: str) -> dict[str, str]:
    escaped = ident.udev_escape(serial).decode("utf-8", errors="replace")
    return {
        **QEMU["sata"],
        "ID_SERIAL_SHORT": escaped,
        "ID_SERIAL": f"FakeSSD-ATA_{escaped}",
        "sysfs-hex:device/vpd_pg80": vpd80(serial),
        "sysfs:size": "32768",
        **extra,
    }


def nvme(serial: bytes, udev_value: str | None = None) -> dict[str, str]:
    text = serial.rstrip().decode("utf-8", errors="replace")
    return {
        **QEMU["nvme"],
        "ID_SERIAL_SHORT": text if udev_value is None else udev_value,
        "sysfs:device/serial": text,
        "sysfs-hex:device/serial": (serial.ljust(20, b" ") + b"\n").hex(),
    }


@pytest.mark.parametrize(
    ("raw", "label"),
    [
        (b"AB 12/34", "AB 12/34"),
        (b"   LEAD 7", "LEAD 7"),  # leading blanks are IDENTIFY padding, not the label's
        (b"WD-WX  41/A", "WD-WX  41/A"),  # udev folds the two blanks into one "_"
        ("ÄB 12/34".encode(), "ÄB 12/34"),  # UTF-8: udev keeps it, so does the record
        (b"AB\xc4 1", "AB\\xc4 1"),  # not UTF-8: kept as \xNN, never guessed
    ],
)
def test_sata_serial_is_the_raw_one(raw: bytes, label: str) -> None:
    d = drive_from_properties(sata(raw))
    assert (d.serial, d.identity, d.identity_source) == (label, label, IdentitySource.SERIAL)
    assert d.serial_disagreement == ""
    assert d.serial_sources[0] == ("sysfs device/vpd_pg80", label)
    assert d.serial_sources[-1][0] == "udev ID_SERIAL_SHORT"
    assert not {"/", " "} & set(ident.safe_filename(d.identity))  # file names only: escaped


def test_the_issue_example_is_no_longer_certified_with_underscores() -> None:
    p = sata(b"AB 12/34")
    assert p["ID_SERIAL_SHORT"] == "AB_12_34"  # what was certified before
    assert drive_from_properties(p).to_json()["serial"] == "AB 12/34"
    assert ident.escaped_serial("AB 12/34") == "AB_12_34"


def test_nvme_serial_udev_keeps_blanks_but_not_parentheses() -> None:
    # $attr{serial}: udev keeps "/ $%?," and blanks, turns "(" into "_".
    d = drive_from_properties(nvme(b"S4 (B)/1", udev_value="S4 _B_/1"))
    assert (d.serial, d.serial_disagreement) == ("S4 (B)/1", "")
    leading = drive_from_properties(nvme(b"  S4EWNX0R", udev_value="  S4EWNX0R"))
    assert leading.serial == "S4EWNX0R"


def test_sources_that_disagree_are_recorded_and_sysfs_kept() -> None:
    d = drive_from_properties(nvme(b"S4EWNX0R123456", udev_value="S4EWNX0R999999"))
    assert d.serial == "S4EWNX0R123456"
    assert "S4EWNX0R999999" in d.serial_disagreement
    assert "sysfs device/serial" in d.serial_disagreement
    assert d.to_json()["serial_disagreement"] == d.serial_disagreement


def test_usb_bridge_serial_that_is_not_udevs_changes_nothing() -> None:
    # A SAT bridge: udev's ID_SERIAL_SHORT is the drive's (ata_id), sysfs usb/serial the bridge's.
    p = {**QEMU["usb"], "sysfs-hex:usb/serial": b"0123ABCD".hex()}
    d = drive_from_properties(p)
    assert (d.serial, d.serial_disagreement) == ("USB0001", "")
    bridge = drive_from_properties(
        {**p, "ID_SERIAL_SHORT": "BR_1", "sysfs-hex:usb/serial": b"BR 1".hex()}
    )
    assert bridge.serial == "BR 1"


@pytest.mark.parametrize(
    "page",
    [
        "0083000441424344",  # another page
        "00800010414243",  # shorter than its length
        "0080",  # no header
        "zz",  # not hex at all
    ],
)
def test_a_malformed_vpd_page_is_unknown_and_udev_is_used(page: str) -> None:
    d = drive_from_properties({**QEMU["sata"], "sysfs-hex:device/vpd_pg80": page})
    assert d.serial == "SATA0001"
    assert [s for s, _ in d.serial_sources] == ["udev ID_SERIAL_SHORT"]


def test_an_enc_twin_of_the_serial_is_decoded() -> None:
    p = {**QEMU["sata"], "ID_SERIAL_SHORT": "AB_12_34", "ID_SERIAL_SHORT_ENC": r"AB\x2012\x2f34"}
    d = drive_from_properties(p)
    assert d.serial == "AB 12/34"
    assert ("udev ID_SERIAL_SHORT_ENC", "AB 12/34") in d.serial_sources


def test_real_drives_keep_their_serials_and_agree() -> None:
    drives = [drive_from_properties(r) for r in load("sata-ssd-samsung-mz7lm-x4.txt").values()]
    drives += [drive_from_properties(r) for r in QEMU.values()]
    assert all(d.serial and not d.serial_placeholder and not d.serial_disagreement for d in drives)


PLACEHOLDERS = [
    "yes",
    "To Be Filled By O.E.M.",
    "To_Be_Filled_By_O.E.M.",  # as ata_id escapes it
    "Default string",
    "0123456789",
    "None",
    "XXXXXXXXXXXX",
    "00000000000000000000",
    "xxxx xxxx",
]


@pytest.mark.parametrize("serial", PLACEHOLDERS)
def test_placeholder_serial_falls_back_to_the_wwn_and_is_flagged(serial: str) -> None:
    d = drive_from_properties(sata(serial.encode()))
    assert d.serial_placeholder
    assert (d.identity, d.identity_source) == (QEMU["sata"]["ID_WWN"], IdentitySource.WWN)
    assert d.to_json()["serial_placeholder"] is True


def test_placeholder_without_wwn_takes_the_path_fallback() -> None:
    p = sata(b"To Be Filled By O.E.M.")
    del p["ID_WWN"]
    d = drive_from_properties(p)
    assert d.identity_source == IdentitySource.PATH
    assert d.identity == f"FakeSSD-ATA@{p['ID_PATH']}#{32768 * 512}"


def test_two_placeholder_drives_do_not_collide() -> None:
    one = sata(b"XXXXXXXXXXXX", ID_WWN="0x5000c500aabbcc01")
    two = sata(b"XXXXXXXXXXXX", ID_WWN="0x5000c500aabbcc09", DEVNAME="/dev/sdb")
    drives = disambiguate([drive_from_properties(one), drive_from_properties(two)])
    assert len({d.identity for d in drives}) == 2
    assert not any(d.identity_duplicate for d in drives)


def test_an_all_zero_wwn_is_no_identity_either() -> None:
    d = drive_from_properties(sata(b"0000000000", ID_WWN="0x0000000000000000"))
    assert d.identity_source == IdentitySource.PATH


@pytest.mark.parametrize("serial", ["AB 12/34", "S2TVNX0J501747", "X1", "", "   "])
def test_real_looking_serials_are_not_placeholders(serial: str) -> None:
    assert not ident.is_placeholder(serial)


def test_serial_keys_match_raw_and_escaped_but_never_a_placeholder() -> None:
    assert ident.serial_keys("AB 12/34") & ident.serial_keys("ab_12_34")
    assert ident.serial_keys("AB 12/34") & ident.serial_keys(" ab 12/34 ")
    assert not ident.serial_keys("AB 12/34") & ident.serial_keys("AB 12/35")
    assert ident.serial_keys("To Be Filled By O.E.M.") == frozenset()


def test_probe_serial_disagreement_note() -> None:
    assert ident.probe_disagreement("AB 12/34", "hdparm -I", "AB 12/34") == ""
    assert ident.probe_disagreement("AB 12/34", "hdparm -I", "") == ""  # unread: no claim
    note = ident.probe_disagreement("AB 12/34", "hdparm -I", "AB 12/35")
    assert note.startswith("serial: hdparm -I reports 'AB 12/35'")


def test_transport_of_the_test_dicts() -> None:
    assert drive_from_properties(sata(b"AB 12/34")).transport == Transport.SATA
    assert drive_from_properties(nvme(b"AB 12/34")).transport == Transport.NVME


def test_console_lines_keep_a_spaced_identity_one_word() -> None:
    from wipestation.conveyor import format_result

    from tests.reports.factory import drive, job

    line = format_result(job(drive=drive(serial="AB 12/34", identity="AB 12/34")))
    m = re.match(r"^RESULT (\S+) (\S+) (PASS|FAIL) (\S+) (\S+) ?(.*)$", line)  # tests/vm's reader
    assert m is not None
    assert m.group(1, 2, 3) == ("AB_12/34", "/dev/sdb", "PASS")


@pytest.mark.parametrize("exclude", ["AB 12/34", "AB_12_34"])  # label, lsblk/udev
def test_an_exclusion_by_the_label_serial_or_udevs_form_protects(
    exclude: str, monkeypatch, tmp_path
) -> None:
    from wipestation.discovery import safety, udev
    from wipestation.discovery.inventory import Inventory

    monkeypatch.setattr(safety, "busy_reason", lambda path: "")
    monkeypatch.setattr(udev, "iter_disks", lambda: iter([(sata(b"AB 12/34"), [])]))
    excluded = Inventory([exclude], sys_block=str(tmp_path)).drives()
    assert [d.protected_reasons for d in excluded] == [(f"excluded by operator ({exclude})",)]
    other = Inventory(["AB_12_35"], sys_block=str(tmp_path)).drives()
    assert not other[0].protected


def test_virtio_sources_are_named_for_what_they_are() -> None:
    d = drive_from_properties({**QEMU["virtio"], "sysfs-hex:serial": b"VBLK0001".hex()})
    assert d.serial_sources == (("sysfs serial", "VBLK0001"), ("udev ID_SERIAL", "VBLK0001"))
    text_only = drive_from_properties({**QEMU["virtio"], "ID_SERIAL": ""})  # sysfs text alone
    assert text_only.serial_sources == (("sysfs serial", "VBLK0001"),)
    assert (text_only.serial, text_only.serial_disagreement) == ("VBLK0001", "")


def test_the_probes_identify_serial_is_compared_into_the_records_notes() -> None:
    from pathlib import Path

    from wipestation.planning.capabilities import Capabilities
    from wipestation.planning.policy import facts_of
    from wipestation.tools import hdparm

    fixtures = Path(__file__).resolve().parent.parent / "fixtures" / "hdparm"
    text = (fixtures / "sata-ssd-intel-540s-ssdsc2kw512g8-frozen.txt").read_text()  # real
    caps = Capabilities(path="/dev/sda", transport="sata", ata=hdparm.parse_identify(text))

    def serial_notes(serial: bytes) -> list[str]:
        notes = facts_of(drive_from_properties(sata(serial)), caps).notes
        return [n for n in notes if n.startswith("serial:")]

    assert serial_notes(b"  PHLA75210153512DGN") == []  # padding is no disagreement
    assert serial_notes(b"PHLA75210153512DGX") == [
        "serial: hdparm -I reports 'PHLA75210153512DGN', discovery 'PHLA75210153512DGX'"
        " (the record keeps it)"
    ]


def test_an_nvme_serial_matches_the_form_udev_gave_it_too() -> None:
    # NVMe's ID_SERIAL_SHORT is $attr{serial}: "(" became "_", blanks stayed (what records said)
    assert ident.serial_keys("S4 (B)/1") & ident.serial_keys("S4 _B_/1")
    assert ident.serial_keys("S4 (B)/1") & ident.serial_keys("S4__B__1")  # ata_id's form
    assert "S4 _B_/1" in ident.udev_aliases("S4 (B)/1")
