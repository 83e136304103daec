"""Plan steps that ask the drive's firmware (or the block layer) to erase itself.

Each step runs one command through a tool wrapper, then reads the drive's own status back
(sanitize log, ``--sanitize-status``, security state, sense progress) instead of trusting the exit
code, and raises ``ToolError``/``UnsupportedError`` when the drive did not do it, so the engine
runs the plan's fallback. Even a step that returns ``ok`` proves nothing by itself: the engine
verifies the medium afterwards. ATA security erase always removes the password it set when
anything goes wrong, so a failed job never leaves a locked drive behind.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from wipestation.errors import ToolError, ToolFailedError, UnsupportedError
from wipestation.model import StepRecord, now_iso
from wipestation.steps.plan import StepContext, StepKind
from wipestation.tools import blkdev, hdparm, nvme, sg
from wipestation.tools.runner import Completed, Runner, run

#: Password used for ATA security erase; cleared again on every path.
ATA_PASSWORD = "Wipestation"
POLL_S = 2.0
#: Logged (into the job's notes and journal) when a sanitize starts: it survives power loss.
RESUMES_NOTE = (
    "sanitize started: the drive resumes it after a power cycle or reset and refuses normal "
    "I/O until it completes; re-run the job to verify it if power was lost"
)
#: Longest wait for a background sanitize when the drive gives no estimate.
DEFAULT_MAX_WAIT_S = 48 * 3600.0


def excerpt(done: Completed | None) -> str:
    if done is None:
        return ""
    return (done.stdout + done.stderr).strip()[-500:]


@dataclass(frozen=True)
class _Tooling:
    """What every firmware step can have injected: the runner and the clock."""

    runner: Runner = field(default=run, compare=False, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)
    poll_s: float = POLL_S
    max_wait_s: float = DEFAULT_MAX_WAIT_S

    def _polls(self) -> int:
        return max(1, int(self.max_wait_s / max(self.poll_s, 0.001)))


def step_record(
    name: str,
    kind: str,
    argv: list[str],
    started: str,
    done: Completed | None,
    output: str | None = None,
) -> StepRecord:
    """A firmware step's record: its command line, exit status and output (or ``output``)."""
    return StepRecord(
        name=name,
        kind=kind,
        command=" ".join(argv),
        started_at=started,
        ended_at=now_iso(),
        ok=True,
        exit_status=done.returncode if done else None,
        output_excerpt=excerpt(done) if output is None else output,
    )


# ---- NVMe ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NvmeSanitizeStep(_Tooling):
    """``nvme sanitize --sanact=N`` on the controller, then the sanitize log until it completes."""

    ctrl: str = ""
    action: nvme.SanitizeAction = nvme.SanitizeAction.CRYPTO_ERASE
    kind: StepKind = StepKind.FIRMWARE

    @property
    def name(self) -> str:
        return f"nvme sanitize ({self.action.name.lower().replace('_', ' ')})"

    def run(self, ctx: StepContext) -> StepRecord:
        started = now_iso()
        argv = nvme.build_sanitize_argv(self.ctrl, self.action)
        ctx.log(" ".join(argv))
        done = nvme.sanitize(self.ctrl, self.action, runner=self.runner)
        ctx.log(RESUMES_NOTE)
        final = self._wait(ctx)
        nvme.ns_rescan(self.ctrl, runner=self.runner)
        note = f"sanitize log: status {final.status.name}, {final.passes} pass(es)"
        return step_record(self.name, self.kind, argv, started, done, output=note)

    def _wait(self, ctx: StepContext) -> nvme.SanitizeLog:
        for _ in range(self._polls()):
            log = nvme.sanitize_log(self.ctrl, runner=self.runner)
            ctx.progress(int(log.fraction * 1000), 1000, "sanitize")
            if log.status in (
                nvme.SanitizeStatus.COMPLETED,
                nvme.SanitizeStatus.COMPLETED_NO_DEALLOC,
            ):
                return log
            if log.status == nvme.SanitizeStatus.FAILED:
                raise ToolFailedError(["nvme", "sanitize"], 0, "sanitize log reports FAILED")
            if log.status == nvme.SanitizeStatus.NEVER:
                raise ToolFailedError(
                    ["nvme", "sanitize"], 0, "accepted, but the sanitize log shows none ran"
                )
            if ctx.cancel.is_set():
                ctx.log("cancel requested: a sanitize cannot be stopped; it resumes after reset")
            self.sleep(self.poll_s)
        raise ToolError(f"nvme sanitize still running after {self.max_wait_s:g} s")


