"""Steps that open a locked drive with the secret the operator gave: ATA SECURITY ERASE UNIT with
the user or master password, and (``steps/tcg.py``) a TCG PSID revert.

Why apart from ``firmware.py``: these steps carry a secret, which must never reach a record or
a log line (``secret.mask``), and a wrong secret is an answer to record, not a failure to fall
back from: nothing else can run on a locked drive. Every attempt first reads whether the drive
still takes one (ATA "expired: security count": no attempt until a power cycle), a refused one is
counted (``steps/attempts.py``: the drive reports no count, only EXPIRE) and said with the drive's
answer, and afterwards the security state is read back: a passed erase leaves security
*disabled*, or the step says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wipestation.errors import ToolError, ToolFailedError, ToolTimeoutError, UnsupportedError
from wipestation.model import StepRecord, now_iso
from wipestation.steps import attempts
from wipestation.steps.attempts import AttemptLog
from wipestation.steps.firmware import _Tooling, step_record
from wipestation.steps.plan import StepContext, StepKind
from wipestation.steps.secret import MASK, Secret, SecretKind, mask
from wipestation.tools import hdparm
from wipestation.tools.runner import Completed

EXPIRED = (
    "expired: the drive refuses further attempts until it is power-cycled (hdparm -I: "
    '"expired: security count"; unplug its power, or power the station off and on); no '
    "attempt was made"
)
#: The command whose refusal is a counted wrong password. The drive counts SECURITY ERASE UNIT
#: mismatches too, but the erase is sent only after the same password unlocked the drive: its
#: failure (or a timeout) is not a wrong password.
COUNTED = ("unlock",)


def who(secret: Secret) -> str:
    return "m" if secret.kind == SecretKind.MASTER else "u"


@dataclass(frozen=True)
class AtaPasswordEraseStep(_Tooling):
    """SECURITY UNLOCK, then SECURITY ERASE UNIT with the operator's password, then security
    read back as disabled. A refused password is the drive's answer, this station's count of
    its attempts on the drive and what that leaves of the drive's five per power cycle."""

    dev: str = ""
    secret: Secret = field(default=Secret(SecretKind.USER, ""), repr=False, compare=False)
    enhanced: bool = True
    erase_timeout_s: float = 4 * 3600.0
    kind: StepKind = StepKind.FIRMWARE
    #: the drive's identity: the attempts are counted per drive, not per device path
    identity: str = ""
    #: where attempts are counted (None: the station's log, ``attempts.station_log``)
    attempt_log: AttemptLog | None = field(default=None, repr=False, compare=False)

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

    @property
    def _log(self) -> AttemptLog:
        return self.attempt_log or attempts.station_log()

    @property
    def _key(self) -> str:
        return self.identity or self.dev

    def _security(self) -> hdparm.AtaSecurity | None:
        ident = hdparm.identify(self.dev, runner=self.runner)
        return ident.security if ident else None

    def _may_attempt(self) -> None:
        sec = self._security()
        if sec is None:
            raise UnsupportedError("hdparm -I shows no Security feature set: nothing to unlock")
        tally = self._log.observe(self._key, sec.count_expired)
        made = f" ({attempts.made(tally)})" if tally.made else ""
        if sec.count_expired is not False:
            raise UnsupportedError((EXPIRED if sec.count_expired else _unknown("expired")) + made)

    def _attempt(self, action: str, shown: list[str], timeout: float) -> Completed:
        try:
            return hdparm.run_security(
                self.dev, action, who(self.secret), self.secret.value, timeout, runner=self.runner
            )
        except ToolFailedError as e:
            if action not in COUNTED:
                answer = mask(e.stderr_tail, self.secret) or f"exit status {e.returncode}"
                raise ToolFailedError(shown, e.returncode, answer) from None
            raise ToolFailedError(shown, e.returncode, self._refused(e)) from None
        except ToolTimeoutError as e:
            note = self._unanswered() if action in COUNTED else ""
            raise ToolTimeoutError(mask(str(e), self.secret) + note) from None
        except ToolError as e:
            raise ToolError(mask(str(e), self.secret)) from None

    def _refused(self, e: ToolFailedError) -> str:
        """'wrong password (drive answered: ...); attempt N by this station since boot; ...':
        counted, then the drive's EXPIRE read back (a fifth wrong one sets it)."""
        answer = drive_answer(mask(e.stderr_tail, self.secret)) or f"exit status {e.returncode}"
        self._log.add(self._key)
        expired = self._expired_now()
        tally = self._log.observe(self._key, expired)
        return (
            f"wrong password (drive answered: {answer}); {attempts.after_refusal(tally, expired)}"
        )

    def _unanswered(self) -> str:
        """A password command that got no answer may have reached the drive: counted."""
        t = self._log.add(self._key)
        return f" (counted as attempt {t.made} by this station {t.scope}: the drive may have)"

    def _expired_now(self) -> bool | None:
        """EXPIRE as read after a refusal; None when hdparm -I cannot tell (never a crash that
        would hide the drive's answer)."""
        try:
            sec = self._security()
        except ToolError:
            return None
        return sec.count_expired if sec else None

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


def drive_answer(tail: str) -> str:
    """What the drive answered, from hdparm's last lines (``a | b | c``) without hdparm's own
    echo of the command (the device line, "Issuing ...", "security_password: ...")."""
    echo = ("Issuing ", "security_password")
    parts = [p for p in tail.split(" | ") if p and not p.startswith(echo)]
    return " | ".join(p for p in parts if not (p.startswith("/dev/") and p.endswith(":")))


def _unknown(what: str) -> str:
    return f"hdparm -I: the security '{what}' state cannot be read: no attempt was made"
