"""TCG Storage Level 0 Discovery: which SSC a self-encrypting drive speaks and whether it is locked.

Why raw: the kernel's discovery ioctl (IOC_OPAL_DISCOVERY) arrived in Linux 6.6 and the image
runs 6.1, so the response is read with the interface's own security-receive command — ``nvme
security-recv`` (NVMe), ``sg_raw`` SECURITY PROTOCOL IN (SCSI/SAS) and ``sg_raw`` ATA
PASS-THROUGH(16) TRUSTED RECEIVE (SATA; libata refuses TRUSTED commands unless the kernel runs
with ``libata.allow_tpm=1``) — protocol 0x01, ComID 0x0001, and parsed here. Each tool prints the
bytes as a hex dump (``hex_bytes``); ``parse_discovery`` reads the TCG structure (TCG Storage
Architecture Core Spec 3.3.6: a 48-byte header whose first field is the length of what follows,
then feature descriptors of code, version, length). It fails closed: a response too short for
its header is a ToolError; a descriptor the data does not hold entirely (a short response) ends
the parse, and every feature not read is *unknown* (``None``), never "not locked".
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from wipestation.errors import ToolError, ToolFailedError
from wipestation.tools.runner import Runner, run

TIMEOUT = 30.0
#: Security protocol 0x01, ComID 0x0001: Level 0 Discovery.
PROTOCOL, COMID = 0x01, 0x0001
RESPONSE = 2048
HEADER = 48

FEATURE_TPER, FEATURE_LOCKING, FEATURE_GEOMETRY = 0x0001, 0x0002, 0x0003
#: SSC feature codes (TCG Opal 2.01 §3.1.1.5, Opalite, Pyrite 1/2, Enterprise, Ruby)
SSC_NAMES = {
    0x0100: "Enterprise",
    0x0200: "Opal 1",
    0x0203: "Opal 2",
    0x0301: "Opalite",
    0x0302: "Pyrite 1",
    0x0303: "Pyrite 2",
    0x0304: "Ruby",
}
#: an SSC without media encryption: its revert is Clear, not a cryptographic erase (Purge)
NON_ENCRYPTING = ("Pyrite 1", "Pyrite 2")


@dataclass(frozen=True)
class Locking:
    """The Locking feature (0x0002), byte 4."""

    supported: bool
    enabled: bool
    locked: bool
    media_encryption: bool
    mbr_enabled: bool
    mbr_done: bool

    @classmethod
    def from_byte(cls, b: int) -> Locking:
        return cls(*(bool(b >> bit & 1) for bit in range(6)))


@dataclass(frozen=True)
class Discovery:
    """A parsed Level 0 Discovery; ``locking is None``: the drive's answer did not hold it."""

    ssc: tuple[str, ...]  # every SSC the drive reports, strongest first
    base_comid: int | None
    locking: Locking | None
    features: tuple[int, ...]  # every feature code read, in order
    complete: bool  # False: the response ended inside a descriptor (the rest is unknown)

    @property
    def primary(self) -> str:
        return self.ssc[0] if self.ssc else ""

    @property
    def locked(self) -> bool | None:
        """True/False from the Locking feature; None when it was not read (cannot tell)."""
        return self.locking.locked if self.locking else (False if self.complete else None)

    @property
    def encrypting(self) -> bool | None:
        if self.locking is None:
            return None
        return self.locking.media_encryption and self.primary not in NON_ENCRYPTING

    def describe(self) -> str:
        """One line for the probe, the details screen and the record."""
        if not self.ssc and self.locking is None:
            if not self.complete:
                return "TCG: response cut short: SSC and locking unknown"
            return "TCG: no security subsystem reported"
        lk = self.locking
        if lk is None:
            state = "locking unknown (response cut short)"
        else:
            state = ", ".join(
                (
                    "locking " + ("supported" if lk.supported else "not supported"),
                    "enabled" if lk.enabled else "not enabled",
                    "LOCKED" if lk.locked else "unlocked",
                    "media encryption" if lk.media_encryption else "no media encryption",
                    "MBR shadow " + ("on" if lk.mbr_enabled else "off"),
                )
            )
        return f"TCG {'/'.join(self.ssc) or 'unknown SSC'}: {state}"

    def to_json(self) -> dict[str, object]:
        return {
            "ssc": list(self.ssc),
            "base_comid": self.base_comid,
            "locking": None if self.locking is None else dict(vars(self.locking)),
            "locked": self.locked,
            "encrypting": self.encrypting,
            "features": [f"0x{f:04x}" for f in self.features],
            "complete": self.complete,
        }


# ---- argv builders -------------------------------------------------------------------------


def build_nvme_argv(ctrl: str) -> list[str]:
    """nvme-cli 2.x: ``security-recv`` with SECP/SPSP and a hex dump on stdout."""
    n = str(RESPONSE)
    return ["nvme", "security-recv", ctrl, f"--secp={PROTOCOL}", f"--spsp={COMID}",
            f"--size={n}", f"--al={n}"]  # fmt: skip


