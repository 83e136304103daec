"""Where a lot comes from at the start of a shift: manifest CSVs and lots left open.

Plain Python (no Textual); the App runs it in a worker thread, because the report stick is
mounted for the moment it is read (as the report writer does for every delivery).

- Manifests: the top-level ``*.csv`` and ``manifests/*.csv`` of the boot stick's copy directory
  (``paths.RUN_DIR``, where ``config.manifest_path`` resolves a relative manifest) and of the
  report target, plus the configured manifest (``wipestation.manifest=``) wherever it lies.
- Open lots: the lots earlier boots left unfinished on the report target (``custody.resume``;
  an offer: the App reads a chosen lot's records verified against the station's own key).

A manifest is read whole and parsed before anything uses it: a malformed one raises
``ManifestError`` naming the file, line and column, and nothing is half-loaded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from wipestation.custody.manifest import (
    MANIFESTS,
    MAX_BYTES,
    Manifest,
    ManifestError,
    parse_manifest,
)
from wipestation.custody.resume import open_lots as lots_left_open
from wipestation.errors import WipestationError
from wipestation.reports.target import ReportTarget

BOOT, REPORT, CONFIGURED = "boot stick", "report stick", "configured"


@dataclass(frozen=True)
class ManifestChoice:
    """A manifest file the operator may pick: ``name`` is relative to its place's root
    (absolute for the configured one)."""

    where: str  # BOOT | REPORT | CONFIGURED
    name: str

    @property
    def label(self) -> str:
        return f"{self.where}: {self.name}"


class OpenLotLike(Protocol):
    """What the dialog shows of a lot left open on the report target (``custody.resume``)."""

    @property
    def lot_id(self) -> str: ...
    @property
    def customer(self) -> str: ...
    @property
    def records(self) -> int: ...
    @property
    def last(self) -> str: ...


@dataclass(frozen=True)
class LotChoice:
    """An open lot, as the dialog lists it."""

    lot_id: str
    customer: str
    records: int
    last: str  # when its newest record was made (RFC 3339)

    @property
    def label(self) -> str:
        who = f"  {self.customer}" if self.customer else ""
        when = self.last[:16].replace("T", " ") or "-"
        return f"{self.lot_id}{who}  {self.records} record(s), last {when}"


@dataclass(frozen=True)
class LotSources:
    """What the dialog offers; ``problem``: why the report target could not be read, or ''."""

    manifests: tuple[ManifestChoice, ...] = ()
    open_lots: tuple[LotChoice, ...] = ()
    problem: str = ""


@dataclass(frozen=True)
class LotOpening:
    """The start-of-shift dialog's answer: the lot this station works from now on.

    ``manifest`` is parsed already (the dialog refused one that did not parse), so nothing is
    read twice and a report stick pulled meanwhile changes nothing; ``resumed``: the lot was left
    open on the report target by an earlier boot, and its records count."""

    lot_id: str
    customer: str
    manifest: Manifest | None = None
    resumed: bool = False

    @property
    def manifest_path(self) -> str | None:
        return self.manifest.source if self.manifest is not None else None


def manifest_names(root: Path) -> list[str]:
    """The manifest-looking files of one place: top-level ``*.csv`` and ``manifests/*.csv``
    (any case: FAT sticks written on Windows say ``.CSV``), relative to ``root``."""
    out: list[str] = []
    for directory, prefix in ((root, ""), (root / MANIFESTS, f"{MANIFESTS}/")):
        try:
            files = sorted(p for p in directory.iterdir() if p.suffix.lower() == ".csv")
        except OSError:
            continue  # no such directory (or unreadable): nothing offered from it
        out += [prefix + p.name for p in files if p.is_file() and not p.name.startswith(".")]
    return out


def read_manifest(path: Path, source: str) -> Manifest:
    """Read and parse one manifest; ``source`` names it in errors and in the lot record."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise ManifestError(source, 0, 0, f"cannot read ({e.strerror or e})") from e
    if len(data) > MAX_BYTES:
        raise ManifestError(source, 0, 0, f"larger than {MAX_BYTES // 2**20} MiB")
    parsed = parse_manifest(data, source)
    return Manifest(parsed.source, parsed.entries, hashlib.sha256(data).hexdigest())


OpenLots = Callable[[Path], Sequence[OpenLotLike]]


@dataclass(frozen=True)
class LotFinder:
    """Looks for manifests and open lots on the boot stick's copy and the report target."""

    boot_dir: Path
    target: ReportTarget | None
    configured: str = ""  # the configured manifest's absolute path, or ''
    open_lots: OpenLots = lots_left_open

    def look(self) -> LotSources:
        boot = [ManifestChoice(BOOT, n) for n in manifest_names(self.boot_dir)]
        configured = self._configured(boot)
        if self.target is None:
            return LotSources((*configured, *boot), (), "no report target configured")
        try:
            with self.target.open() as root:
                report = [ManifestChoice(REPORT, n) for n in manifest_names(root)]
                lots = tuple(_choice(o) for o in self.open_lots(root))
        except (OSError, WipestationError) as e:
            return LotSources((*configured, *boot), (), f"{self.target.description}: {e}")
        return LotSources((*configured, *boot, *report), lots)

    def _configured(self, boot: list[ManifestChoice]) -> list[ManifestChoice]:
        if not self.configured:
            return []
        path = Path(self.configured)
        if path.parent == self.boot_dir and ManifestChoice(BOOT, path.name) in boot:
            return []  # listed already, as a boot stick file
        return [ManifestChoice(CONFIGURED, str(path))]

    def load(self, choice: ManifestChoice) -> Manifest:
        """The parsed manifest; raises ``ManifestError`` (file, line, column) or
        ``TargetUnavailableError`` (the report stick is gone)."""
        if choice.where == CONFIGURED:
            return read_manifest(Path(choice.name), choice.name)
        if choice.where == BOOT:
            return read_manifest(self.boot_dir / choice.name, str(self.boot_dir / choice.name))
        if self.target is None:
            raise ManifestError(choice.label, 0, 0, "no report target configured")
        with self.target.open() as root:
            return read_manifest(root / choice.name, f"{self.target.description}: {choice.name}")


def _choice(lot: OpenLotLike) -> LotChoice:
    return LotChoice(lot.lot_id, lot.customer, lot.records, lot.last)
