"""Steps that open a locked drive with the secret the operator gave: ATA SECURITY ERASE UNIT with
the user or master password, and (``steps/tcg.py``) a TCG PSID revert.

Why apart from ``firmware.py``: these steps carry a secret, which must never reach a record or
a log line (``secret.mask``), and a wrong secret is an answer to record, not a failure to fall
back from: nothing else can run on a locked drive. Every attempt first reads whether the drive
still takes one (ATA "expired: security count": no attempt until a power cycle), and afterwards
reads the security state back: a passed erase leaves security *disabled*, or the step says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wipestation.errors import ToolError, ToolFailedError, UnsupportedError
from wipestation.model import StepRecord, now_iso
from wipestation.steps.firmware import _Tooling, step_record
from wipestation.steps.plan import StepContext, StepKind
from wipestation.steps.secret import MASK, Secret, SecretKind, mask
from wipestation.tools import hdparm
from wipestation.tools.runner import Completed

#: ATA drives count wrong passwords; after five (per power cycle) they refuse every attempt.
ATA_ATTEMPTS = 5
EXPIRED = (
    "expired: security count: the drive refuses passwords until it is power-cycled "
    "(unplug its power, or power the station off and on); no attempt was made"
)


def who(secret: Secret) -> str:
    return "m" if secret.kind == SecretKind.MASTER else "u"


@dataclass(frozen=True)
class AtaPasswordEraseStep(_Tooling):
    """SECURITY UNLOCK, then SECURITY ERASE UNIT with the operator's password, then security
    read back as disabled. A refused password is the drive's answer plus its attempt counter."""

    dev: str = ""
    secret: Secret = field(default=Secret(SecretKind.USER, ""), repr=False, compare=False)
    enhanced: bool = True
    erase_timeout_s: float = 4 * 3600.0
    kind: StepKind = StepKind.FIRMWARE

    @property
    def name(self) -> str:
        how = "enhanced" if self.enhanced else "normal"
        return f"ATA security erase ({how}) with the operator's {self.secret.kind} password"

    def run(self, ctx: StepContext) -> StepRecord:
        started = now_iso()
        action = "erase-enhanced" if self.enhanced else "erase"
        shown = hdparm.build_security_argv(self.dev, action, who(self.secret), MASK)
        self._may_attempt()
        unlock = hdparm.build_security_argv(self.dev, "unlock", who(self.secret), MASK)
        ctx.log(" ".join(unlock))  # proves the password before the erase is prepared
        self._attempt("unlock", unlock, hdparm.TIMEOUT)
        ctx.log(" ".join(shown))
        ctx.progress(0, 1, "security erase")
        done = self._attempt(action, shown, self.erase_timeout_s)
        ctx.progress(1, 1, "security erase")
        left = self._leave_disabled(ctx)
        output = mask((done.stdout + done.stderr).strip()[-400:], self.secret) + left
        return step_record(self.name, self.kind, shown, started, done, output)

    def _security(self) -> hdparm.AtaSecurity | None:
        ident = hdparm.identify(self.dev, runner=self.runner)
        return ident.security if ident else None

    def _may_attempt(self) -> None:
        sec = self._security()
        if sec is None:
            raise UnsupportedError("hdparm -I shows no Security feature set: nothing to unlock")
        if sec.count_expired is not False:
            raise UnsupportedError(EXPIRED if sec.count_expired else _unknown("expired"))

    def _attempt(self, action: str, shown: list[str], timeout: float) -> Completed:
        try:
            return hdparm.run_security(
                self.dev, action, who(self.secret), self.secret.value, timeout, runner=self.runner
            )
        except ToolFailedError as e:
            answer = mask(e.stderr_tail, self.secret) or f"exit status {e.returncode}"
            raise ToolFailedError(shown, e.returncode, answer, self._after_refusal()) from None
        except ToolError as e:
            raise ToolError(mask(str(e), self.secret)) from None

    def _after_refusal(self) -> str:
        """The attempt counter as the drive reports it after a refused password."""
        sec = self._security()
        if sec is None or sec.count_expired is None:
            return "wrong password? the drive's attempt counter could not be read"
        if sec.count_expired:
            return "wrong password; expired: security count: power-cycle before the next try"
        return (
            "wrong password; the attempt counter has not expired (an ATA drive takes "
            f"{ATA_ATTEMPTS} tries per power cycle)"
        )

    def _leave_disabled(self, ctx: StepContext) -> str:
        """SECURITY ERASE UNIT disables the user password; if the drive says otherwise, disable
        it with the same password, and say so when even that fails."""
        sec = self._security()
        if sec is not None and sec.enabled is False and sec.locked is False:
            return " | security disabled (read back)"
        ctx.log("security still enabled after the erase: SECURITY DISABLE with the same password")
        shown = hdparm.build_security_argv(self.dev, "disable", who(self.secret), MASK)
        self._attempt("disable", shown, hdparm.TIMEOUT)
        sec = self._security()
        if sec is None or sec.enabled is not False:
            raise ToolFailedError(
                shown, 0, "security is still enabled after the erase and a SECURITY DISABLE"
            )
        return " | security disabled by SECURITY DISABLE (read back)"


def _unknown(what: str) -> str:
    return f"hdparm -I: the security '{what}' state cannot be read: no attempt was made"
