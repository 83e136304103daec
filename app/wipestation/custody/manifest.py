"""The customer's manifest: the drives handed over, read from a spreadsheet's CSV export.

Why a small parser of our own rather than ``csv``: a malformed manifest must be refused with the
exact line and column of the fault (an unterminated quote, a stray quote, a value under no
header), and ``csv`` reports neither. What spreadsheets write is accepted: UTF-8 with or without
a BOM, comma or semicolon (decided from the header line), CRLF, quoted fields with commas,
quotes and line breaks, blank lines, and trailing empty columns. Nothing is half-loaded: the
whole file parses or one ``ManifestError`` is raised. Duplicates are never merged silently.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from wipestation.errors import WipestationError

#: Column names the manifest understands (after normalisation: lower case, ``_`` for space/-).
COLUMNS = ("serial", "asset_tag", "model", "size", "note")
#: Common spellings in customers' spreadsheets, normalised → column.
ALIASES = {"serial_number": "serial", "serialnumber": "serial", "sn": "serial",
           "assettag": "asset_tag", "asset": "asset_tag", "tag": "asset_tag",
           "notes": "note", "capacity": "size"}  # fmt: skip
#: Where a stick keeps manifests besides its top level (the station copies both from its boot
#: stick and offers both at the start of a shift).
MANIFESTS = "manifests"
MAX_BYTES = 16 * 1024 * 1024  # a manifest of 100 000 drives is ~5 MB; more is not a manifest

_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4, "p": 1000**5}
_SIZE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:([kmgtp])(i?)b?|b|bytes?)", re.IGNORECASE)


class ManifestError(WipestationError):
    """The manifest cannot be used; the message names the file, line and column."""

    def __init__(self, source: str, line: int, column: int, reason: str) -> None:
        self.source, self.line, self.column, self.reason = source, line, column, reason
        super().__init__(f"{source}: line {line}, column {column}: {reason}")


class DuplicateEntriesError(ManifestError):
    """Entries that name the same drive; every duplicate is listed with its lines."""

    def __init__(self, source: str, duplicates: list[tuple[str, tuple[int, ...]]]) -> None:
        self.duplicates = duplicates
        first = duplicates[0][1][1]
        listed = "; ".join(f"{what} on lines {', '.join(map(str, ln))}" for what, ln in duplicates)
        super().__init__(source, first, 1, f"duplicate entries: {listed}")


@dataclass(frozen=True)
class ManifestEntry:
    """One drive the customer handed over, as the manifest names it."""

    line: int
    serial: str = ""
    asset_tag: str = ""
    model: str = ""
    size: str = ""
    note: str = ""
    #: ``size`` in bytes (None when the manifest gives none)
    size_bytes: int | None = None
    #: whether ``size`` was given to the byte (exact) or in rounded units
    size_exact: bool = False

    @property
    def label(self) -> str:
        """How a person names this entry: its serial, else its asset tag."""
        return self.serial or f"asset tag {self.asset_tag}"


@dataclass(frozen=True)
class Manifest:
    source: str
    entries: tuple[ManifestEntry, ...]
    #: SHA-256 of the file as read, so the lot record names exactly which manifest it used
    sha256: str = ""


@dataclass(frozen=True)
class _Cell:
    text: str
    line: int
    column: int


def load_manifest(path: str | Path) -> Manifest:
    """Read and check a manifest file (see the module docstring for what is accepted)."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise ManifestError(str(p), 0, 0, f"cannot read ({e.strerror or e})") from e
    if len(data) > MAX_BYTES:
        raise ManifestError(str(p), 0, 0, f"larger than {MAX_BYTES // 2**20} MiB")
    manifest = parse_manifest(data, str(p))
    return Manifest(manifest.source, manifest.entries, hashlib.sha256(data).hexdigest())


def parse_manifest(data: bytes, source: str) -> Manifest:
    text = _decode(data, source)
    rows = _tokenize(text, _delimiter(text), source)
    rows = [r for r in rows if any(c.text.strip() for c in r)]
    if not rows:
        raise ManifestError(source, 1, 1, "empty: expected a header line naming serial/asset_tag")
    columns = _header(rows[0], source)
    entries = tuple(_entry(row, columns, source) for row in rows[1:])
    _check_duplicates(entries, source)
    return Manifest(source, entries)


