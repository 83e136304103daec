"""Whether this boot ran with UEFI Secure Boot enforced, as the firmware itself says.

A computer wiped by booting the stick on it was started through Debian's signed chain (shim,
GRUB, kernel) with its firmware checking each step, or it was not: every record says which
(``boot.secure_boot``). The firmware's answer is its ``SecureBoot`` variable (UEFI 2.10, 3.3:
1 = enforced), which Linux shows in efivarfs as 4 attribute bytes followed by the 1-byte value.
No ``/sys/firmware/efi`` at all means the kernel was started by a BIOS (or without UEFI
runtime services): no Secure Boot. What cannot be read is unknown, never a guess.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EFI_DIR = Path("/sys/firmware/efi")
#: The EFI global variable GUID (EFI_GLOBAL_VARIABLE), under which SecureBoot is defined.
VARIABLE = "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"


@dataclass(frozen=True)
class SecureBoot:
    """``enforced``: True, False, or None when it could not be told; ``detail`` says how."""

    enforced: bool | None
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"secure_boot": self.enforced, "detail": self.detail}

    def describe(self) -> str:
        said = {True: "enforced", False: "off", None: "unknown"}[self.enforced]
        return f"Secure Boot {said} ({self.detail})"


def parse_variable(data: bytes) -> SecureBoot:
    """The efivarfs file's bytes: 4 attribute bytes, then 0 (off) or 1 (enforced)."""
    if len(data) != 5 or data[4] not in (0, 1):
        return SecureBoot(None, f"SecureBoot variable malformed: {data.hex() or 'empty'}")
    if data[4] == 1:
        return SecureBoot(True, "firmware variable SecureBoot=1")
    return SecureBoot(False, "firmware variable SecureBoot=0")


def read_state(efi_dir: Path = EFI_DIR) -> SecureBoot:
    """This boot's Secure Boot state from the firmware's variables under ``efi_dir``."""
    if not efi_dir.is_dir():
        return SecureBoot(False, "no UEFI runtime (/sys/firmware/efi): booted by BIOS")
    variables = efi_dir / "efivars"
    try:
        return parse_variable((variables / VARIABLE).read_bytes())
    except FileNotFoundError:
        return _without_variable(variables)
    except OSError as e:
        return SecureBoot(None, f"cannot read the SecureBoot variable: {e.strerror or e}")


def _without_variable(variables: Path) -> SecureBoot:
    """No SecureBoot variable: firmware without Secure Boot, unless efivarfs is not mounted
    (then nothing at all can be read there)."""
    try:
        mounted = any(variables.iterdir())
    except OSError:
        mounted = False
    if not mounted:
        return SecureBoot(None, f"EFI variables not readable ({variables} empty or missing)")
    return SecureBoot(False, "the firmware has no SecureBoot variable (no Secure Boot support)")


@functools.cache
def this_boot() -> SecureBoot:
    """The running system's state, read once: it cannot change until the next boot."""
    return read_state()
