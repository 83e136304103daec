"""Where the station's key lives, and the per-station record counter kept next to it.

Why here and not on the report stick: whoever carries the report stick to the office must not
carry the means to sign. With a TPM 2.0 the key is inside the chip (``TpmSigner``) and only its
public half is written out; without one, the Ed25519 key file lives on the boot stick's FAT
partition in ``wipestation-keys/`` (created there once, durably, on a read-write mount just for
that), so one station keeps one identity whatever report stick is plugged in. ``wipestation
wipe --report-dir`` (tests, no boot stick) keeps it in ``--key-dir`` (``DEFAULT_KEY_DIR``).

A key file in RAM is said to be one: a station with no TPM and no boot stick to keep its key on
(netboot) makes a new key at every boot in ``DEFAULT_KEY_DIR``, on the initramfs. Its records say
``key_protection: "ephemeral"`` (``volatile``), never ``file``: no enrolled identity can name
that key tomorrow, and an auditor must be able to see so.

Next to the key: the record chain's state (``chain-<fingerprint>.json``: the last sequence
number and record hash). It is written durably *before* the record it numbers is delivered, so
a power cut can leave a gap (a number with no record) but never two records with one number.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from wipestation import paths
from wipestation.discovery.identity import safe_filename
from wipestation.discovery.safety import BOOT_LABEL
from wipestation.errors import ReportError, ToolError
from wipestation.reports.atomic import mkdirs_durable, write_atomic
from wipestation.reports.record import Record
from wipestation.reports.target import (
    DirectoryTarget,
    ReportTarget,
    StickTarget,
    TargetState,
    TargetUnavailableError,
)
from wipestation.tools import tpm2

if TYPE_CHECKING:  # OpenSSL's bindings load with the first signature (test_import_hygiene)
    from wipestation.reports.sign import Signer, StationSigner

log = logging.getLogger(__name__)
KEY_DIR = "wipestation-keys"
DEFAULT_KEY_DIR = Path("/var/lib/wipestation/keys")
#: File systems that keep nothing across a power-off (an initramfs root is ``rootfs``).
RAM_FILESYSTEMS = ("rootfs", "tmpfs", "ramfs")
MOUNTINFO = Path("/proc/self/mountinfo")


@dataclass(frozen=True)
class KeyHome:
    """A place the key (or, with a TPM, its public half) and the chain state are kept."""

    target: ReportTarget
    subdir: str = ""
    #: The TPM to sign with (``tools/tpm2.station_tcti()``), or None for a key file.
    tcti: str | None = None

    @classmethod
    def directory(cls, path: str | Path, tcti: str | None = None) -> KeyHome:
        return cls(DirectoryTarget(Path(path)), "", tcti)

    @classmethod
    def boot_stick(cls, tcti: str | None = None) -> KeyHome:
        return cls(StickTarget(labels=(BOOT_LABEL,)), KEY_DIR, tcti)

    @property
    def description(self) -> str:
        where = f"{self.target.description}{'/' + self.subdir if self.subdir else ''}"
        return f"TPM ({self.tcti}), chain state in {where}" if self.tcti else where

    @contextlib.contextmanager
    def open(self) -> Iterator[Path]:
        with self.target.open() as root:
            where = root / self.subdir if self.subdir else root
            mkdirs_durable(where)
            yield where


def station_key_home(report_dir: str = "") -> KeyHome:
    """The booted station's key home: its boot stick (seen at this boot); a directory run
    (``report_dir``, or no boot stick at all) keeps it in ``DEFAULT_KEY_DIR``."""
    tcti = tpm2.station_tcti()
    if not report_dir and paths.STICK_COPY.exists():
        return KeyHome.boot_stick(tcti)
    return KeyHome.directory(DEFAULT_KEY_DIR, tcti)


def _unescape(field: str) -> str:
    """A mountinfo path: space, tab, newline and backslash are octal escapes there."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def filesystem_of(path: Path, mountinfo: Path = MOUNTINFO) -> str:
    """The type of the file system ``path`` is (or would be) on; '' when unknown. The longest
    mount point wins; of two at one place, the later (mounted on top)."""
    where = Path(os.path.realpath(path))
    try:
        lines = mountinfo.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    best, fstype = -1, ""
    for line in lines:
        fields = line.split()
        if "-" not in fields or len(fields) < 5:
            continue
        point = Path(_unescape(fields[4]))
        after = fields[fields.index("-") + 1 :]
        if after and (where == point or point in where.parents) and len(point.parts) >= best:
            best, fstype = len(point.parts), after[0]
    return fstype


def volatile(path: Path, mountinfo: Path = MOUNTINFO) -> bool:
    """Whether a key kept at ``path`` is gone at power-off (RAM, not a stick or a disk)."""
    return filesystem_of(path, mountinfo) in RAM_FILESYSTEMS


#: What the station says (screen banner, conveyor ``KEY`` line) when it signs with such a key.
EPHEMERAL_NOTICE = (
    "Signing key: made at this boot (no TPM, no boot stick) - "
    "records need --accept-ephemeral to reconcile"
)


def planned_protection(home: KeyHome, mountinfo: Path = MOUNTINFO) -> str:
    """How the key kept at ``home`` is protected, known before it is opened (the station says
    so at start, before its first record): ``tpm``, ``ephemeral`` (a key directory in RAM), or
    ``file``."""
    if home.tcti:
        return "tpm"
    if isinstance(home.target, DirectoryTarget):
        where = home.target.path / home.subdir if home.subdir else home.target.path
        return "ephemeral" if volatile(where, mountinfo) else "file"
    return "file"


