"""A disk that is a member of a firmware or software RAID set (Intel RST/isw, DDF, Linux md) stays
a wipeable drive, and the operator is told what erasing it does: in ``list``, ``probe``, on the
screen (tests/tui/test_raid_member.py) and in the record.

From a real ``udevadm info --export-db`` record of an Intel ICH10R RAID0 member
(``isw-raid-member-wd3000hlfs.txt``, tests/fixtures/udev/PROVENANCE.md). No real capture of a
DDF or Linux md member's udev record was taken: those cases change that record's
``ID_FS_TYPE`` (the only change) to the name blkid gives them.
"""

from __future__ import annotations

import pytest
from wipestation.cli.list_cmd import format_table
from wipestation.cli.probe_cmd import format_text
from wipestation.discovery import controllers
from wipestation.discovery.inventory import drive_from_properties
from wipestation.planning.capabilities import Capabilities
from wipestation.reports.record import build_record

from tests.discovery.udev_dump import load
from tests.reports.factory import STATION, job, validate

ISW = "isw-raid-member-wd3000hlfs.txt"
ISW_NOTICE = "member of a RAID set (Intel RST / isw): erasing it destroys the set"


def member(fs_type: str | None = None) -> dict[str, str]:
    p = dict(load(ISW)["sda"])
    if fs_type is not None:
        p["ID_FS_TYPE"] = fs_type
    return p


def test_an_intel_rst_member_is_a_wipeable_drive_that_says_so() -> None:
    d = drive_from_properties(member())
    assert (d.raid_member, d.serial, d.model) == (
        "isw_raid_member",
        "WD-WXL1C10C8246",
        "WDC WD3000HLFS-01G6U1",
    )
    assert (d.volume, d.bmc_media, d.controller) == (False, False, "")
    assert controllers.not_a_drive(d) == ""  # a drive: auto plans for it as for any other
    assert controllers.raid_member_notice(d) == ISW_NOTICE
    assert d.to_json()["raid_member"] == "isw_raid_member"


@pytest.mark.parametrize(
    ("fs_type", "kind"),
    [("ddf_raid_member", "SNIA DDF"), ("linux_raid_member", "Linux md")],
)
def test_ddf_and_md_members_are_named_too(fs_type: str, kind: str) -> None:
    d = drive_from_properties(member(fs_type))
    assert controllers.raid_member_notice(d) == (
        f"member of a RAID set ({kind}): erasing it destroys the set"
    )


@pytest.mark.parametrize("fs_type", ["ext4", "", "crypto_LUKS"])
def test_any_other_signature_is_no_raid_member(fs_type: str) -> None:
    d = drive_from_properties(member(fs_type))
    assert (d.raid_member, controllers.raid_member_notice(d)) == ("", "")


def test_wipestation_list_says_it_is_wipeable_and_a_raid_member() -> None:
    plain = drive_from_properties(member("ext4"))
    rows = format_table([drive_from_properties(member()), plain]).splitlines()
    assert rows[1].endswith(f"wipeable; RAID SET: {ISW_NOTICE}")
    assert rows[2].endswith("  wipeable")


def test_wipestation_probe_prints_the_raid_set_line() -> None:
    d = drive_from_properties(member())
    out = {
        "drive": d.to_json(),
        "medium": "hdd",
        "capabilities": Capabilities(path=d.path, transport="sata").to_json(),
        "plan": None,
        "refused": "no plan in this test",
        "raid_set": controllers.raid_member_notice(d),
        "controllers": [],
    }
    assert f"  RAID SET: {ISW_NOTICE}" in format_text(out).splitlines()


def test_the_record_says_the_drive_was_a_raid_member() -> None:
    d = drive_from_properties(member())
    rec = validate(build_record(job(drive=d), STATION))
    assert rec["drive"]["raid_set"] == ISW_NOTICE
    plain = validate(build_record(job(drive=drive_from_properties(member("ext4"))), STATION))
    assert plain["drive"]["raid_set"] == ""
