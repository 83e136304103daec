"""A RAID logical volume or a BMC's virtual media (real udev captures) is never planned by
``auto``, never started unattended, and when the operator wipes one on purpose its plan and its
record say it is no physical drive."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from wipestation.conveyor import Conveyor
from wipestation.discovery.controllers import HOST_DRIVER
from wipestation.discovery.inventory import drive_from_properties
from wipestation.errors import UnsupportedError
from wipestation.model import Drive
from wipestation.planning import policy
from wipestation.planning.capabilities import Capabilities
from wipestation.reports.record import build_record
from wipestation.unattended import Autopilot

from tests.discovery.test_controllers import pci
from tests.discovery.udev_dump import load
from tests.policy.drives import QUEUE_SSD
from tests.reports.factory import STATION, job, validate
from tests.tui import fakes


def perc_volume() -> Drive:
    p = dict(load("perc-h755n-vd-and-jbod-nvme.txt")["sda"])
    p[HOST_DRIVER] = "megaraid_sas"  # perccli's "Driver Name" (fixture PROVENANCE)
    return replace(drive_from_properties(p), size_bytes=16 << 20)


def bmc_sd() -> Drive:
    recs = load("nvme-samsung-kioxia-server-plus-bmc-virtual-usb.txt")
    return replace(drive_from_properties(recs["sda"]), size_bytes=16 << 20)


def caps_of(d: Drive) -> Capabilities:
    return Capabilities(path=d.path, transport=str(d.transport), queue=QUEUE_SSD)


@pytest.mark.parametrize("make", [perc_volume, bmc_sd])
def test_auto_plans_nothing_for_a_volume_or_bmc_media(make) -> None:
    d = make()
    with pytest.raises(UnsupportedError) as e:
        policy.plan(d, caps_of(d), "auto", "sample")
    assert f"auto plans nothing for {d.path}" in str(e.value)


def test_the_refusal_says_which_controller_and_what_to_do() -> None:
    d = perc_volume()
    with pytest.raises(UnsupportedError) as e:
        policy.plan(d, caps_of(d), "auto", "sample")
    assert "logical volume of MegaRAID controller at 0000:c1:00.0" in str(e.value)
    assert "switch the controller to HBA/JBOD mode, or move the disks to a plain port" in str(
        e.value
    )


def test_a_named_overwrite_wipes_a_volume_on_purpose_at_no_nist_level() -> None:
    d = perc_volume()
    p = policy.plan(d, caps_of(d), "nist-clear", "sample")
    assert p.level == "none"
    assert p.standard.startswith("no NIST level: logical volume of MegaRAID")
    assert p.facts is not None
    assert p.facts.medium == "volume"
    assert any("not a physical drive" in r for r in p.reasons)


def test_a_method_whose_level_depends_on_the_medium_is_refused_on_a_volume() -> None:
    d = perc_volume()
    as_a_drive = replace(d, volume=False)
    assert policy.plan(as_a_drive, caps_of(d), "blkdiscard", "sample").level == "clear"
    with pytest.raises(UnsupportedError, match="blkdiscard has no defined result on volume media"):
        policy.plan(d, caps_of(d), "blkdiscard", "sample")


def test_the_record_of_a_volume_wiped_on_purpose_says_it_is_a_volume() -> None:
    d = perc_volume()
    result = job(drive=d, medium="volume", level="none", method="nist-clear")
    record = validate(build_record(result, STATION))
    assert record["drive"]["media_type"] == "volume"
    assert record["drive"]["controller"] == "MegaRAID controller at 0000:c1:00.0"
    assert record["drive"]["presented_by"] == (
        "logical volume of MegaRAID controller at 0000:c1:00.0"
    )
    assert record["result"]["erasure_status"] == "erased-with-exceptions"
    assert (
        "logical volume of MegaRAID controller at 0000:c1:00.0, not a physical drive: "
        "no disk is certified" in record["result"]["exceptions"]
    )


def test_the_record_of_bmc_media_says_so_and_a_drive_record_has_neither() -> None:
    record = validate(build_record(job(drive=bmc_sd(), medium="bmc-media"), STATION))
    assert (record["drive"]["media_type"], record["drive"]["presented_by"]) == (
        "bmc-media",
        "BMC virtual media",
    )
    plain = validate(build_record(job(), STATION))
    assert (plain["drive"]["controller"], plain["drive"]["presented_by"]) == ("", "")


def test_the_autopilot_never_starts_a_volume_or_bmc_media() -> None:
    volume, bmc = perc_volume(), bmc_sd()
    drive = fakes.make_drive("sdb")
    engine = fakes.FakeEngine()
    lines: list[str] = []
    pilot = Autopilot(fakes.services(engine, [volume, bmc, drive]), lines.append)
    for d in (volume, bmc, drive):
        pilot.offer(d)
    assert [name for name, _, _ in engine.started] == ["sdb"]
    assert lines[0].startswith(f"SKIP {volume.identity} /dev/sda logical volume of MegaRAID")
    assert lines[1].startswith(f"SKIP {bmc.identity} /dev/sda BMC virtual media")
    assert lines[2].startswith("START SN-SDB /dev/sdb")


def test_the_conveyor_names_a_controller_that_hides_disks_once_udev_is_done(tmp_path) -> None:
    pci(tmp_path, "0000:03:00.0", "0x010400", "megaraid_sas")
    reading = [True]
    out = io.StringIO()
    conveyor = Conveyor(fakes.services(fakes.FakeEngine(), [], udev_busy=lambda: reading[0]), out)
    conveyor.sys_root = str(tmp_path)
    conveyor.report_controllers()
    assert out.getvalue() == ""  # udev is still reading: the driver may not be bound yet
    reading[0] = False
    conveyor.report_controllers()
    conveyor.report_controllers()  # said once
    assert out.getvalue() == (
        "CONTROLLER MegaRAID controller at 0000:03:00.0: no disks visible: switch the "
        "controller to HBA/JBOD mode, or move the disks to a plain port\n"
    )
