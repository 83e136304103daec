"""The lot at a station: scanned codes matched to drives and the manifest, and the lot's counts.

Plain Python, shared by every front end (the screen and the headless conveyor). A code — from a
barcode scanner (``tui/scan.py`` tells codes from key presses) or typed by hand — gets its
meaning from ``LotDesk.scan``: a present drive's serial or WWN selects that drive and checks its
label; a manifest entry's asset tag or serial links the highlighted drive to that entry; any other
code becomes the highlighted drive's asset tag. What the records need (asset tags, notes on a
label that disagrees with the firmware) it keeps in the mappings it was given, which the report
writer reads when it builds a drive's record.

The counts are those of the session's drives plus the lot's *prior* records (``prior``): the
signed records of this lot that earlier boots of this station left on the report target
(``custody.resume``), matched to the manifest the way the office does (``custody.lot.match``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from wipestation.custody.manifest import Manifest, ManifestEntry, load_manifest
from wipestation.custody.records import DESTROYED, FoundRecord, moment
from wipestation.discovery.identity import serial_keys
from wipestation.errors import WipestationError
from wipestation.model import Drive, JobResult
from wipestation.reports.writer import ReportWriter


def fold(code: str) -> str:
    """Codes compare without case and surrounding blanks (scanned or typed by hand)."""
    return code.strip().casefold()


@dataclass
class Custody:
    """What the station learned about one drive from its labels."""

    asset_tag: str = ""
    label_checked: bool = False
    entry: ManifestEntry | None = None
    #: The serial the drive's label (or its manifest entry) gives, when it is not the firmware's.
    label_serial: str = ""


@dataclass(frozen=True)
class ScanOutcome:
    """What a scan did, for the message line; ``select``: the drive to highlight."""

    text: str
    error: bool = False
    select: str = ""


@dataclass(frozen=True)
class LotCounts:
    expected: int
    passed: int
    failed: int
    destroyed: int
    running: int
    not_seen: int
    unlisted: int  # drives seen that are not on the manifest


@dataclass(frozen=True)
class DriveState:
    """One drive as the lot counts it: its last outcome, or whether it is being wiped now."""

    drive: Drive
    running: bool = False
    outcome: str = ""  # "PASS" | "FAIL" | "" (not finished)


@dataclass
class LotDesk:
    manifest: Manifest | None = None
    #: drive identity → asset tag; shared with the report writer (``ReportWriter.asset_tags``)
    asset_tags: dict[str, str] = field(default_factory=dict)
    #: drive identity → notes for its record; shared with the report writer
    notes: dict[str, list[str]] = field(default_factory=dict)
    custody: dict[str, Custody] = field(default_factory=dict)  # by drive identity
    #: everyone who signed in at this station for the lot, in order (the lot record names them)
    operators: list[str] = field(default_factory=list)
    #: identities of the drives recorded as physically destroyed (``tui/destruction.py``)
    destroyed: set[str] = field(default_factory=set)
    #: the lot's records from earlier boots of this station, verified (``custody.resume``);
    #: replaced whole when read again (a report stick arrived), never per refresh
    prior: list[FoundRecord] = field(default_factory=list)

    def sign_in(self, name: str) -> None:
        if name not in self.operators:
            self.operators.append(name)

    @property
    def entries(self) -> tuple[ManifestEntry, ...]:
        return self.manifest.entries if self.manifest else ()

    def of(self, drive: Drive) -> Custody:
        return self.custody.setdefault(drive.identity, Custody())

    # ---- scans --------------------------------------------------------------------------------
    def scan(self, code: str, drives: Sequence[Drive], highlighted: Drive | None) -> ScanOutcome:
        key = fold(code)
        drive = next((d for d in drives if key in _identities(d)), None)
        if drive is not None:
            return self._checked(drive)
        entry = self._entry(key)
        if highlighted is None or highlighted.protected:
            what = f"manifest line {entry.line}" if entry else "no drive and no manifest entry"
            return ScanOutcome(f"Scanned {code}: matches {what}; highlight a drive first.", True)
        if entry is not None:
            return self._link(highlighted, entry)
        return self._tag(highlighted, code.strip())

    def _checked(self, drive: Drive) -> ScanOutcome:
        self.of(drive).label_checked = True
        text = f"{drive.path}: label checked (S/N {drive.serial or drive.wwn})"
        entry = self.entry_of(drive)
        if entry is not None and self.of(drive).entry is None:
            self.of(drive).entry = entry
            text += f", manifest line {entry.line}"
        return ScanOutcome(text, select=drive.name)

    def _link(self, drive: Drive, entry: ManifestEntry) -> ScanOutcome:
        other = next((i for i, c in self.custody.items() if c.entry == entry), None)
        if other is not None and other != drive.identity:
            return ScanOutcome(f"Manifest line {entry.line} is linked to another drive.", True)
        c = self.of(drive)
        c.entry = entry
        text = f"{drive.path}: manifest line {entry.line} ({entry.label})"
        if entry.asset_tag:
            self._set_tag(drive, entry.asset_tag)
        if (
            entry.serial
            and not drive.serial_placeholder
            and not serial_keys(entry.serial) & serial_keys(drive.serial)
        ):
            c.label_serial = entry.serial
            self._note(drive, f"label serial {entry.serial}, firmware serial {drive.serial or '-'}")
            text += (
                f"; label S/N {entry.serial} is not the drive's S/N {drive.serial or '-'}: "
                "the entry stays open"
            )
            return ScanOutcome(text, error=True, select=drive.name)
        return ScanOutcome(text, select=drive.name)

    def _tag(self, drive: Drive, tag: str) -> ScanOutcome:
        self._set_tag(drive, tag)
        return ScanOutcome(f"{drive.path}: asset tag {tag}", select=drive.name)

    def adopt_tag(self, drive: Drive) -> str:
        """An unattended station scans nothing: a drive its manifest names (by serial) takes that
        entry's asset tag for its records and label; a tag already given wins. Returns the tag."""
        if drive.identity in self.asset_tags:
            return self.asset_tags[drive.identity]
        entry = self.entry_of(drive)
        if entry is None or not entry.asset_tag:
            return ""
        self._set_tag(drive, entry.asset_tag)
        return entry.asset_tag

    def _set_tag(self, drive: Drive, tag: str) -> None:
        self.of(drive).asset_tag = tag
        self.asset_tags[drive.identity] = tag

    def _note(self, drive: Drive, note: str) -> None:
        notes = self.notes.setdefault(drive.identity, [])
        if note not in notes:
            notes.append(note)

    def _entry(self, key: str) -> ManifestEntry | None:
        by_tag = [e for e in self.entries if e.asset_tag and fold(e.asset_tag) == key]
        by_serial = [e for e in self.entries if key in serial_keys(e.serial)]
        found = by_tag or by_serial
        return found[0] if len(found) == 1 else None

    # ---- the lot at a glance ------------------------------------------------------------------
    def entry_of(self, drive: Drive) -> ManifestEntry | None:
        """The drive's manifest entry: linked by a scan, else by serial, else by asset tag.

        A link whose label serial disagrees with the firmware is no match, as at the office
        (``custody.lot.match``): the entry stays open until someone resolves it."""
        linked = self.custody.get(drive.identity)
        if linked is not None and linked.label_serial:
            return None
        if linked is not None and linked.entry is not None:
            return linked.entry
        if not self.entries:  # no manifest: nothing to match (asked on every redraw)
            return None
        for key in sorted(serial_keys(drive.serial)):  # the raw serial or udev's escaped one
            if (e := self._entry(key)) is not None:
                return e
        tag = self.asset_tags.get(drive.identity, "")
        return self._entry(fold(tag)) if tag else None

    def prior_entries(self) -> tuple[dict[int, str], list[FoundRecord]]:
        """The earlier records: manifest line → its last outcome (a destruction is final), and
        the records that match no entry. Matched as the office matches (``custody.lot.match``)."""
        if not self.prior:
            return {}, []
        from wipestation.custody.lot import match  # verifying code: only with earlier records

        out: dict[int, str] = {}
        unmatched: list[FoundRecord] = []
        for rec in sorted(self.prior, key=lambda r: moment(r.when)):
            m = match(self.entries, rec)
            if not isinstance(m, ManifestEntry):
                unmatched.append(rec)
            elif out.get(m.line) != DESTROYED:
                out[m.line] = rec.outcome
        return out, unmatched

    def entry_states(self, drives: Iterable[DriveState]) -> dict[int, str]:
        """Manifest line → PASS | FAIL | DESTROYED | running | seen; lines not seen are absent.
        This session's drives come after the earlier records: their last outcome counts."""
        out, _ = self.prior_entries()
        for d in drives:
            entry = self.entry_of(d.drive)
            if entry is None or out.get(entry.line) == DESTROYED:
                continue
            now = "running" if d.running else d.outcome or "seen"
            if d.drive.identity in self.destroyed:
                now = "DESTROYED"
            if out.get(entry.line) in (None, "seen") or now != "seen":
                out[entry.line] = now
        return out

    def _by_drive(self, drives: Sequence[DriveState]) -> list[str]:
        """Without a manifest: each drive's state, earlier records first, this session last."""
        now: dict[str, str] = {}
        for rec in sorted(self.prior, key=lambda r: moment(r.when)):
            if now.get(rec.identity) != DESTROYED:
                now[rec.identity] = rec.outcome
        for d in drives:
            if now.get(d.drive.identity) == DESTROYED:
                continue
            if d.drive.identity in self.destroyed:
                now[d.drive.identity] = DESTROYED
            elif d.running or d.outcome or d.drive.identity not in now:
                now[d.drive.identity] = "running" if d.running else d.outcome
        return list(now.values())

    def unlisted_prior(self) -> list[FoundRecord]:
        """Earlier records of drives that are not on the manifest (one per drive, the last)."""
        if self.manifest is None:
            return []
        last = {
            r.identity: r for r in sorted(self.prior_entries()[1], key=lambda r: moment(r.when))
        }
        return list(last.values())

    def counts(self, drives: Sequence[DriveState]) -> LotCounts:
        states = self.entry_states(drives)
        values = list(states.values())
        if self.manifest is None:  # the drives of this lot, as they stand
            values = self._by_drive(drives)
        unlisted = {d.drive.identity for d in drives if self.entry_of(d.drive) is None}
        unlisted |= {r.identity for r in self.unlisted_prior()}
        return LotCounts(
            expected=len(self.entries),
            passed=values.count("PASS"),
            failed=values.count("FAIL"),
            destroyed=values.count("DESTROYED"),
            running=values.count("running"),
            not_seen=len(self.entries) - len(states),
            unlisted=len(unlisted) if self.manifest else 0,
        )

    def not_seen(self, drives: Sequence[DriveState]) -> list[ManifestEntry]:
        states = self.entry_states(drives)
        return [e for e in self.entries if e.line not in states]


