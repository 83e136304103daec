"""The secret an operator gives for one locked drive: an ATA user/master password or a TCG PSID.

Why a type of its own: a password must never reach a record, a journal, a log line or a repr;
``Secret`` masks itself everywhere it is printed, and ``mask`` scrubs it out of a tool's output
(hdparm echoes the password it was given) before that output is recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from wipestation.errors import UnsupportedError

#: ATA passwords are 32 bytes (shorter ones are padded with NULs by hdparm).
ATA_PASSWORD_MAX = 32
#: The PSID printed on a SED's label: 32 characters, digits and upper-case letters.
PSID_RE = re.compile(r"[0-9A-Z]{32}")
MASK = "****"


class SecretKind(StrEnum):
    USER = "user"  # ATA security user password
    MASTER = "master"  # ATA security master password
    PSID = "psid"  # TCG Physical Security ID (drive label)


@dataclass(frozen=True)
class Secret:
    """What unlocks one drive; ``value`` never appears in ``repr``/``str``."""

    kind: SecretKind
    value: str = field(repr=False)

    def __str__(self) -> str:
        return f"{self.kind} {MASK}"

    @property
    def ata(self) -> bool:
        return self.kind in (SecretKind.USER, SecretKind.MASTER)


def make_secret(kind: str, value: str) -> Secret:
    """A checked secret: a PSID is 32 of [0-9A-Z] (spaces and dashes from a label dropped).

    Raises:
        UnsupportedError: empty, too long, not a PSID, or an unknown kind.
    """
    try:
        k = SecretKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in SecretKind)
        raise UnsupportedError(f"unknown secret kind {kind!r} (one of {kinds})") from None
    if k == SecretKind.PSID:
        psid = re.sub(r"[\s-]", "", value).upper()
        if not PSID_RE.fullmatch(psid):
            raise UnsupportedError(
                f"a PSID is 32 letters and digits from the drive's label (got {len(psid)})"
            )
        return Secret(k, psid)
    if not value or len(value.encode("utf-8")) > ATA_PASSWORD_MAX:
        raise UnsupportedError(f"an ATA password is 1 to {ATA_PASSWORD_MAX} bytes")
    return Secret(k, value)


def mask(text: str, secret: Secret) -> str:
    """``text`` with every occurrence of the secret replaced (tools echo what they were given)."""
    return text.replace(secret.value, MASK) if secret.value else text
