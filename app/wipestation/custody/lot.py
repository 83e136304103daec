"""A lot and its reconciliation: which manifest entries have proof, which do not, what else came.

Matching rules (one place, tested in tests/custody/test_lot.py):

- **Serial** (the drive's firmware serial, case-insensitive) matches the entries with that
  serial; when more than one does, their model and size tell them apart.
- **Asset tag** matches the entry with that tag, unless both sides have a serial and the
  serials differ (the firmware decides; the record is then unexpected and says why).
- A record that serial and tag point to different entries, or that stays ambiguous, matches
  nothing and is listed as unexpected with the reason: never guessed.
- A drive wiped twice lists every record; the last outcome (by time) counts, except that a
  destruction record is final. An entry is done with a PASS or a destruction record.
- With a lot id, records of other lots are passed over; records with no lot id count only when
  they match an entry (a station that was not told the lot still wiped the customer's drive).

The lot is COMPLETE only when every manifest entry is done (and, without a manifest, every drive
seen). Record-chain problems (``reports/chain.py``) are reported beside it, for a person to judge.

Records signed by a per-boot key nobody enrolled (``sources.Unenrolled``) are *unenrolled*: listed
apart, never counted, and the lot is INCOMPLETE while any of this lot is left undecided; told to
accept them (``accept_ephemeral``) they count like any other, and how many did is said.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from wipestation.custody.manifest import Manifest, ManifestEntry, size_matches
from wipestation.custody.records import DESTROYED, MISSING, PASS, FoundRecord, moment
from wipestation.custody.sources import Rejected, Unenrolled
from wipestation.discovery.identity import serial_keys
from wipestation.reports.chain import ChainLink, ChainProblem, check_links

COMPLETE, INCOMPLETE = "COMPLETE", "INCOMPLETE"


@dataclass(frozen=True)
class Lot:
    """A customer's batch of drives; the metadata not given is filled from its records."""

    lot_id: str = ""
    customer: str = ""
    operators: tuple[str, ...] = ()
    stations: tuple[str, ...] = ()
    opened_at: str = ""
    closed_at: str = ""
    manifest: Manifest | None = None

    def filled_from(self, records: Sequence[FoundRecord]) -> Lot:
        ordered = sorted(records, key=lambda r: moment(r.when))
        customers = Counter(r.customer for r in records if r.customer)
        lots = {r.lot_id for r in records if r.lot_id}
        return replace(
            self,
            lot_id=self.lot_id or (lots.pop() if len(lots) == 1 else ""),
            customer=self.customer or (customers.most_common(1)[0][0] if customers else ""),
            operators=self.operators or tuple(sorted({r.operator for r in records if r.operator})),
            stations=self.stations or tuple(sorted({r.station for r in records if r.station})),
            opened_at=self.opened_at or (ordered[0].when if ordered else ""),
        )


@dataclass(frozen=True)
class EntryResult:
    """One manifest entry and every record that proves something about it (oldest first)."""

    entry: ManifestEntry
    records: tuple[FoundRecord, ...]
    notes: tuple[str, ...] = ()

    @property
    def deciding(self) -> FoundRecord | None:
        """The record whose outcome counts: a destruction, else the last one."""
        destroyed = [r for r in self.records if r.outcome == DESTROYED]
        chosen = destroyed or list(self.records)
        return chosen[-1] if chosen else None

    @property
    def outcome(self) -> str:
        r = self.deciding
        return r.outcome if r else MISSING

    @property
    def done(self) -> bool:
        return self.outcome in (PASS, DESTROYED)


@dataclass(frozen=True)
class Unexpected:
    record: FoundRecord
    reason: str