def build_scsi_argv(dev: str) -> list[str]:
    """SECURITY PROTOCOL IN (A2h), protocol 1, ComID 1, allocation length 2048, read-only."""
    cdb = [0xA2, PROTOCOL, COMID >> 8, COMID & 0xFF, 0, 0, *RESPONSE.to_bytes(4, "big"), 0, 0]
    return ["sg_raw", "-R", "-r", str(RESPONSE), dev, *(f"{b:02x}" for b in cdb)]


def build_ata_argv(dev: str) -> list[str]:
    """ATA PASS-THROUGH(16) TRUSTED RECEIVE (5Ch), PIO data-in, one 512-byte block: features =
    protocol, LBA(15:8)/(23:16) = ComID (as sedutil places it)."""
    cdb = [0x85, 4 << 1, 0x0E, 0, PROTOCOL, 0, 1, 0, 0, 0, COMID & 0xFF, 0, COMID >> 8, 0, 0x5C, 0]
    return ["sg_raw", "-R", "-r", "512", dev, *(f"{b:02x}" for b in cdb)]


# ---- parsers -------------------------------------------------------------------------------

_OFFSET = re.compile(r"^(?:0x)?([0-9a-fA-F]{2,8}):?$")
_GROUP = re.compile(r"^(?:[0-9a-fA-F]{2})+$")


def hex_bytes(text: str) -> bytes:
    """The bytes of a hex dump (nvme-cli ``0000: 00 01 ...``, sg3_utils `` 00     00 01 ...``,
    sedutil ``0000 000000bc ...``): offset, then up to 16 bytes per line, then an ignored text
    column. Lines without an offset (banners, column headers) are skipped.

    Raises:
        ToolError: a line's offset does not follow the previous line's bytes (a garbled dump).
    """
    out = bytearray()
    for n, line in enumerate(text.splitlines(), 1):
        words = line.split()
        m = _OFFSET.match(words[0]) if words and not _ruler(words) else None
        row = _row(words[1:]) if m else b""
        if not row:
            continue
        if int(m.group(1), 16) != len(out):  # type: ignore[union-attr]
            raise ToolError(f"hex dump line {n}: offset {words[0]} after {len(out)} bytes")
        out += row
    return bytes(out)


def _ruler(words: list[str]) -> bool:
    """A column header (``00 01 02 ... 0F``), not data."""
    return len(words) > 2 and all(_GROUP.match(w) and int(w, 16) == i for i, w in enumerate(words))


def _row(words: list[str]) -> bytes:
    row = bytearray()
    for w in words:
        if not _GROUP.match(w) or len(w) > 8 or len(row) + len(w) // 2 > 16:
            break
        row += bytes.fromhex(w)
    return bytes(row)


def parse_discovery(data: bytes) -> Discovery:
    """Level 0 Discovery bytes → Discovery.

    Raises:
        ToolError: shorter than its 48-byte header, or a header length that cannot be one.
    """
    if len(data) < HEADER:
        raise ToolError(f"Level 0 Discovery: {len(data)} bytes, shorter than its 48-byte header")
    (length,) = struct.unpack_from(">I", data)
    if length == 0:
        return Discovery((), None, None, (), True)  # no TCG security subsystem
    if length < HEADER - 4 or length > 0x10000:
        raise ToolError(f"Level 0 Discovery: header length {length} is not a discovery length")
    end = min(length + 4, len(data))
    codes, ssc, comid, locking, pos = [], [], None, None, HEADER
    while pos + 4 <= end:
        code, size = struct.unpack_from(">H", data, pos)[0], data[pos + 3]
        body = data[pos + 4 : pos + 4 + size]
        if len(body) < size or pos + 4 + size > end:
            break  # cut short: what follows is unknown
        codes.append(code)
        if code == FEATURE_LOCKING and size >= 1:
            locking = Locking.from_byte(body[0])
        elif code in SSC_NAMES:
            ssc.append(SSC_NAMES[code])
            comid = comid if comid is not None or size < 2 else struct.unpack_from(">H", body)[0]
        pos += 4 + size
    ranked = tuple(sorted(ssc, key=STRONGEST.index))
    return Discovery(ranked, comid, locking, tuple(codes), complete=pos == length + 4)


#: the order an SSC is named in when a drive reports several
STRONGEST = ("Enterprise", "Opal 2", "Ruby", "Opal 1", "Opalite", "Pyrite 2", "Pyrite 1")


# ---- combinators ---------------------------------------------------------------------------


def _read(argv: list[str], runner: Runner) -> Discovery:
    done = runner(argv, timeout=TIMEOUT, check=False)
    if done.returncode != 0:
        text = (done.stderr or done.stdout).strip().splitlines()
        raise ToolFailedError(argv, done.returncode, " | ".join(text[-2:]))
    # nvme-cli prints the dump on stdout; sg_raw (sg3_utils 1.46, src/sg_raw.c) on stderr,
    # after "SCSI Status: Good" and "Received N bytes of data:"
    return parse_discovery(hex_bytes(done.stdout if done.stdout.strip() else done.stderr))


def discover_nvme(ctrl: str, *, runner: Runner = run) -> Discovery:
    return _read(build_nvme_argv(ctrl), runner)


def discover_scsi(dev: str, *, runner: Runner = run) -> Discovery:
    return _read(build_scsi_argv(dev), runner)


def discover_ata(dev: str, *, runner: Runner = run) -> Discovery:
    return _read(build_ata_argv(dev), runner)