def _decode(data: bytes, source: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        before = data[: e.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise ManifestError(
            source, line, column, "not UTF-8 text (save the sheet as 'CSV UTF-8')"
        ) from e
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _delimiter(text: str) -> str:
    """Semicolon when the header line (the first non-blank one) has more of them than commas."""
    header = next((ln for ln in text.split("\n") if ln.strip()), "")
    return ";" if header.count(";") > header.count(",") else ","


def _tokenize(text: str, delim: str, source: str) -> list[list[_Cell]]:
    """RFC 4180 fields with their line and column; quoted fields may span lines."""
    rows: list[list[_Cell]] = []
    row: list[_Cell] = []
    i, line, col, n = 0, 1, 1, len(text)
    while i <= n:
        start_line, start_col = line, col
        buf: list[str] = []
        if i < n and text[i] == '"':
            i, col = i + 1, col + 1
            while True:
                if i >= n:
                    raise ManifestError(source, start_line, start_col, "quoted field never closed")
                ch = text[i]
                if ch == '"' and i + 1 < n and text[i + 1] == '"':
                    buf.append('"')
                    i, col = i + 2, col + 2
                elif ch == '"':
                    i, col = i + 1, col + 1
                    break
                else:
                    buf.append(ch)
                    i += 1
                    line, col = (line + 1, 1) if ch == "\n" else (line, col + 1)
            if i < n and text[i] not in (delim, "\n"):
                raise ManifestError(
                    source, line, col, f"unexpected {text[i]!r} after a closing quote"
                )
        else:
            while i < n and text[i] not in (delim, "\n"):
                if text[i] == '"':
                    raise ManifestError(
                        source,
                        line,
                        col,
                        "a quote inside an unquoted field (quote the whole field)",
                    )
                buf.append(text[i])
                i, col = i + 1, col + 1
        row.append(_Cell("".join(buf), start_line, start_col))
        if i >= n:
            rows.append(row)
            break
        if text[i] == "\n":
            rows.append(row)
            row = []
            line, col = line + 1, 1
        else:
            col += 1
        i += 1
        if i == n and text[i - 1] == "\n":
            break
    return rows


def _normal(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    return ALIASES.get(key, key)


def _header(cells: list[_Cell], source: str) -> list[str | None]:
    """Column name per position: '' for a named column we ignore, None for a blank header."""
    names: list[str | None] = []
    for c in cells:
        name = _normal(c.text)
        if name in COLUMNS and name in names:
            raise ManifestError(source, c.line, c.column, f"column {c.text.strip()!r} twice")
        names.append(None if not name else name if name in COLUMNS else "")
    if "serial" not in names and "asset_tag" not in names:
        c = cells[0]
        raise ManifestError(
            source,
            c.line,
            c.column,
            "the header names neither a 'serial' nor an 'asset_tag' column",
        )
    return names


def _entry(row: list[_Cell], columns: list[str | None], source: str) -> ManifestEntry:
    padded: list[str | None] = [*columns, *[None] * (len(row) - len(columns))]
    for name, c in zip(padded, row, strict=False):
        if name is None and c.text.strip():
            raise ManifestError(source, c.line, c.column, f"value {c.text!r} under no header")
    values = {name: c for name, c in zip(columns, row, strict=False) if name}
    text = {k: " ".join(v.text.split()) for k, v in values.items()}
    first = row[0]
    if not text.get("serial") and not text.get("asset_tag"):
        raise ManifestError(
            source, first.line, first.column, "an entry with neither serial nor asset tag"
        )
    size_bytes, exact = None, False
    if text.get("size"):
        cell = values["size"]
        size_bytes, exact = parse_size(text["size"], source, cell.line, cell.column)
    return ManifestEntry(
        line=first.line,
        serial=text.get("serial", ""),
        asset_tag=text.get("asset_tag", ""),
        model=text.get("model", ""),
        size=text.get("size", ""),
        note=text.get("note", ""),
        size_bytes=size_bytes,
        size_exact=exact,
    )


def parse_size(text: str, source: str = "", line: int = 0, column: int = 0) -> tuple[int, bool]:
    """Bytes (``500107862016``, ``500 107 862 016``) or units (``500GB``, ``1,5 TB``, ``16MiB``).

    Returns (bytes, exact): a byte count is exact; a size in units is as rounded as the label it
    was copied from. A bare small number (``500``) is refused: bytes or gigabytes, nobody knows.
    """
    t = text.strip()
    if re.fullmatch(r"\d+|\d{1,3}(?:[ .,'_]\d{3})+", t):
        count = int(re.sub(r"\D", "", t))
        if count < 10**6:
            raise ManifestError(source, line, column, f"size {text!r} has no unit (e.g. 500GB)")
        return count, True
    m = _SIZE.fullmatch(t)
    if not m:
        raise ManifestError(source, line, column, f"size {text!r} is not a size (e.g. 500GB)")
    number = float(m.group(1).replace(",", "."))
    unit = (m.group(2) or "").lower()
    base = 1024 ** " kmgtp".index(unit) if m.group(3) and unit else _UNITS[unit]
    return int(number * base), False


def _check_duplicates(entries: tuple[ManifestEntry, ...], source: str) -> None:
    """Same asset tag twice, or the same serial with nothing (model, size) to tell them apart."""
    tags: dict[str, list[int]] = defaultdict(list)
    serials: dict[str, list[ManifestEntry]] = defaultdict(list)
    for e in entries:
        if e.asset_tag:
            tags[e.asset_tag.casefold()].append(e.line)
        if e.serial:
            serials[e.serial.casefold()].append(e)
    dups: list[tuple[str, tuple[int, ...]]] = []
    reported: set[int] = set()
    for tag_lines in tags.values():
        if len(tag_lines) > 1:
            tag = next(e.asset_tag for e in entries if e.line == tag_lines[0])
            dups.append((f"asset tag {tag!r}", tuple(tag_lines)))
    for same in serials.values():
        for i, a in enumerate(same):
            twins = [b for b in same[i + 1 :] if not distinguishable(a, b)]
            if twins and a.line not in reported:
                lines = (a.line, *(b.line for b in twins))
                reported.update(lines)
                dups.append((f"serial {a.serial!r} (model/size do not tell them apart)", lines))
    if dups:
        raise DuplicateEntriesError(source, sorted(dups, key=lambda d: d[1]))


def distinguishable(a: ManifestEntry, b: ManifestEntry) -> bool:
    """Two entries with one serial are two drives when both give a model or a size that differ."""
    models = a.model and b.model and a.model.casefold() != b.model.casefold()
    sizes = a.size_bytes and b.size_bytes and not size_matches(a, b.size_bytes)
    return bool(models or sizes)


def size_matches(entry: ManifestEntry, size_bytes: int) -> bool:
    """An exact size must be equal; a size in units within 2 % (labels round: 500GB, 512GiB)."""
    if entry.size_bytes is None:
        return True
    if entry.size_exact:
        return entry.size_bytes == size_bytes
    return abs(entry.size_bytes - size_bytes) <= 0.02 * max(entry.size_bytes, 1)
