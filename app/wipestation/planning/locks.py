"""Which plan a locked drive gets: none without the operator's secret, and with it the method
that opens the drive (ATA SECURITY ERASE UNIT with the user/master password; TCG PSID revert).

Why here: a locked drive refuses every write, so an overwrite (or any firmware erase that needs
an unlocked drive) would fail after hours of futile writes. The plan must say so before anything
is written, in words the operator can act on, and the same words go into the record. An
unreadable lock state is "cannot tell", never "not locked".
"""

from __future__ import annotations

from wipestation.errors import UnsupportedError
from wipestation.model import Drive, Transport, VerifyMode
from wipestation.planning.capabilities import Capabilities
from wipestation.planning.catalogue import Method
from wipestation.planning.medium import medium_of
from wipestation.steps import attempts
from wipestation.steps.locked import AtaPasswordEraseStep
from wipestation.steps.plan import Expect, Expectation, Plan, Step
from wipestation.steps.secret import Secret, SecretKind
from wipestation.steps.tcg import PsidRevertStep

LOCKED_ATA = "locked: needs the user or master password, else destroy"
LOCKED_SED = (
    "locked SED (TCG {ssc}): needs its PSID (the 32 characters on the drive's label) for a "
    "PSID revert, else destroy"
)
UNKNOWN_ATA = (
    "ATA security: whether the drive is locked cannot be read from hdparm -I: cannot tell "
    "whether it would refuse writes; probe again, or give its password, else destroy"
)
UNASKED_ATA = (
    "ATA security: hdparm -I gave nothing, so whether the drive is locked cannot be told; a "
    "locked drive refuses every write (the wipe would then fail with write errors)"
)
#: the methods that carry the operator's secret, by the kind of secret they take
SECRET_METHODS = {
    "ata-erase-password": (SecretKind.USER, SecretKind.MASTER),
    "tcg-psid-revert": (SecretKind.PSID,),
}


def lock_of(caps: Capabilities) -> str:
    """Why nothing may be written to this drive as it is, or '' when it is not locked."""
    sec = caps.ata.security if caps.ata else None
    if sec is not None and sec.locked is None:
        return UNKNOWN_ATA
    if sec is not None and sec.locked:
        expired = sec.count_expired is not False
        return LOCKED_ATA + (
            " (expired: security count: the drive refuses further attempts until it is "
            "power-cycled)"
            if expired
            else ""
        )
    if caps.tcg is not None and caps.tcg.locked:
        return LOCKED_SED.format(ssc=caps.tcg.primary or "SSC unknown")
    return ""


def unasked_note(drive: Drive, caps: Capabilities) -> tuple[str, ...]:
    """A SATA drive whose lock state was never read (no ATA answer): said before anything is
    written — not a refusal, which would stop every drive a plain bridge or a failing
    ``hdparm`` hides, but never silence either."""
    return (UNASKED_ATA,) if drive.transport == Transport.SATA and caps.ata is None else ()


def method_for(secret: Secret) -> str:
    """The method ``auto`` becomes on a locked drive given ``secret``."""
    return next(name for name, kinds in SECRET_METHODS.items() if secret.kind in kinds)


def secret_plan(
    m: Method, drive: Drive, caps: Capabilities, verify: VerifyMode, secret: Secret | None, why: str
) -> Plan:
    """The plan of a secret-carrying method; ``why`` is the policy's refusal ('' = supported).

    Raises:
        UnsupportedError: no secret, the wrong kind of secret, or the drive cannot run it.
    """
    kinds = SECRET_METHODS[m.name]
    if secret is None or secret.kind not in kinds:
        wanted = " or ".join(str(k) for k in kinds)
        raise UnsupportedError(f"{m.name} needs the operator's {wanted} for {drive.path}")
    if why:
        raise UnsupportedError(f"{m.name} refused for {drive.path}: {why}{tried(m, drive)}")
    steps = _steps(m, drive, caps, secret)
    medium = medium_of(drive, caps)
    full = caps.tcg.encrypting if m.name == "tcg-psid-revert" and caps.tcg else _enhanced(caps)
    level = m.levels[medium] if full else "clear"
    return Plan(
        method=m.name,
        level=level,
        standard=f"{m.standard}: {level} on {medium}",
        steps=steps,
        expect=m.expect if verify != "none" else Expectation(Expect.NOTHING),
        verify=verify,
        reasons=(
            f"{m.name}: with the operator's {secret.kind}; {m.description}",
            *attempt_warning(m, drive),
        ),
    )


def attempt_warning(m: Method, drive: Drive) -> tuple[str, ...]:
    """Before a password attempt: how many this station already made on the drive since boot
    and what that leaves — a warning when this one would be the fifth the drive allows."""
    if m.name != "ata-erase-password":
        return ()
    note = attempts.before_attempt(attempts.station_log().tally(drive.identity))
    return (f"{m.name}: {note}",) if note else ()


def tried(m: Method, drive: Drive) -> str:
    """The station's count on a refused password plan ('' when it made none)."""
    if m.name != "ata-erase-password":
        return ""
    t = attempts.station_log().tally(drive.identity)
    return f" ({attempts.made(t)})" if t.made else ""


def _enhanced(caps: Capabilities) -> bool:
    sec = caps.ata.security if caps.ata else None
    return bool(sec and sec.enhanced_supported)


def _steps(m: Method, drive: Drive, caps: Capabilities, secret: Secret) -> tuple[Step, ...]:
    if m.name == "tcg-psid-revert":
        return (PsidRevertStep(dev=drive.path, transport=str(drive.transport), secret=secret),)
    sec = caps.ata.security if caps.ata else None
    enhanced = _enhanced(caps)
    minutes = (sec.enhanced_erase_minutes if enhanced else sec.erase_minutes) if sec else None
    timeout = max(600.0, 2 * 60.0 * minutes) if minutes else 4 * 3600.0
    return (
        AtaPasswordEraseStep(
            dev=drive.path,
            secret=secret,
            enhanced=enhanced,
            erase_timeout_s=timeout,
            identity=drive.identity,
        ),
    )


def lock_reason(method: str, lock: str) -> tuple[str, ...]:
    """The plan's first reason on a locked drive: the lock, as the refusal would have said it."""
    return (f"{method}: {lock}",) if lock else ()


def security_facts(caps: Capabilities) -> dict[str, object] | None:
    """What the record states about the drive's locks (None when neither was read)."""
    sec = caps.ata.security if caps.ata else None
    if sec is None and caps.tcg is None:
        return None
    return {
        "ata": sec.to_json() if sec else None,
        "tcg": caps.tcg.to_json() if caps.tcg else None,
        "lock": lock_of(caps) or None,
    }


def unlock_kinds(caps: Capabilities | None) -> tuple[SecretKind, ...]:
    """What opens this drive, as far as the probe can tell: a locked SED its PSID, an ATA lock
    its user or master password; unprobed or unlocked drives are offered every kind."""
    sec = caps.ata.security if caps and caps.ata else None
    if sec is not None and sec.locked is not False:
        return (SecretKind.USER, SecretKind.MASTER)
    if caps is not None and caps.tcg is not None and caps.tcg.locked:
        return (SecretKind.PSID,)
    return (SecretKind.PSID, SecretKind.USER, SecretKind.MASTER)
