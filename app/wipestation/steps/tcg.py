"""The PSID revert of a self-encrypting drive: the TPer reverted by the PSID authority (the
32 characters on the drive's label), through the kernel's sed-opal ioctl.

Why it counts as an erase: Revert makes the drive generate new media encryption keys, so what
was written under the old keys is noise — a cryptographic erase (Purge on an encrypting SSC,
Clear on Pyrite, which does not encrypt). It is then verified like every firmware method (the
sampled blocks must differ from the pre-erase fingerprint). A refused PSID is the drive's answer
(NOT_AUTHORIZED, AUTHORITY_LOCKED_OUT), recorded as is: nothing was written, and nothing else can
run on a drive that stays locked. After a revert the drive's own discovery must read locking
disabled and unlocked, or the step fails.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field

from wipestation.errors import ToolError, UnsupportedError
from wipestation.model import StepRecord, now_iso
from wipestation.steps.firmware import _Tooling
from wipestation.steps.plan import StepContext, StepKind
from wipestation.steps.secret import Secret, SecretKind
from wipestation.tools import nvme, opal, sed_opal

COMMAND = "ioctl(IOC_OPAL_PSID_REVERT_TPR, PSID ****)"
HINTS = {
    "NOT_AUTHORIZED": "wrong PSID? check the label (0/O, 1/I, 8/B); nothing was written",
    "AUTHORITY_LOCKED_OUT": "too many wrong PSIDs: power-cycle the drive before the next try; "
    "nothing was written",
}


class PsidRefusedError(ToolError):
    """The drive refused the PSID revert; ``status`` is its TCG method status."""

    def __init__(self, status: int) -> None:
        self.status, self.answer = status, sed_opal.status_name(status)
        hint = HINTS.get(self.answer, "nothing was written")
        super().__init__(f"PSID revert refused: the drive answered {self.answer}: {hint}")


@dataclass(frozen=True)
class PsidRevertStep(_Tooling):
    """IOC_OPAL_PSID_REVERT_TPR on the drive, then its Level 0 Discovery read back."""

    dev: str = ""
    transport: str = ""  # nvme | sata | sas | scsi: how the discovery is read back
    secret: Secret = field(default=Secret(SecretKind.PSID, ""), repr=False, compare=False)
    ioctl: sed_opal.Ioctl = field(default=fcntl.ioctl, repr=False, compare=False)
    kind: StepKind = StepKind.FIRMWARE
    name: str = "TCG PSID revert (Admin SP, PSID authority: cryptographic erase)"

    def run(self, ctx: StepContext) -> StepRecord:
        started = now_iso()
        ctx.log(COMMAND)
        ctx.progress(0, 1, "PSID revert")
        status = self._revert(ctx)
        if status:
            raise PsidRefusedError(status)
        after = self._read_back()
        ctx.progress(1, 1, "PSID revert")
        return StepRecord(
            name=self.name,
            kind=self.kind,
            command=f"{COMMAND} on {self.dev}",
            started_at=started,
            ended_at=now_iso(),
            ok=True,
            exit_status=status,
            output_excerpt=f"the drive answered SUCCESS; discovery after: {after.describe()}",
        )

    def _revert(self, ctx: StepContext) -> int:
        fd = ctx.open_for_write(direct=False)
        try:
            return sed_opal.psid_revert(fd, self.secret.value, ioctl=self.ioctl)
        except OSError as e:
            raise UnsupportedError(
                f"the kernel could not send a PSID revert to {self.dev} ({e.strerror or e}): "
                "its sed-opal reverts Opal 1/2 drives, SATA ones only with libata.allow_tpm=1"
            ) from None
        finally:
            os.close(fd)

    def _read_back(self) -> opal.Discovery:
        try:
            after = self._discover()
        except ToolError as e:
            raise ToolError(
                f"the drive answered SUCCESS but its discovery cannot be read: {e}"
            ) from None
        lk = after.locking
        if lk is None or lk.enabled or lk.locked:
            raise ToolError(f"after the PSID revert the drive still reports {after.describe()}")
        return after

    def _discover(self) -> opal.Discovery:
        if self.transport == "nvme":
            return opal.discover_nvme(nvme.controller_of(self.dev), runner=self.runner)
        if self.transport == "sata":
            return opal.discover_ata(self.dev, runner=self.runner)
        return opal.discover_scsi(self.dev, runner=self.runner)
