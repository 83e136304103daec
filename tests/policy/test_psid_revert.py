"""PSID revert of a locked SED: planned only with the PSID, run through the kernel's sed-opal
ioctl (a seam: no emulator implements TCG), the drive's answer recorded, discovery read back.

The read-back is the real Level 0 Discovery a WD NVMe SED returned after a successful PSID
revert (sedutil issue 507, tests/fixtures/opal/PROVENANCE.md); the refusal codes are the TCG
Core Specification's method status values the kernel passes back (0x01 NOT_AUTHORIZED, 0x12
AUTHORITY_LOCKED_OUT — the answers sedutil users report for a wrong PSID, sedutil issues 147
and 124)."""

from __future__ import annotations

import errno
import os
from dataclasses import replace

import jsonschema
import pytest
from wipestation.errors import ToolError, UnsupportedError
from wipestation.model import Transport
from wipestation.planning import policy
from wipestation.reports.record import StationInfo, build_record, load_schema
from wipestation.steps.secret import make_secret
from wipestation.steps.tcg import PsidRefusedError, PsidRevertStep
from wipestation.tools import opal, sed_opal

from tests.policy import drives as d
from tests.policy.test_probe_and_steps import Ctx
from tests.policy.test_tcg import MX500, WD730, discovery, locked
from tests.reports.factory import job
from tests.tools.fakes import FakeRunner, done, fixture

PSID = "0123456789ABCDEF0123456789ABCDEF"


class WriteCtx(Ctx):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def open_for_write(self, direct: bool = True) -> int:
        return os.open(self.path, os.O_RDWR)


class FakeIoctl:
    """The kernel's answer to IOC_OPAL_PSID_REVERT_TPR: a TCG status, or an errno."""

    def __init__(self, answer: int | OSError) -> None:
        self.answer, self.calls = answer, []

    def __call__(self, fd: int, request: int, buf: bytearray, mutate: bool) -> int:
        self.calls.append((request, bytes(buf)))
        if isinstance(self.answer, OSError):
            raise self.answer
        return self.answer


def run_step(tmp_path, answer, readback: str = WD730):
    target = tmp_path / "disk"
    target.write_bytes(bytes(4096))
    argv = opal.build_nvme_argv("/dev/nvme0")
    runner = FakeRunner({tuple(argv): done(argv, fixture(readback))})
    ioctl = FakeIoctl(answer)
    step = PsidRevertStep(
        dev="/dev/nvme0n1", transport="nvme", secret=make_secret("psid", PSID),
        ioctl=ioctl, runner=runner,
    )  # fmt: skip
    ctx = WriteCtx(str(target))
    return step, ctx, ioctl, runner


def locked_sed():
    drv = d.drive(Transport.NVME, "nvme0n1")
    return drv, d.caps(drv, nvme=d.wdc_sn730(), tcg=locked(discovery(WD730)))


def test_auto_with_the_psid_plans_a_psid_revert_as_purge():
    drv, caps = locked_sed()
    plan = policy.plan(drv, caps, "auto", "sample", secret=make_secret("psid", PSID))
    assert plan.method == "tcg-psid-revert"
    (step,) = plan.steps
    assert isinstance(step, PsidRevertStep)
    assert (step.dev, step.transport) == ("/dev/nvme0n1", "nvme")
    assert (plan.level, plan.expect.kind, plan.fallback) == ("purge", "changed", None)
    assert plan.reasons[0].startswith("auto: locked SED (TCG Opal 2)")
    assert PSID not in repr(plan)


def test_an_ata_password_does_not_open_a_locked_sed():
    drv, caps = locked_sed()
    with pytest.raises(UnsupportedError, match="ata-erase-password needs a sata/usb drive"):
        policy.plan(drv, caps, "auto", "sample", secret=make_secret("user", "x"))


def test_a_revert_of_a_pyrite_drive_is_only_clear_and_enterprise_is_refused():
    drv, caps = locked_sed()
    assert caps.tcg is not None
    pyrite = replace(caps, tcg=replace(caps.tcg, ssc=("Opal 2", "Pyrite 2")))
    psid = make_secret("psid", PSID)
    assert policy.plan(drv, pyrite, "tcg-psid-revert", "sample", secret=psid).level == "purge"
    only_pyrite = replace(caps, tcg=replace(caps.tcg, ssc=("Pyrite 2",)))
    with pytest.raises(UnsupportedError, match="Opal 1/2 drives only .*Pyrite 2"):
        policy.plan(drv, only_pyrite, "tcg-psid-revert", "sample", secret=psid)
    enterprise = replace(caps, tcg=replace(caps.tcg, ssc=("Enterprise",)))
    with pytest.raises(UnsupportedError, match="reports Enterprise"):
        policy.plan(drv, enterprise, "auto", "sample", secret=psid)


def test_the_revert_sends_the_psid_and_reads_the_drive_back_unlocked(tmp_path):
    step, ctx, ioctl, runner = run_step(tmp_path, 0)
    rec = step.run(ctx)
    ((request, key),) = ioctl.calls
    assert request == 0x410870E8  # _IOW('p', 232, struct opal_key)
    assert key[:2] == bytes([0, 32])
    assert key[8:40] == PSID.encode()
    assert rec.ok
    assert "SUCCESS" in rec.output_excerpt
    assert "not enabled, unlocked" in rec.output_excerpt
    assert PSID not in rec.command + rec.output_excerpt + " ".join(ctx.lines)
    assert runner.ran("security-recv")


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (0x01, "the drive answered NOT_AUTHORIZED: wrong PSID"),
        (0x12, "the drive answered AUTHORITY_LOCKED_OUT: too many wrong PSIDs: power-cycle"),
    ],
)
def test_a_refused_psid_is_the_drives_answer_and_nothing_else_runs(tmp_path, status, words):
    step, ctx, ioctl, runner = run_step(tmp_path, status)
    with pytest.raises(PsidRefusedError, match=words) as e:
        step.run(ctx)
    assert e.value.answer == sed_opal.STATUS[status]
    assert "nothing was written" in str(e.value)
    assert not runner.calls  # no read-back of a drive that refused


def test_a_drive_still_locked_after_success_fails_the_step(tmp_path):
    step, ctx, _, _ = run_step(tmp_path, 0, readback=MX500)  # a real drive with locking enabled
    with pytest.raises(ToolError, match="still reports TCG Opal 2: locking supported, enabled"):
        step.run(ctx)


def test_a_kernel_without_sed_opal_for_the_device_is_unsupported(tmp_path):
    step, ctx, _, _ = run_step(tmp_path, OSError(errno.EOPNOTSUPP, "Operation not supported"))
    with pytest.raises(UnsupportedError, match="libata.allow_tpm=1"):
        step.run(ctx)


def test_the_record_states_the_locks_that_shaped_the_plan():
    drv, caps = locked_sed()
    plan = policy.plan(drv, caps, "auto", "sample", secret=make_secret("psid", PSID))
    assert plan.facts is not None
    security = plan.facts.security
    assert security is not None
    assert security["lock"] == (
        "locked SED (TCG Opal 2): needs its PSID (the 32 characters on the drive's label) for a "
        "PSID revert, else destroy"
    )
    record = build_record(replace(job(), security=security), StationInfo(station_id="s1"))
    jsonschema.validate(record, load_schema(), cls=jsonschema.Draft202012Validator)
    assert record["security"]["tcg"]["ssc"] == ["Opal 2"]
    assert record["security"]["tcg"]["locked"] is True
    assert record["security"]["ata"] is None
    assert PSID not in repr(record)