@dataclass(frozen=True)
class NvmeFormatStep(_Tooling):
    """``nvme format --ses=N`` on each namespace, then a namespace rescan before verifying."""

    ctrl: str = ""
    namespaces: tuple[str, ...] = ()
    ses: int = 1
    kind: StepKind = StepKind.FIRMWARE

    @property
    def name(self) -> str:
        what = {0: "no secure erase", 1: "user data erase", 2: "cryptographic erase"}[self.ses]
        return f"nvme format (SES={self.ses}, {what})"

    def run(self, ctx: StepContext) -> StepRecord:
        started = now_iso()
        outputs, argv = [], []
        for i, ns in enumerate(self.namespaces):
            argv = nvme.build_format_argv(ns, self.ses)
            ctx.log(" ".join(argv))
            ctx.progress(i, len(self.namespaces), "format")
            outputs.append(excerpt(nvme.format_namespace(ns, self.ses, runner=self.runner)))
        nvme.ns_rescan(self.ctrl, runner=self.runner)
        ctx.progress(len(self.namespaces), len(self.namespaces), "format")
        cmd = [*argv[:3], f"({len(self.namespaces)} namespace(s))", *argv[3:]]
        return step_record(self.name, self.kind, cmd, started, None, output=" | ".join(outputs))


# ---- ATA ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AtaSanitizeStep(_Tooling):
    """``hdparm --sanitize-…``, then ``--sanitize-status`` until the drive reports the result."""

    dev: str = ""
    mode: str = "crypto"  # crypto | block | overwrite
    kind: StepKind = StepKind.FIRMWARE

    @property
    def name(self) -> str:
        return f"ATA sanitize ({self.mode})"

    def run(self, ctx: StepContext) -> StepRecord:
        started = now_iso()
        argv = hdparm.build_sanitize_argv(self.dev, self.mode)
        ctx.log(" ".join(argv))
        done = hdparm.sanitize(self.dev, self.mode, runner=self.runner)
        ctx.log(RESUMES_NOTE)
        state = self._wait(ctx)
        return step_record(self.name, self.kind, argv, started, done, output=f"state {state.state}")

    def _wait(self, ctx: StepContext) -> hdparm.AtaSanitizeStatus:
        for _ in range(self._polls()):
            st = hdparm.sanitize_status(self.dev, runner=self.runner)
            if st is None:
                raise ToolFailedError(["hdparm", "--sanitize-status"], 0, "no status reported")
            if st.failed:
                raise ToolFailedError(["hdparm", "--sanitize-status"], 0, f"{st.state}: failed")
            if st.completed_ok:
                ctx.progress(1000, 1000, "sanitize")
                return st
            if not st.in_progress:
                raise ToolFailedError(
                    ["hdparm", "--sanitize-status"], 0, f"{st.state}: no sanitize ran or completed"
                )
            ctx.progress(int((st.progress or 0) * 1000), 1000, "sanitize")
            self.sleep(self.poll_s)
        raise ToolError(f"ATA sanitize still running after {self.max_wait_s:g} s")


@dataclass(frozen=True)
class AtaSecurityEraseStep(_Tooling):
    """SECURITY SET PASSWORD + SECURITY ERASE UNIT, checking the security state after each."""

    dev: str = ""
    enhanced: bool = True
    erase_timeout_s: float = 4 * 3600.0
    password: str = ATA_PASSWORD
    kind: StepKind = StepKind.FIRMWARE

    @property
    def name(self) -> str:
        return f"ATA security erase ({'enhanced' if self.enhanced else 'normal'})"

    def run(self, ctx: StepContext) -> StepRecord:
        started = now_iso()
        argv = hdparm.build_erase_argv(self.dev, "****", self.enhanced)
        try:
            ctx.log(" ".join(hdparm.build_set_pass_argv(self.dev, "****")))
            hdparm.set_password(self.dev, self.password, runner=self.runner)
            self._expect_enabled(True, "the password was not set")
            ctx.log(" ".join(argv))
            ctx.progress(0, 1, "security erase")
            done = hdparm.security_erase(
                self.dev, self.password, self.enhanced, self.erase_timeout_s, runner=self.runner
            )
            self._expect_enabled(False, "security is still enabled after the erase")
        except Exception:
            for note in hdparm.clear_password(self.dev, self.password, runner=self.runner):
                ctx.log(f"password cleanup: {note}")
            raise
        ctx.progress(1, 1, "security erase")
        return step_record(self.name, self.kind, argv, started, done)

    def _expect_enabled(self, want: bool, why: str) -> None:
        ident = hdparm.identify(self.dev, runner=self.runner)
        sec = ident.security if ident else None
        if sec is None or sec.enabled != want:
            raise ToolFailedError(["hdparm", "-I"], 0, f"{why} (drive state read back)")


# ---- SCSI ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ScsiPolled(_Tooling):
    dev: str = ""

    def _wait(self, ctx: StepContext, phase: str) -> None:
        """Poll REQUEST SENSE progress until the device stops reporting one."""
        for _ in range(self._polls()):
            frac = sg.progress(self.dev, runner=self.runner)
            if frac is None:
                ctx.progress(1000, 1000, phase)
                return
            ctx.progress(int(frac * 1000), 1000, phase)
            self.sleep(self.poll_s)
        raise ToolError(f"SCSI {phase} still running after {self.max_wait_s:g} s")