@dataclass(frozen=True)
class Reconciliation:
    lot: Lot
    entries: tuple[EntryResult, ...]  # in manifest order
    unexpected: tuple[Unexpected, ...]
    rejected: tuple[Rejected, ...]
    chain_gaps: tuple[ChainProblem, ...]
    #: verified records of other lots (or of none, matching no entry), passed over
    passed_over: int = 0
    #: records of this lot signed by a per-boot key nobody enrolled: not counted (the reason
    #: says which manifest entry each would prove)
    unenrolled: tuple[Unexpected, ...] = ()
    #: records counted only because per-boot keys were accepted (``--accept-ephemeral``)
    accepted_ephemeral: int = 0

    def count(self, outcome: str) -> int:
        return sum(1 for e in self.entries if e.outcome == outcome)

    @property
    def not_done(self) -> tuple[EntryResult, ...]:
        return tuple(e for e in self.entries if not e.done)

    @property
    def missing(self) -> tuple[EntryResult, ...]:
        return tuple(e for e in self.entries if not e.records)

    @property
    def status(self) -> str:
        """Without a manifest: every drive seen is done by its deciding record (a drive that
        failed and then passed is done)."""
        seen = last_by_drive(u.record for u in self.unexpected).values()
        extra_ok = self.lot.manifest is not None or all(r.done for r in seen)
        decided = not self.unenrolled  # a record nobody vouches for awaits a person
        return COMPLETE if not self.not_done and extra_ok and decided else INCOMPLETE


def last_by_drive(records: Iterable[FoundRecord]) -> dict[str, FoundRecord]:
    """Each drive's deciding record, by drive identity: a destruction, else the last one."""
    out: dict[str, FoundRecord] = {}
    for r in sorted(records, key=lambda r: moment(r.when)):
        if out.get(r.identity, r).outcome != DESTROYED or r.outcome == DESTROYED:
            out[r.identity] = r
    return out


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _tells_apart(entry: ManifestEntry, rec: FoundRecord) -> bool:
    """The record's model and size agree with what the entry gives."""
    model_ok = not entry.model or not rec.model or _fold(entry.model) in _fold(rec.model)
    size_ok = rec.size_bytes is None or size_matches(entry, rec.size_bytes)
    return model_ok and size_ok


def _serials_differ(a: str, b: str) -> bool:
    """Both name a drive, and not the same one (raw or udev-escaped, ``serial_keys``)."""
    ka, kb = serial_keys(a), serial_keys(b)
    return bool(ka and kb and not ka & kb)


def _by_serial(entries: Sequence[ManifestEntry], rec: FoundRecord) -> list[ManifestEntry]:
    keys = serial_keys(rec.serial)
    if not keys:
        return []
    same = [e for e in entries if keys & serial_keys(e.serial)]
    return same if len(same) <= 1 else [e for e in same if _tells_apart(e, rec)]


def _by_tag(entries: Sequence[ManifestEntry], rec: FoundRecord) -> list[ManifestEntry]:
    if not rec.asset_tag:
        return []
    return [e for e in entries if e.asset_tag and _fold(e.asset_tag) == _fold(rec.asset_tag)]


def match(entries: Sequence[ManifestEntry], rec: FoundRecord) -> ManifestEntry | str:
    """The entry this record is about, or why it is about none."""
    serial, tag = _by_serial(entries, rec), _by_tag(entries, rec)
    if len(serial) > 1:
        lines = ", ".join(str(e.line) for e in serial)
        return f"serial {rec.serial} matches manifest lines {lines} (model/size do not decide)"
    if len(tag) == 1 and _serials_differ(tag[0].serial, rec.serial):
        t = tag[0]
        return (
            f"asset tag {rec.asset_tag} is manifest line {t.line} (serial {t.serial}), "
            f"but this drive's serial is {rec.serial}"
        )
    if serial and tag and serial[0] != tag[0]:
        return (
            f"serial {rec.serial} is manifest line {serial[0].line} but asset tag "
            f"{rec.asset_tag} is line {tag[0].line}"
        )
    found = serial or tag
    return found[0] if found else "not on the manifest"


def _note(entry: ManifestEntry, rec: FoundRecord) -> str:
    if entry.asset_tag and rec.asset_tag and _fold(entry.asset_tag) != _fold(rec.asset_tag):
        theirs = entry.asset_tag
        return f"{rec.file}: asset tag {rec.asset_tag!r} differs from the manifest's {theirs!r}"
    return ""


