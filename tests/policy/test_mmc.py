"""mmcblk devices: which plan an eMMC or SD card gets, from real EXT_CSD dumps and SD registers
(tests/fixtures/mmc/PROVENANCE.md), through the probe's seam and the steps' runner."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from wipestation.discovery import inventory
from wipestation.errors import ToolFailedError, UnsupportedError
from wipestation.model import Transport
from wipestation.planning import catalogue, policy
from wipestation.planning.probe import probe
from wipestation.steps import firmware as fw
from wipestation.steps import mmc as mmc_steps
from wipestation.steps.overwrite import OverwriteStep
from wipestation.steps.plan import Expect
from wipestation.tools import blkdev, mmc

from tests.policy import drives as d
from tests.policy.test_probe_and_steps import NO_READ, Ctx
from tests.tools.fakes import FakeRunner, done, fixture

SAMSUNG = "mmc/emmc-samsung-mmc51-extcsd.txt"
SEC_LINE = "Secure Feature support [SEC_FEATURE_SUPPORT: 0x55]"
PARTS = ("/dev/mmcblk0boot0", "/dev/mmcblk0boot1")
EMMC = mmc.MmcCard("MMC", boot_partitions=PARTS, rpmb="/dev/mmcblk0rpmb")
SD = mmc.MmcCard(
    "SD",
    csd=mmc.parse_csd(fixture("mmc/sd-sandisk-sa04g-sdhc-csd.txt")),
    scr=mmc.parse_scr(fixture("mmc/sd-sandisk-sa04g-sdhc-scr.txt")),
)
LAST = 0x00E90000 - 1  # the Samsung dump's SEC_COUNT - 1


def ext_csd(sec: str = "55") -> mmc.ExtCsd:
    """The real Samsung dump; ``sec`` edits its one SEC_FEATURE_SUPPORT byte (no public dump of
    an eMMC without these bits was found)."""
    return mmc.parse_extcsd(fixture(SAMSUNG).replace(SEC_LINE, SEC_LINE.replace("55", sec)))


def mmc_drive():
    return d.drive(Transport.MMC, "mmcblk0")


def emmc_plan(method: str = "auto", sec: str = "55", **kw):
    drv = mmc_drive()
    caps = d.caps(drv, mmc_card=EMMC, ext_csd=ext_csd(sec), **kw)
    return policy.plan(drv, caps, method, "sample")


def test_emmc_with_sanitize_gets_trim_then_sanitize():
    plan = emmc_plan()
    assert plan.method == "mmc-sanitize"
    assert (plan.level, plan.expect.kind) == ("clear", Expect.CHANGED)
    trim, sanitize = plan.steps
    assert isinstance(trim, mmc_steps.MmcEraseStep)
    assert (trim.dev, trim.erase, trim.first, trim.last) == (
        "/dev/mmcblk0",
        mmc.EraseKind.TRIM,
        0,
        LAST,
    )
    assert isinstance(sanitize, mmc_steps.MmcSanitizeStep)
    assert plan.fallback is not None
    assert plan.fallback.method == "nist-clear"
    assert any("chose mmc-sanitize" in r for r in plan.reasons)


def test_sanitize_without_trim_support_erases_the_user_area_first():
    trim, _ = emmc_plan(sec="45").steps  # SEC_SANITIZE + SEC_ER_EN, no SEC_GB_CL_EN
    assert isinstance(trim, mmc_steps.MmcEraseStep)
    assert trim.erase == mmc.EraseKind.LEGACY


def test_emmc_without_sanitize_gets_secure_erase_and_says_why():
    plan = emmc_plan(sec="15")
    assert plan.method == "mmc-secure-erase"
    (step,) = plan.steps
    assert isinstance(step, mmc_steps.MmcEraseStep)
    assert (step.erase, step.first, step.last) == (mmc.EraseKind.SECURE_ERASE, 0, LAST)
    assert any("skipped mmc-sanitize" in r and "0x15" in r for r in plan.reasons)


def test_named_secure_trim_runs_both_steps_over_the_user_area():
    plan = emmc_plan("mmc-secure-trim")
    assert [s.erase for s in plan.steps] == [
        mmc.EraseKind.SECURE_TRIM1,
        mmc.EraseKind.SECURE_TRIM2,
    ]


def test_emmc_without_secure_features_gets_discard_and_a_verified_overwrite():
    plan = emmc_plan(sec="10")  # trim only: no sanitize, secure erase or secure trim
    assert plan.method == "mmc-discard-overwrite"
    discard, *passes = plan.steps
    assert isinstance(discard, fw.BlockIoctlStep)
    assert discard.request == blkdev.BLKDISCARD
    assert [type(p) for p in passes] == [OverwriteStep, OverwriteStep]
    assert plan.expect.kind == Expect.ZEROS
    assert any("skipped mmc-secure-trim" in r for r in plan.reasons)


def test_emmc_whose_ext_csd_was_not_read_gets_no_emmc_command():
    drv = mmc_drive()
    plan = policy.plan(drv, d.caps(drv, mmc_card=EMMC), "auto", "sample")
    assert plan.method == "mmc-discard-overwrite"
    assert any("skipped mmc-sanitize: no EXT_CSD" in r for r in plan.reasons)


def test_a_named_emmc_method_the_card_lacks_is_refused_before_anything_is_written():
    with pytest.raises(UnsupportedError, match="does not offer sanitize"):
        emmc_plan("mmc-sanitize", sec="15")


def test_sd_card_gets_discard_and_verified_overwrite_never_an_emmc_command():
    drv = mmc_drive()
    plan = policy.plan(drv, d.caps(drv, mmc_card=SD), "auto", "sample")
    assert plan.method == "mmc-discard-overwrite"
    assert any("interface sd" in r for r in plan.reasons)
    with pytest.raises(UnsupportedError, match="not an eMMC"):
        policy.plan(drv, d.caps(drv, mmc_card=SD), "mmc-secure-erase", "sample")


def test_card_without_discard_falls_to_the_verified_overwrite():
    drv = mmc_drive()
    plan = policy.plan(drv, d.caps(drv, mmc_card=SD, queue=d.QUEUE_NONE), "auto", "sample")
    assert plan.method == "nist-clear"
    assert any("skipped mmc-discard-overwrite" in r for r in plan.reasons)


def test_a_card_of_unknown_type_is_planned_like_an_sd_card():
    drv = mmc_drive()
    plan = policy.plan(drv, d.caps(drv), "auto", "sample")
    assert plan.method == "mmc-discard-overwrite"
    assert not any(isinstance(s, mmc_steps.MmcEraseStep) for s in plan.steps)


def test_mmc_methods_are_refused_on_other_drives():
    drv = d.drive(Transport.SATA)
    with pytest.raises(UnsupportedError, match="not supported on sata"):
        policy.plan(drv, d.caps(drv), "mmc-discard-overwrite", "sample")


def test_the_record_says_boot_partitions_and_rpmb_are_not_erased():
    facts = emmc_plan().facts
    assert facts is not None
    assert facts.medium == "flash"
    boot = [n for n in facts.notes if "boot partitions" in n]
    assert boot == [
        "eMMC boot partitions /dev/mmcblk0boot0, /dev/mmcblk0boot1 (4096 KiB each): NOT erased "
        "(hardware partitions outside the user area; read-only by default, force_ro)"
    ]
    assert any(
        n.startswith("eMMC RPMB /dev/mmcblk0rpmb (512 KiB): NOT erased") for n in facts.notes
    )


# ---- the probe's seam ------------------------------------------------------------------------


def sysfs(tmp_path, kind: str, siblings=()):
    dev = tmp_path / "mmcblk0" / "device"
    dev.mkdir(parents=True)
    (dev / "type").write_text(kind + "\n")
    if kind == "SD":
        (dev / "csd").write_text(fixture("mmc/sd-sandisk-sa04g-sdhc-csd.txt"))
        (dev / "scr").write_text(fixture("mmc/sd-sandisk-sa04g-sdhc-scr.txt"))
    for s in siblings:
        (tmp_path / s).mkdir()
    return str(tmp_path)


def test_probe_of_an_emmc_reads_sysfs_and_the_ext_csd(tmp_path):
    sys_block = sysfs(tmp_path, "MMC", ("mmcblk0boot0", "mmcblk0boot1", "mmcblk0rpmb"))
    argv = mmc.build_extcsd_argv("/dev/mmcblk0")
    runner = FakeRunner({tuple(argv): done(argv, fixture(SAMSUNG))})
    caps = probe(mmc_drive(), runner=runner, sys_block=sys_block, **NO_READ)
    assert caps.mmc_card is not None
    assert caps.mmc_card.boot_partitions == PARTS
    assert caps.ext_csd is not None
    assert caps.ext_csd.sec_count == LAST + 1
    assert json.loads(json.dumps(caps.to_json()))["ext_csd"]["sec_feature_support"]["raw"] == "0x55"


def test_probe_of_an_sd_card_never_runs_mmc(tmp_path):
    runner = FakeRunner()
    caps = probe(mmc_drive(), runner=runner, sys_block=sysfs(tmp_path, "SD"), **NO_READ)
    assert caps.mmc_card is not None
    assert caps.mmc_card.scr is not None
    assert caps.mmc_card.scr.sd_security == 3
    assert caps.ext_csd is None
    assert not runner.ran("mmc")
    assert not runner.ran("smartctl")  # MMC has no SMART: not asked, and the record says so
    assert caps.availability_errors == ()


def test_probe_of_an_emmc_without_mmc_utils_records_it_and_plans_no_emmc_command(tmp_path):
    drv = mmc_drive()
    caps = probe(drv, runner=FakeRunner(), sys_block=sysfs(tmp_path, "MMC"), **NO_READ)
    assert any("mmc extcsd read" in e and "not found" in e for e in caps.availability_errors)
    assert policy.plan(drv, caps, "auto", "sample").method in (
        "mmc-discard-overwrite",
        "nist-clear",
    )


def test_probe_with_a_mangled_ext_csd_is_a_note_and_unknown(tmp_path):
    argv = mmc.build_extcsd_argv("/dev/mmcblk0")
    text = fixture(SAMSUNG).replace(SEC_LINE, SEC_LINE + " <b>")
    runner = FakeRunner({tuple(argv): done(argv, text)})
    caps = probe(mmc_drive(), runner=runner, sys_block=sysfs(tmp_path, "MMC"), **NO_READ)
    assert caps.ext_csd is None
    assert any("cannot read SEC_FEATURE_SUPPORT" in n for n in caps.notes)


# ---- the steps through the runner -----------------------------------------------------------


def test_sanitize_step_runs_mmc_sanitize_and_records_it():
    argv = mmc.build_sanitize_argv("/dev/mmcblk0")
    runner = FakeRunner({tuple(argv): done(argv, "")})  # mmc sanitize prints nothing when done
    ctx = Ctx()
    rec = mmc_steps.MmcSanitizeStep(dev="/dev/mmcblk0", runner=runner).run(ctx)
    assert rec.ok
    assert rec.command == "mmc sanitize /dev/mmcblk0"
    assert ctx.lines == ["mmc sanitize /dev/mmcblk0"]
    assert ctx.progress_seen[-1] == (1, 1, "sanitize")


def test_erase_step_on_a_real_loop_device_fails_with_mmc_utils_words(make_loop):
    step = mmc_steps.MmcEraseStep(dev=make_loop(size=1 << 20), erase=mmc.EraseKind.SECURE_ERASE)
    with pytest.raises(ToolFailedError, match="Secure Erase Failed"):
        step.run(Ctx())


def test_sanitize_step_on_a_real_loop_device_fails(make_loop):
    with pytest.raises(ToolFailedError, match="Could not write"):
        mmc_steps.MmcSanitizeStep(dev=make_loop(size=1 << 20)).run(Ctx())


def test_step_names_say_what_ran():
    assert mmc_steps.MmcEraseStep(erase=mmc.EraseKind.SECURE_TRIM2).name == (
        "eMMC secure trim step 2 (CMD38)"
    )
    assert replace(mmc_steps.MmcSanitizeStep()).kind == "firmware"


# ---- discovery: the user area is the drive, its hardware partitions never are ----------------


@pytest.mark.parametrize(
    ("name", "target"),
    [("mmcblk0", True), ("mmcblk0boot0", False), ("mmcblk0boot1", False), ("mmcblk0rpmb", False)],
)
def test_only_the_user_area_of_an_mmc_device_is_a_wipe_target(name, target):
    props = {"DEVNAME": f"/dev/{name}", "sysfs:size": "32768"}
    assert inventory.is_target_node(props) is target


def test_an_mmcblk_device_is_an_mmc_drive():
    props = {
        "DEVNAME": "/dev/mmcblk0",
        "sysfs:size": "32768",
        "ID_SERIAL": "0xdeadbeef",
        "ID_NAME": "SA04G",  # udev's 60-persistent-storage.rules: the CID product name
    }
    drv = inventory.drive_from_properties(props)
    assert drv.transport == Transport.MMC
    assert drv.model == "SA04G"


def test_the_record_states_the_registers_the_plan_was_chosen_from():
    facts = emmc_plan(sec="15").facts
    assert facts is not None
    assert "eMMC EXT_CSD rev 1.8 (MMC 5.1): SEC_FEATURE_SUPPORT 0x15, SEC_COUNT 15269888" in (
        facts.notes
    )
    drv = mmc_drive()
    sd = policy.plan(drv, d.caps(drv, mmc_card=SD), "auto", "sample").facts
    assert sd is not None
    assert "SD card: CSD structure 1, SCR SD_SPEC 2, DATA_STAT_AFTER_ERASE 0" in sd.notes


def test_discard_overwrite_lists_its_two_passes():
    assert catalogue.get("mmc-discard-overwrite").passes == 2