@dataclass(frozen=True)
class ScsiSanitizeStep(_ScsiPolled):
    mode: str = "crypto"  # crypto | block | overwrite
    kind: StepKind = StepKind.FIRMWARE

    @property
    def name(self) -> str:
        return f"SCSI sanitize ({self.mode})"

    def run(self, ctx: StepContext) -> StepRecord:
        started = now_iso()
        argv = sg.build_sanitize_argv(self.dev, self.mode)
        ctx.log(" ".join(argv))
        done = sg.sanitize(self.dev, self.mode, runner=self.runner)
        ctx.log(RESUMES_NOTE)
        self._wait(ctx, "sanitize")
        return step_record(self.name, self.kind, argv, started, done)


@dataclass(frozen=True)
class ScsiFormatStep(_ScsiPolled):
    """FORMAT UNIT; with ``size`` it also reformats 520/528-byte sectors to 512."""

    size: int | None = None
    kind: StepKind = StepKind.FIRMWARE

    @property
    def name(self) -> str:
        return f"SCSI format unit{f' to {self.size}-byte sectors' if self.size else ''}"

    def run(self, ctx: StepContext) -> StepRecord:
        started = now_iso()
        argv = sg.build_format_argv(self.dev, self.size)
        ctx.log(" ".join(argv))
        done = sg.format_unit(self.dev, self.size, runner=self.runner)
        self._wait(ctx, "format")
        return step_record(self.name, self.kind, argv, started, done)


# ---- block layer --------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockIoctlStep:
    """BLKDISCARD / BLKZEROOUT / BLKSECDISCARD over the whole device, in chunks."""

    request: int = blkdev.BLKZEROOUT
    kind: StepKind = StepKind.IOCTL

    @property
    def name(self) -> str:
        return blkdev.IOCTL_NAMES[self.request]

    def run(self, ctx: StepContext) -> StepRecord:
        started = now_iso()
        fd = ctx.open_for_write(direct=False)
        try:
            size = blkdev.device_size(fd)
            covered = blkdev.issue(
                fd,
                self.request,
                size,
                lambda d, t: ctx.progress(d, t, self.name),
                ctx.cancel.is_set,
            )
            os.fsync(fd)
        finally:
            os.close(fd)
        return StepRecord(
            name=self.name,
            kind=self.kind,
            command=f"ioctl({self.name}, 0, {size})",
            started_at=started,
            ended_at=now_iso(),
            ok=covered == size,
            bytes_written=covered if self.request == blkdev.BLKZEROOUT else 0,
            error="" if covered == size else f"stopped at byte {covered}",
        )


# ---- preparation --------------------------------------------------------------------------


@dataclass(frozen=True)
class HpaResetStep(_Tooling):
    """Remove a Host Protected Area so the whole native capacity is erased."""

    dev: str = ""
    native: int = 0
    kind: StepKind = StepKind.PREPARE

    @property
    def name(self) -> str:
        return f"reset HPA (max sectors → {self.native})"

    def run(self, ctx: StepContext) -> StepRecord:
        started = now_iso()
        argv = hdparm.build_hpa_reset_argv(self.dev, self.native)
        done = hdparm.reset_hpa(self.dev, self.native, runner=self.runner)
        after = hdparm.hpa(self.dev, runner=self.runner)
        if after is None or after.current != self.native:
            raise ToolFailedError(argv, 0, f"HPA still set after reset ({after})")
        return step_record(self.name, self.kind, argv, started, done)


@dataclass(frozen=True)
class DcoRestoreStep(_Tooling):
    dev: str = ""
    kind: StepKind = StepKind.PREPARE
    name: str = "restore DCO factory configuration"

    def run(self, ctx: StepContext) -> StepRecord:
        started = now_iso()
        argv = hdparm.build_dco_restore_argv(self.dev)
        done = hdparm.restore_dco(self.dev, runner=self.runner)
        return step_record(self.name, self.kind, argv, started, done)


@dataclass(frozen=True)
class UnfreezeStep(_Tooling):
    """One suspend-to-RAM cycle (S3) to lift the BIOS's security freeze lock; never repeated."""

    dev: str = ""
    seconds: int = 10
    kind: StepKind = StepKind.PREPARE
    name: str = "unfreeze ATA security (one rtcwake -m mem cycle)"

    def run(self, ctx: StepContext) -> StepRecord:
        started = now_iso()
        argv = ["rtcwake", "-m", "mem", "-s", str(self.seconds)]
        ctx.log(" ".join(argv))
        done = self.runner(argv, timeout=self.seconds + 120.0)
        ident = hdparm.identify(self.dev, runner=self.runner)
        if ident is None or ident.security is None or ident.security.frozen is not False:
            raise UnsupportedError(  # unreadable counts as frozen: unknown is never permissive
                f"{self.dev} is still security-frozen (or unreadable) after one suspend cycle: "
                "hot-replug the drive (unplug and replug its data/power cable with the station "
                "running)"
            )
        return step_record(self.name, self.kind, argv, started, done)
