"""The kernel's sed-opal ioctls (``CONFIG_BLK_SED_OPAL``, ``include/uapi/linux/sed-opal.h``).

Why the kernel and not raw security send/receive: Linux has carried the whole TCG session for a
PSID revert (StartSession to the Admin SP as the PSID authority, Revert on the TPer) since 5.3
(``IOC_OPAL_PSID_REVERT_TPR``), for NVMe, SCSI and — with ``libata.allow_tpm=1`` — SATA drives;
the image's Debian 6.1 kernel has it built in (its ``TPER Malfunction``/``Authority Locked Out``
status strings are in the image's vmlinuz). The discovery ioctl needs 6.6, so discovery is read
raw (``tools/opal.py``).

The ioctl returns 0 on success, a positive TCG method status when the drive refused (the
drive's answer: ``NOT_AUTHORIZED`` for a wrong PSID), and fails with an errno when the kernel
could not ask (no sed-opal support for the device: EOPNOTSUPP/ENOTTY).
"""

from __future__ import annotations

import fcntl
import struct
from collections.abc import Callable

#: _IOW('p', 232, struct opal_key): struct opal_key { u8 lr; u8 key_len; u8 align[6];
#: u8 key[256]; } is 264 bytes: (1 << 30) | (264 << 16) | (ord('p') << 8) | 232.
OPAL_KEY_MAX = 256
OPAL_KEY_SIZE = 8 + OPAL_KEY_MAX
IOC_OPAL_PSID_REVERT_TPR = (1 << 30) | (OPAL_KEY_SIZE << 16) | (ord("p") << 8) | 232

#: TCG Storage Core Specification, method status codes (also the kernel's opal_errors table)
STATUS = {
    0x00: "SUCCESS",
    0x01: "NOT_AUTHORIZED",
    0x03: "SP_BUSY",
    0x04: "SP_FAILED",
    0x05: "SP_DISABLED",
    0x06: "SP_FROZEN",
    0x07: "NO_SESSIONS_AVAILABLE",
    0x08: "UNIQUENESS_CONFLICT",
    0x09: "INSUFFICIENT_SPACE",
    0x0A: "INSUFFICIENT_ROWS",
    0x0C: "INVALID_PARAMETER",
    0x0F: "TPER_MALFUNCTION",
    0x10: "TRANSACTION_FAILURE",
    0x11: "RESPONSE_OVERFLOW",
    0x12: "AUTHORITY_LOCKED_OUT",
    0x3F: "FAIL",
}

Ioctl = Callable[[int, int, bytearray, bool], int]


def status_name(code: int) -> str:
    return STATUS.get(code, f"status 0x{code:02x}")


def opal_key(key: bytes, lr: int = 0) -> bytearray:
    """``struct opal_key`` for ``key`` (a PSID is 32 ASCII characters)."""
    if not 0 < len(key) <= OPAL_KEY_MAX:
        raise ValueError(f"an Opal key is 1 to {OPAL_KEY_MAX} bytes, not {len(key)}")
    return bytearray(struct.pack(f"BB6x{OPAL_KEY_MAX}s", lr, len(key), key))


def psid_revert(fd: int, psid: str, *, ioctl: Ioctl = fcntl.ioctl) -> int:
    """Revert the TPer with the PSID authority: 0, or the drive's TCG status code.

    Raises:
        OSError: the kernel could not send it (EOPNOTSUPP/ENOTTY: no sed-opal for this device).
    """
    return ioctl(fd, IOC_OPAL_PSID_REVERT_TPR, opal_key(psid.encode("ascii")), True)