def _identities(drive: Drive) -> set[str]:
    """What a scan of the drive's label may read: its serial (raw or as udev escaped it; never a
    placeholder, which names no drive) or its WWN."""
    return {*serial_keys(drive.serial), *({fold(drive.wwn)} if drive.wwn.strip() else ())}


def drive_states(
    present: Iterable[tuple[Drive, bool]], results: Mapping[str, JobResult]
) -> list[DriveState]:
    """Every drive of the session: the finished wipes (the last one counts) and the rows now.

    ``present``: (drive, running) for each row that is not protected."""
    last: dict[str, JobResult] = {}
    for r in sorted(results.values(), key=lambda r: r.ended_at or ""):
        last[r.drive.identity] = r
    states = {
        i: DriveState(r.drive, outcome="PASS" if r.passed else "FAIL") for i, r in last.items()
    }
    for drive, running in present:
        if running or drive.identity not in states:
            states[drive.identity] = DriveState(drive, running=running)
    return list(states.values())


def open_desk(manifest_path: str, writer: object) -> tuple[LotDesk, str]:
    """The station's lot desk, sharing its asset tags and notes with the report writer (when it
    is the real one); the second value is why the manifest could not be read, or ''."""
    desk = LotDesk()
    if isinstance(writer, ReportWriter):
        desk = LotDesk(asset_tags=writer.asset_tags, notes=writer.drive_notes)
    if not manifest_path:
        return desk, ""
    try:
        desk.manifest = load_manifest(manifest_path)
    except (WipestationError, OSError) as e:
        return desk, f"manifest not loaded: {e}"
    return desk, ""


def lot_line(lot_id: str, desk: LotDesk, counts: LotCounts) -> str:
    """The lot at a glance, one line ('' for a station with no lot and no manifest)."""
    if not lot_id and desk.manifest is None:
        return ""
    head = f"Lot {lot_id or '-'}"
    if desk.manifest is None:
        destroyed = f", {counts.destroyed} destroyed" if counts.destroyed else ""
        return f"{head}: no manifest; {counts.passed} passed, {counts.failed} failed{destroyed}"
    destroyed = f"{counts.destroyed} destroyed, " if counts.destroyed else ""
    return (
        f"{head}: {counts.expected} expected, {counts.passed} passed, {counts.failed} failed, "
        f"{destroyed}{counts.running} in progress, {counts.not_seen} not seen yet, "
        f"{counts.unlisted} not on the manifest"
    )
