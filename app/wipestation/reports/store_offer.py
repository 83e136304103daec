"""What a report target holds that the floor's store must also hold, read back at a restart.

Why: the uploader's queue lives in RAM. A station that stops (power cut, reboot) with records
not yet acknowledged must deliver them at its next start, and the report stick is where they
survived. Every signed paper on it (drive and destruction records with their PDFs, lot records
with theirs, identity files) is read and offered again; the uploader's conditional create makes
those the store already holds count as delivered, so nothing is duplicated. A file that is not
a sound signed paper (damaged, half written, unsigned, foreign JSON) is skipped: the store gets
only what verifies, exactly as it lies on the stick.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from wipestation.errors import ReportError
from wipestation.reports.readrecord import parse_object
from wipestation.reports.record import SCHEMA_ID, Record
from wipestation.reports.store import COMPUTER_SCHEMA, IDENTITY_SCHEMA, LOT_SCHEMA

log = logging.getLogger(__name__)
#: The station's signed papers (``custody.records.DESTROY_SCHEMA``: custody sits above reports).
OFFERED = (SCHEMA_ID, "wipestation.destroy/1", LOT_SCHEMA, IDENTITY_SCHEMA, COMPUTER_SCHEMA)
#: A record file is well under this (``custody.sources.MAX_RECORD_BYTES``); a bigger file is
#: not one, and the queue holds every offered body in RAM. A PDF may be larger (CJK fonts).
MAX_JSON_BYTES = 4 * 1024 * 1024
MAX_PDF_BYTES = 32 * 1024 * 1024
#: Not papers: the journal and other hidden state, the key directory of old stations.
SKIPPED_DIRS = ("wipestation-keys",)


@dataclass(frozen=True)
class Paper:
    """One signed paper as it lies on the target: its record, its exact bytes, its PDF."""

    record: Record
    json_bytes: bytes
    pdf_bytes: bytes | None


def json_files(root: Path) -> list[Path]:
    """Every ``*.json`` under ``root`` outside hidden and key directories, in a stable order."""
    out = []
    for path in root.rglob("*.json"):
        rel = path.relative_to(root).parts[:-1]
        if not any(p.startswith(".") or p in SKIPPED_DIRS for p in rel) and path.is_file():
            out.append(path)
    return sorted(out)


def _read(path: Path, cap: int) -> bytes | None:
    try:
        with path.open("rb") as f:
            data = f.read(cap + 1)
    except OSError as e:
        log.warning("store: %s not offered: %s", path, e.strerror or e)
        return None
    return data if len(data) <= cap else None


def paper_at(path: Path) -> Paper | None:
    """The signed paper in ``path`` (its PDF beside it, same stem), or None when it is not one."""
    data = _read(path, MAX_JSON_BYTES)
    if data is None:
        return None
    try:
        record = parse_object(data)
    except ReportError:
        return None
    if record.get("schema") not in OFFERED or not sound(data):
        return None
    pdf = path.with_suffix(".pdf")
    return Paper(record, data, _read(pdf, MAX_PDF_BYTES) if pdf.is_file() else None)


def sound(data: bytes) -> bool:
    """Signed, and byte for byte what was signed (integrity only: whose key is the office's
    question, ``lot reconcile --trust``)."""
    from wipestation.reports.sign import verify_bytes  # OpenSSL: only when papers are read

    return verify_bytes(data).ok


class Backlog:
    """A report target's papers still to offer, taken in batches of a byte budget: every
    offered body waits in RAM until the store takes it, and a stick of 10,000 records holds
    ~700 MiB of them."""

    def __init__(self, root: Path) -> None:
        self.files = [p.relative_to(root) for p in json_files(root)]

    def __len__(self) -> int:
        return len(self.files)

    def take(self, root: Path, budget: int) -> list[Paper]:
        """The next papers under ``root``, at least one file's and about ``budget`` bytes."""
        out: list[Paper] = []
        size = 0
        while self.files and (size < budget or not out):
            paper = paper_at(root / self.files.pop(0))
            if paper is not None:
                out.append(paper)
                size += len(paper.json_bytes) + len(paper.pdf_bytes or b"")
        return out


def papers(root: Path) -> Iterator[Paper]:
    """Every signed paper under ``root`` (a report target's root, or the RAM papers)."""
    for path in json_files(root):
        paper = paper_at(path)
        if paper is not None:
            yield paper