def unique(records: Iterable[FoundRecord]) -> list[FoundRecord]:
    """One of each record: the same record copied to two sticks is one wipe, not two."""
    seen: dict[str, FoundRecord] = {}
    for r in records:
        seen.setdefault(r.record_sha256 or r.file, r)
    return list(seen.values())


def chain_links(records: Iterable[FoundRecord]) -> list[ChainLink]:
    """The chain links of the records that carry one: a record from before stations numbered
    their records has none, and is no chain problem in a lot (it proves its wipe all the same)."""
    return [
        ChainLink(
            r.file, r.key_fingerprint, r.station or "?", seq, r.previous_sha256, r.record_sha256
        )
        for r in records
        if (seq := r.sequence) is not None
    ]


def _foreign(lot: Lot, rec: FoundRecord, m: ManifestEntry | str) -> bool:
    """Another lot's record, or an untagged one that proves nothing in this lot."""
    foreign = bool(lot.lot_id) and rec.lot_id != lot.lot_id
    return foreign and (bool(rec.lot_id) or not isinstance(m, ManifestEntry))


def held_back(lot: Lot, records: Sequence[FoundRecord]) -> tuple[list[Unexpected], int]:
    """This lot's unenrolled records, each with the entry it would prove; and how many were
    another lot's (passed over, as their counted kin are)."""
    entries = lot.manifest.entries if lot.manifest else ()
    out: list[Unexpected] = []
    for rec in records:
        m = match(entries, rec)
        if not _foreign(lot, rec, m):
            would = f"manifest line {m.line}" if isinstance(m, ManifestEntry) else m
            out.append(Unexpected(rec, f"per-boot key not enrolled; would count for: {would}"))
    return sorted(out, key=lambda u: moment(u.record.when)), len(records) - len(out)


def reconcile(
    lot: Lot,
    records: Iterable[FoundRecord],
    rejected: Iterable[Rejected] = (),
    *,
    closed_at: str = "",
    unenrolled: Iterable[Unenrolled] = (),
    accept_ephemeral: bool = False,
) -> Reconciliation:
    """Match verified records to the lot's manifest (see the module docstring); unenrolled
    records count only with ``accept_ephemeral``."""
    pending = unique(u.record for u in unenrolled)
    accepted = {r.record_sha256 for r in pending} if accept_ephemeral else set()
    counting = [*records, *pending] if accept_ephemeral else records
    rec = _reconcile(lot, counting, rejected, closed_at)
    if accept_ephemeral:
        counted = [r for e in rec.entries for r in e.records] + [u.record for u in rec.unexpected]
        return replace(rec, accepted_ephemeral=sum(r.record_sha256 in accepted for r in counted))
    held, other_lots = held_back(lot, pending)
    return replace(rec, unenrolled=tuple(held), passed_over=rec.passed_over + other_lots)


def _reconcile(
    lot: Lot, records: Iterable[FoundRecord], rejected: Iterable[Rejected], closed_at: str
) -> Reconciliation:
    everything = unique(records)
    entries = lot.manifest.entries if lot.manifest else ()
    found: dict[int, list[FoundRecord]] = {e.line: [] for e in entries}
    notes: dict[int, list[str]] = {e.line: [] for e in entries}
    unexpected: list[Unexpected] = []
    passed_over = 0
    for rec in everything:
        m = match(entries, rec)
        if _foreign(lot, rec, m):
            passed_over += 1
        elif isinstance(m, ManifestEntry):
            found[m.line].append(rec)
            if note := _note(m, rec):
                notes[m.line].append(note)
        else:
            unexpected.append(Unexpected(rec, m))
    results = tuple(
        EntryResult(
            e, tuple(sorted(found[e.line], key=lambda r: moment(r.when))), tuple(notes[e.line])
        )
        for e in entries
    )
    counted = [r for e in results for r in e.records] + [u.record for u in unexpected]
    filled = replace(lot.filled_from(counted), closed_at=lot.closed_at or closed_at)
    return Reconciliation(
        lot=filled,
        entries=results,
        unexpected=tuple(sorted(unexpected, key=lambda u: moment(u.record.when))),
        rejected=tuple(rejected),
        chain_gaps=tuple(check_links(chain_links(everything))),
        passed_over=passed_over,
    )
