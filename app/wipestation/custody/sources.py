"""Finding and verifying the records on report sticks and in copies, against trusted keys only.

Every ``*.json`` under a source (recursively; hidden directories such as ``.journal`` and the
key directory are not records) is read with a size cap and verified with ``reports.sign``: a
record that fails, for any reason, is *rejected* with the reason and never counted. Lot records
and station identities are other documents and are passed over.

One exception is kept apart rather than thrown away: a record whose signature holds but whose
key is a per-boot one (``key_protection: "ephemeral"``, a netbooted station without TPM or boot
stick) that no trusted identity names is *unenrolled* (``Unenrolled``, a kind of ``Rejected``,
so a reader that knows nothing of it still rejects it). Nobody can enrol such a key in advance,
and anybody can make one, so only the person reconciling may decide to count it
(``lot reconcile --accept-ephemeral``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from wipestation.custody.records import DRIVE_SCHEMAS, FoundRecord, RecordShapeError, from_record
from wipestation.errors import WipestationError
from wipestation.reports.sign import verify_bytes

#: A record with 500 steps and 100 mismatch ranges is ~0.4 MB; a file 10x that is not a record,
#: and reading it whole would let one planted file exhaust an office laptop's memory.
MAX_RECORD_BYTES = 4 * 1024 * 1024
#: where stations used to keep their key files: keys, not records
KEY_DIR = "wipestation-keys"


class SourceError(WipestationError):
    """A source directory cannot be read."""


@dataclass(frozen=True)
class Rejected:
    file: str
    reason: str


@dataclass(frozen=True)
class Unenrolled(Rejected):
    """Intact, signed by a per-boot key no trusted identity names: not counted unless accepted."""

    record: FoundRecord


@dataclass(frozen=True)
class Collected:
    records: tuple[FoundRecord, ...]
    rejected: tuple[Rejected, ...]
    unenrolled: tuple[Unenrolled, ...] = ()


class Collector:
    """Sorts what the verifier says about each file into a ``Collected`` (every source's)."""

    def __init__(self) -> None:
        self.records: list[FoundRecord] = []
        self.rejected: list[Rejected] = []
        self.unenrolled: list[Unenrolled] = []

    def add(self, found: FoundRecord | Rejected | None) -> None:
        if isinstance(found, FoundRecord):
            self.records.append(found)
        elif isinstance(found, Unenrolled):
            self.unenrolled.append(found)
        elif isinstance(found, Rejected):
            self.rejected.append(found)

    def collected(self) -> Collected:
        return Collected(tuple(self.records), tuple(self.rejected), tuple(self.unenrolled))


def record_files(source: Path) -> list[Path]:
    """Every candidate record file under ``source``, in a stable order."""
    if not source.is_dir():
        raise SourceError(
            f"{source}: not a directory" if source.exists() else f"{source}: not found"
        )
    out: list[Path] = []
    try:
        for path in source.rglob("*.json"):
            rel = path.relative_to(source).parts[:-1]
            if any(part.startswith(".") or part == KEY_DIR for part in rel):
                continue
            if path.is_file():
                out.append(path)
    except OSError as e:
        raise SourceError(f"{source}: cannot be read ({e.strerror or e})") from e
    return sorted(out)


def _read(path: Path) -> bytes:
    with path.open("rb") as f:
        data = f.read(MAX_RECORD_BYTES + 1)
    if len(data) > MAX_RECORD_BYTES:
        raise ValueError(f"larger than {MAX_RECORD_BYTES // 2**20} MiB: not a record")
    return data


def _schema_of(data: bytes) -> object:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    return doc.get("schema") if isinstance(doc, dict) else None


def check_file(path: Path, trusted: tuple[str, ...]) -> FoundRecord | Rejected | None:
    """The verified record, why it is rejected, or None for a document that is not one."""
    try:
        data = _read(path)
    except (OSError, ValueError) as e:
        return Rejected(str(path), f"cannot read: {getattr(e, 'strerror', None) or e}")
    return check_bytes(str(path), data, trusted)


def check_bytes(name: str, data: bytes, trusted: tuple[str, ...]) -> FoundRecord | Rejected | None:
    """``check_file`` for a record already read (a stick's file or a store's object): the one
    verifier every source goes through."""
    if len(data) > MAX_RECORD_BYTES:
        return Rejected(name, f"cannot read: larger than {MAX_RECORD_BYTES // 2**20} MiB")
    schema = _schema_of(data)
    if (
        isinstance(schema, str)
        and schema.startswith("wipestation.")
        and schema not in DRIVE_SCHEMAS
    ):
        return None
    if not trusted:  # an integrity check alone would then accept any key: never here
        return Rejected(name, "no trusted key given")
    try:
        verdict = verify_bytes(data)  # intact and signed by its own key; the origin below
    except RecursionError:
        return Rejected(name, "nested too deeply to be a record")
    if not verdict.ok or verdict.record is None:
        return Rejected(name, verdict.reason)
    fp = verdict.fingerprint
    if fp not in trusted and verdict.protection != "ephemeral":
        return Rejected(name, f"signed by an unknown key {fp}")
    try:
        found = from_record(verdict.record, name, hashlib.sha256(data).hexdigest())
    except RecordShapeError as e:
        return Rejected(name, str(e))
    return found if fp in trusted else unenrolled(found)


def unenrolled(found: FoundRecord) -> Unenrolled:
    why = (
        f"signed by a key made at one boot ({found.key_fingerprint}, key_protection ephemeral) "
        "that no trusted identity names: not counted without --accept-ephemeral"
    )
    return Unenrolled(found.file, why, found)


def collect(sources: list[Path], trusted: tuple[str, ...]) -> Collected:
    """Every record under every source, verified; the same file given twice is read once."""
    out = Collector()
    seen: set[Path] = set()
    for source in sources:
        for path in record_files(source):
            real = path.resolve()
            if real in seen:
                continue
            seen.add(real)
            out.add(check_file(path, trusted))
    return out.collected()