def _stem(station_id: str) -> str:
    return safe_filename(station_id)


def _write_if_changed(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Boot-stick writes only when something changed."""
    with contextlib.suppress(OSError):
        if path.read_bytes() == data:
            return
    write_atomic(path, data, mode=mode)


def file_signer(key_dir: Path, station_id: str, mountinfo: Path = MOUNTINFO) -> Signer:
    """The Ed25519 key file in ``key_dir``, created (and written durably) on first use;
    labelled ``ephemeral`` when ``key_dir`` is in RAM (see the module docstring)."""
    from wipestation.reports.sign import Signer

    protection = "ephemeral" if volatile(key_dir, mountinfo) else "file"
    path = key_dir / f"{_stem(station_id)}.ed25519.pem"
    if path.exists():
        try:
            signer = Signer.from_pem(path.read_bytes(), str(path))
        except OSError as e:
            raise ReportError(f"station key {path} is unreadable ({e.strerror})") from e
        return replace(signer, protection=protection)
    signer = replace(Signer.generate(), protection=protection)
    mkdirs_durable(key_dir)
    write_atomic(path, signer.private_pem(), mode=0o600)
    return signer


def open_signer(key_dir: Path, station_id: str, tcti: str | None) -> StationSigner:
    """The station's signer (TPM when ``tcti``), with its public key published beside it."""
    from wipestation.reports.sign import TpmSigner, pem_of

    signer: StationSigner
    if tcti:
        try:
            signer = TpmSigner.open(tcti)
        except ToolError as e:
            raise ReportError(f"station key: {e}") from e
    else:
        signer = file_signer(key_dir, station_id)
    stem = _stem(station_id)
    _write_if_changed(key_dir / f"{stem}.pub.pem", pem_of(signer.algorithm, signer.public_raw))
    _write_if_changed(key_dir / f"{stem}.fingerprint", f"{signer.fingerprint}\n".encode())
    _write_if_changed(key_dir / f"{stem}.protection", f"{signer.protection}\n".encode())
    return signer


@dataclass(frozen=True)
class ChainState:
    """The last record a station key signed: its sequence number and record hash."""

    sequence: int = 0
    last_sha256: str = ""

    def link(self) -> dict[str, object]:
        """The next record's ``chain`` field."""
        return {"sequence": self.sequence + 1, "previous_sha256": self.last_sha256}


def chain_path(key_dir: Path, fingerprint: str) -> Path:
    return key_dir / f"chain-{fingerprint.replace(':', '')}.json"


def load_chain(key_dir: Path, fingerprint: str) -> ChainState:
    path = chain_path(key_dir, fingerprint)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ChainState(int(data["sequence"]), str(data["last_sha256"]))
    except FileNotFoundError:
        return ChainState()
    except (OSError, ValueError, KeyError, TypeError) as e:
        # Never restart at 1 silently: that would fork the chain.
        raise ReportError(f"record counter {path} is unreadable ({e}): restore it") from e


def save_chain(key_dir: Path, fingerprint: str, state: ChainState) -> None:
    data = {"sequence": state.sequence, "last_sha256": state.last_sha256}
    write_atomic(chain_path(key_dir, fingerprint), (json.dumps(data) + "\n").encode())


class StationKey:
    """The station's signer and record chain, used by the writer for every delivery.

    The key and counter are read from their home when it is there; once loaded they are kept
    in memory, so a station whose boot stick was pulled after start still signs (and writes the
    counter back when the stick returns)."""

    def __init__(self, home: KeyHome, station_id: str, signer: StationSigner | None = None):
        self.home = home
        self.station_id = station_id
        self._signer = signer
        self._chain = ChainState()

    @property
    def protection(self) -> str:
        """The loaded signer's protection, else the one its home will give."""
        return self._signer.protection if self._signer else planned_protection(self.home)

    @contextlib.contextmanager
    def session(self) -> Iterator[KeySession]:
        with contextlib.ExitStack() as stack:
            try:
                key_dir: Path | None = stack.enter_context(self.home.open())
            except (TargetUnavailableError, OSError) as e:
                if self._signer is None:
                    raise TargetUnavailableError(
                        getattr(e, "state", TargetState.ERROR),
                        f"the station key ({self.home.description}) is not available: {e}",
                    ) from e
                log.warning("station key home unavailable (%s): counter kept in memory", e)
                key_dir = None
            if key_dir is not None:
                if self._signer is None:
                    self._signer = open_signer(key_dir, self.station_id, self.home.tcti)
                stored = load_chain(key_dir, self._signer.fingerprint)
                if stored.sequence > self._chain.sequence:
                    self._chain = stored
            assert self._signer is not None
            yield KeySession(self, self._signer, key_dir)

    def _advance(self, state: ChainState, key_dir: Path | None) -> None:
        assert self._signer is not None
        if key_dir is not None:
            save_chain(key_dir, self._signer.fingerprint, state)
        self._chain = state


@dataclass(frozen=True)
class KeySession:
    key: StationKey
    signer: StationSigner
    key_dir: Path | None

    def sign_next(self, record: Record) -> Record:
        """``record`` with the next ``chain`` link, signed; the counter is saved first."""
        state = self.key._chain
        body = {k: v for k, v in record.items() if k not in ("signature", "chain")}
        signed = self.signer.sign({**body, "chain": state.link()})
        self.key._advance(ChainState(state.sequence + 1, signed["signature"]["record_sha256"]),
                          self.key_dir)  # fmt: skip
        return signed
