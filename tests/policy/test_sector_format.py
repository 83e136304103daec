"""Drives from arrays (520/528-byte sectors): which plan, which refusal, which words, and the
reformat step itself, on real captured sg3_utils output (tests/fixtures/sg3-utils/)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from wipestation.discovery import inventory, udev
from wipestation.engine import records
from wipestation.errors import ToolError, UnsupportedError
from wipestation.model import JobResult, JobState, SectorFormat, StepRecord, Transport
from wipestation.planning import catalogue, policy
from wipestation.reports.record import StationInfo, build_record, load_schema
from wipestation.steps import firmware as fw
from wipestation.steps.overwrite import OverwriteStep
from wipestation.steps.plan import Expect, StepKind
from wipestation.steps.sector_format import CANCEL_NOTE, SectorReformatStep
from wipestation.steps.sector_format import NAME as REFORMAT
from wipestation.tools import sg

from tests.engine.conftest import CUSTOM_PLANS, drive_of, read_all
from tests.policy import drives as d
from tests.policy.test_probe_and_steps import Ctx
from tests.tools.fakes import FakeRunner, done, fixture

EMC = fixture("sg3-utils/sas-ssd-samsung-pm1633-emc-520-sg_readcap.txt")
EMC_AFTER = fixture("sg3-utils/sas-ssd-samsung-pm1633-emc-after-format-sg_readcap.txt")
EMC_FORMAT = fixture("sg3-utils/sas-ssd-samsung-pm1633-emc-520-sg_format-size-512.txt")


def emc_drive():
    """The EMC PM1633 as Linux lists it: a SAS disk of 0 bytes (sd: unsupported sector size)."""
    return replace(d.drive(Transport.SAS, "sdf"), size_bytes=0)


def emc_caps(drv, **kw):
    cap = sg.parse_readcap(EMC)
    return d.caps(drv, readcap=cap, **kw)


def kinds(plan) -> list[type]:
    return [type(s) for s in plan.steps]


# ---- policy -----------------------------------------------------------------------------------


def test_auto_reformats_to_512_before_the_sanitize_and_says_why():
    drv = emc_drive()
    plan = policy.plan(drv, emc_caps(drv, scsi_opcodes=d.sas_opcodes("crypto")), "auto", "sample")
    assert kinds(plan) == [SectorReformatStep, fw.ScsiSanitizeStep]
    assert plan.steps[0].kind == StepKind.PREPARE  # the engine re-reads the size after it
    why = [r for r in plan.reasons if r.startswith("sector format:")]
    assert len(why) == 1
    assert "520-byte logical blocks" in why[0]
    assert "Linux shows 0 bytes" in why[0]
    assert "sg_format --format --size=512" in why[0]


def test_the_fallback_overwrite_is_reformatted_first_too():
    drv = emc_drive()
    plan = policy.plan(drv, emc_caps(drv, scsi_opcodes=d.sas_opcodes("crypto")), "auto", "sample")
    assert plan.fallback is not None
    assert kinds(plan.fallback) == [SectorReformatStep, OverwriteStep, OverwriteStep]


def test_auto_without_firmware_purge_is_reformat_then_verified_overwrite():
    drv = emc_drive()
    plan = policy.plan(drv, emc_caps(drv), "auto", "sample")
    assert plan.method == "nist-clear"
    assert kinds(plan) == [SectorReformatStep, OverwriteStep, OverwriteStep]
    assert (plan.level, plan.expect.kind) == ("clear", Expect.ZEROS)


def test_a_named_overwrite_is_reformatted_first():
    drv = emc_drive()
    plan = policy.plan(drv, emc_caps(drv), "overwrite-zero", "full")
    assert kinds(plan) == [SectorReformatStep, OverwriteStep]


def test_scsi_format_512_is_the_reformat_alone_read_back_as_zeros():
    drv = replace(emc_drive(), rotational=True)
    plan = policy.plan(drv, emc_caps(drv), "scsi-format-512", "sample")
    assert kinds(plan) == [SectorReformatStep]
    assert (plan.level, plan.expect.kind) == ("clear", Expect.ZEROS)
    assert plan.fallback is None


def test_scsi_format_on_a_520_drive_is_the_reformat():
    drv = emc_drive()
    c = emc_caps(drv, scsi_opcodes=d.sas_opcodes())
    assert kinds(policy.plan(drv, c, "scsi-format", "sample")) == [SectorReformatStep]


def test_scsi_format_512_is_refused_on_a_drive_with_512_byte_sectors():
    drv = d.drive(Transport.SAS)
    with pytest.raises(UnsupportedError, match="already has 512-byte sectors"):
        policy.plan(drv, d.caps(drv, readcap=d.wd_readcap()), "scsi-format-512", "sample")


def test_scsi_format_512_is_refused_without_a_readcap():
    drv = d.drive(Transport.SAS)
    with pytest.raises(UnsupportedError, match="READ CAPACITY"):
        policy.plan(drv, d.caps(drv), "scsi-format-512", "sample")


@pytest.mark.parametrize("method", ["auto", "overwrite-zero", "blkzeroout"])
def test_a_drive_of_0_bytes_with_an_unknown_sector_format_gets_no_plan(method):
    """Erasing and verifying 0 bytes would be a PASS that proves nothing."""
    drv = emc_drive()
    with pytest.raises(UnsupportedError, match="size of 0 bytes: nothing can be written"):
        policy.plan(drv, d.caps(drv), method, "sample")


def test_the_method_is_listed_with_its_level():
    m = catalogue.get("scsi-format-512")
    assert m.level_text == "clear"
    assert set(m.transports) == {Transport.SAS, Transport.SCSI}


# ---- the step ---------------------------------------------------------------------------------


def sysfs_for(tmp_path: Path, name: str = "sdf") -> Path:
    dev = tmp_path / "class" / "block" / name / "device"
    dev.mkdir(parents=True)
    (dev / "rescan").write_text("")
    return dev / "rescan"


def step_runner(readcaps: list, progress: list[str]) -> FakeRunner:
    rc = ["sg_readcap", "-l", "/dev/sdf"]
    fmt = sg.build_format_argv("/dev/sdf", 512)
    req = sg.build_requests_argv("/dev/sdf")
    return FakeRunner(
        {
            tuple(rc): [done(rc, r) if isinstance(r, str) else r for r in readcaps],
            tuple(fmt): done(fmt, EMC_FORMAT),
            tuple(req): [done(req, p) for p in progress],
        }
    )


def reformat_step(runner: FakeRunner, tmp_path: Path) -> SectorReformatStep:
    return SectorReformatStep(
        dev="/dev/sdf", runner=runner, sleep=lambda s: None, sysfs=str(tmp_path)
    )


def test_step_formats_polls_progress_reads_512_back_and_rescans(tmp_path):
    rescan = sysfs_for(tmp_path)
    runner = step_runner([EMC, EMC_AFTER], ["Progress indication: 45.25% done\n", ""])
    ctx = Ctx()
    rec = reformat_step(runner, tmp_path).run(ctx)
    assert runner.ran("sg_format", "--size=512")
    assert (452, 1000, "reformat") in ctx.progress_seen
    assert ctx.progress_seen[-1] == (1000, 1000, "reformat")
    assert rec.ok
    assert rec.kind == "prepare"
    assert rec.command == "sg_format --format --quick --early --size=512 /dev/sdf"
    assert "520-byte logical blocks" in rec.output_excerpt
    assert "→ 512-byte logical blocks, 3751804928 blocks" in rec.output_excerpt
    assert rescan.read_text() == "1"


def test_step_fails_when_the_drive_still_reports_520_afterwards(tmp_path):
    sysfs_for(tmp_path)
    runner = step_runner([EMC], [""])
    with pytest.raises(ToolError, match="still has 520-byte logical blocks.* refused 512"):
        reformat_step(runner, tmp_path).run(Ctx())


def test_step_leaves_a_drive_already_at_512_alone(tmp_path):
    runner = step_runner([EMC_AFTER], [""])
    rec = reformat_step(runner, tmp_path).run(Ctx())
    assert not runner.ran("sg_format")
    assert rec.command == ""
    assert "no reformat needed" in rec.output_excerpt


def test_step_formats_a_drive_whose_capacity_cannot_be_read(tmp_path):
    """READ CAPACITY failing (here: the real exit-72 answer of a loop device) is no reason to
    skip: a drive left mid-format answers that way until it is formatted."""
    sysfs_for(tmp_path)
    rc = ["sg_readcap", "-l", "/dev/sdf"]
    failed = done(rc, fixture("sg3-utils/loop-sg_readcap-l-error.txt"), rc=72)
    runner = step_runner([failed, failed, EMC_AFTER], [""])
    rec = reformat_step(runner, tmp_path).run(Ctx())
    assert runner.ran("sg_format")
    assert rec.output_excerpt.startswith("sector format unreadable before the format")


def test_step_without_a_rescan_switch_fails_with_the_path(tmp_path):
    runner = step_runner([EMC, EMC_AFTER], [""])
    with pytest.raises(ToolError, match="could not rescan /dev/sdf"):
        reformat_step(runner, tmp_path).run(Ctx())


# ---- the record ------------------------------------------------------------------------------


def test_facts_carry_the_probed_sector_format():
    drv = emc_drive()
    facts = policy.plan(drv, emc_caps(drv), "auto", "sample").facts
    assert facts is not None
    assert facts.sector_format == SectorFormat(520, 3674210304, "no protection information")
    assert facts.sector_format.nonstandard


def reformat_record(ok: bool) -> StepRecord:
    return StepRecord(
        name=REFORMAT, kind="prepare", command="sg_format ...", started_at="", ended_at="", ok=ok
    )


@pytest.mark.parametrize(("ok", "reformatted_to"), [(True, 512), (False, None)])
def test_the_record_says_whether_the_drive_was_reformatted(ok, reformatted_to):
    probed = SectorFormat(520, 3674210304, "no protection information")
    fmt = records.sector_format_of(probed, [reformat_record(ok)])
    assert fmt == {
        "logical_block_size": 520,
        "blocks": 3674210304,
        "protection": "no protection information",
        "nonstandard": True,
        "reformatted_to": reformatted_to,
    }
    assert records.sector_format_of(None, [reformat_record(ok)]) is None


def test_a_record_with_a_sector_format_is_valid():
    drv = replace(emc_drive(), size_bytes=1920924123136)  # as re-read after the reformat
    fmt = records.sector_format_of(
        SectorFormat(520, 3674210304, "no protection information"), [reformat_record(True)]
    )
    result = JobResult(
        job_id="j", drive=drv, method="auto", level="clear", standard="s",
        state=JobState.PASSED, reason="r", started_at="2026-12-06T17:00:00+00:00",
        ended_at="2026-12-06T18:00:00+00:00", steps=(reformat_record(True),), sector_format=fmt,
    )  # fmt: skip
    record = build_record(result, StationInfo(station_id="t"))
    jsonschema.validate(record, load_schema(), cls=jsonschema.Draft202012Validator)
    assert record["sector_format"]["reformatted_to"] == 512


# ---- discovery: Linux lists such a drive with 0 bytes --------------------------------------------

SAS_AT_0 = {
    "DEVNAME": "/dev/sdf",
    "sysfs:size": "0",  # what lsblk showed for the EMC PM1633 ("sdf ... 0B", PROVENANCE.md)
    "sysfs:device/type": "0",
    "sysfs:removable": "0",
}


@pytest.mark.parametrize(
    ("props", "listed"),
    [
        (SAS_AT_0, True),
        ({**SAS_AT_0, "sysfs:removable": "1"}, False),  # an empty card reader
        ({**SAS_AT_0, "DEVNAME": "/dev/nvme0n1", "sysfs:device/type": ""}, False),
        ({**SAS_AT_0, "sysfs:device/type": "5"}, False),  # an optical drive
    ],
)
def test_a_fixed_scsi_disk_of_0_bytes_is_listed(props, listed):
    assert inventory.is_target_node(props) is listed


@pytest.mark.parametrize(("removable", "listed"), [("0", True), ("1", False)])
def test_udev_keeps_a_fixed_scsi_disk_of_0_bytes(tmp_path, removable, listed):
    (tmp_path / "device").mkdir()
    (tmp_path / "size").write_text("0\n")
    (tmp_path / "removable").write_text(f"{removable}\n")
    (tmp_path / "device" / "type").write_text("0\n")
    assert udev.has_media(str(tmp_path)) is listed


def test_the_listed_drive_gets_the_reformat_plan():
    drv = inventory.drive_from_properties(SAS_AT_0)
    assert drv.size_bytes == 0
    plan = policy.plan(drv, emc_caps(drv), "auto", "sample")
    assert kinds(plan)[0] is SectorReformatStep


def test_a_cancel_during_the_format_is_logged_once_and_the_format_finishes(tmp_path):
    sysfs_for(tmp_path)
    progress = ["Progress indication: 10.00% done\n", "Progress indication: 20.00% done\n", ""]
    runner = step_runner([EMC, EMC_AFTER], progress)
    ctx = Ctx()
    ctx.cancel.set()
    rec = reformat_step(runner, tmp_path).run(ctx)
    assert ctx.lines.count(CANCEL_NOTE) == 1
    assert rec.ok


# ---- the engine: reformat, re-read the drive, erase and verify what it is now -------------------


def test_engine_reformats_then_erases_and_verifies_the_drive_as_it_is_afterwards(
    make_loop, engine, tmp_path
):
    """A loop device stands in for the drive after its reformat; before it, the drive is as
    Linux lists a 520-byte one (0 bytes). The reformat's tools replay the EMC drive's captures."""
    dev = make_loop(8 << 20, b"array customer data ")
    drv = replace(drive_of(dev), transport=Transport.SAS, size_bytes=0)
    plan = policy.plan(drv, emc_caps(drv), "overwrite-zero", "full")
    name = os.path.basename(dev)
    sysfs_for(tmp_path, name)
    rc, fmt = ["sg_readcap", "-l", dev], sg.build_format_argv(dev, 512)
    runner = FakeRunner(
        {
            tuple(rc): [done(rc, EMC), done(rc, EMC_AFTER)],
            tuple(fmt): done(fmt, EMC_FORMAT),
            tuple(sg.build_requests_argv(dev)): done(sg.build_requests_argv(dev), ""),
        }
    )
    step = replace(plan.steps[0], runner=runner, sleep=lambda s: None, sysfs=str(tmp_path))
    CUSTOM_PLANS["reformat-then-zero"] = lambda verify: replace(plan, steps=(step, *plan.steps[1:]))
    try:
        job = engine.start(drv, "reformat-then-zero", "full")
        assert engine.wait(timeout=120)
    finally:
        CUSTOM_PLANS.pop("reformat-then-zero")
    result = engine.results()[job]
    assert result.state == JobState.PASSED, result.reason
    assert [(s.name, s.ok) for s in result.steps] == [
        (REFORMAT, True),
        ("overwrite pass 1/1 (zeros)", True),
    ]
    assert result.drive.size_bytes == 8 << 20  # re-read after the reformat
    assert any("0 → 8388608 bytes" in n for n in result.notes), result.notes
    assert result.verification.bytes_checked == 8 << 20
    assert result.sector_format is not None
    assert result.sector_format["logical_block_size"] == 520
    assert result.sector_format["reformatted_to"] == 512
    assert read_all(dev) == bytes(8 << 20)


def test_no_reformat_through_a_usb_bridge_off_the_allow_list():
    drv = replace(emc_drive(), transport=Transport.USB, usb_id="152d:0578")
    with pytest.raises(UnsupportedError, match="FORMAT UNIT to 512-byte sectors first.*USB bridge"):
        policy.plan(drv, emc_caps(drv, usb_id="152d:0578"), "overwrite-zero", "sample")


def test_a_trusted_bridge_gets_the_reformat():
    drv = replace(emc_drive(), transport=Transport.USB)
    c = emc_caps(drv, usb_passthrough="allow-listed for the test")
    assert kinds(policy.plan(drv, c, "overwrite-zero", "sample"))[0] is SectorReformatStep


def test_a_zero_byte_fixed_sas_disk_is_offered_to_its_plan_an_empty_reader_is_not() -> None:
    """Linux shows a 520-byte SAS drive as 0 bytes: the screen and the Autopilot still offer it
    (its plan reformats it first, or refuses); an empty removable reader stays unwipeable."""
    from dataclasses import replace

    from wipestation.model import Transport
    from wipestation.tui.station import Row

    from tests.policy import drives as dd

    sas = replace(dd.drive(Transport.SAS), size_bytes=0, removable=False)
    reader = replace(dd.drive(Transport.USB), size_bytes=0, removable=True)
    assert sas.wipeable
    assert sas.zero_size_scsi
    assert not reader.wipeable
    assert Row(sas).why_not_wipeable == ""
    assert "no capacity" in Row(reader).why_not_wipeable
    assert not replace(sas, removable=True).wipeable
