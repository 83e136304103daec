"""Records that cannot silently disappear: each station's records form a numbered hash chain.

Every record a station delivers carries ``chain: {"sequence": N, "previous_sha256": H}``: N
counts that station key's records from 1, and H is the ``signature.record_sha256`` of its
record N-1 ("" for N = 1). Both sit inside the signed record, so nobody can renumber a record
or relink it without breaking its signature.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from wipestation.reports.record import Record, record_hash

GAP, FORK, REPLACED, UNCHAINED = "gap", "fork", "replaced", "unchained"


@dataclass(frozen=True)
class ChainProblem:
    """One thing wrong with a station's chain, for a person to read (``str(problem)``).

    ``kind``: ``"gap"`` (sequence numbers missing between two present ones: records deleted),
    ``"fork"`` (two different records with one sequence number), ``"replaced"`` (a record's
    hash is not the ``previous_sha256`` its successor names: it was swapped for another), or
    ``"unchained"`` (a record without a usable ``chain`` field). ``names`` are the names the
    caller gave the records involved (for a gap: the records on either side of it);
    ``sequences`` the sequence numbers concerned (for a gap: every missing one).
    """

    kind: str
    key_fingerprint: str
    station: str
    sequences: tuple[int, ...]
    names: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "key_fingerprint": self.key_fingerprint,
            "station": self.station,
            "sequences": list(self.sequences),
            "names": list(self.names),
            "message": self.message,
        }


@dataclass(frozen=True)
class ChainLink:
    """One record's place in its station's chain, however the caller read the record.

    ``name`` is how problems call it (a file path); ``sha256`` its ``signature.record_sha256``.
    """

    name: str
    key_fingerprint: str
    station: str
    sequence: int
    previous_sha256: str
    sha256: str


def _signer(record: Record) -> tuple[str, str]:
    """(signing key fingerprint or "", station id or "?") of a record."""
    sig, station = record.get("signature"), record.get("station")
    fp = str(sig.get("key_fingerprint", "")) if isinstance(sig, dict) else ""
    return fp, str(station.get("id", "?")) if isinstance(station, dict) else "?"


def link_of(name: str, record: Record) -> ChainLink | None:
    """The record's chain link; None when it carries no usable ``chain`` or signing key."""
    chain, (fp, sid) = record.get("chain"), _signer(record)
    if not isinstance(chain, dict) or not fp:
        return None
    seq, prev = chain.get("sequence"), chain.get("previous_sha256")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1 or not isinstance(prev, str):
        return None
    return ChainLink(name, fp, sid, seq, prev, record_hash(record))


def _span(seqs: tuple[int, ...]) -> str:
    return str(seqs[0]) if len(seqs) == 1 else f"{seqs[0]}-{seqs[-1]}"


def _check_station(fp: str, station: str, links: list[ChainLink]) -> list[ChainProblem]:
    who = f"station {station} (key {fp})"
    by_seq: dict[int, dict[str, ChainLink]] = defaultdict(dict)
    for ln in links:  # identical copies (same hash) are one record
        by_seq[ln.sequence].setdefault(ln.sha256, ln)
    out: list[ChainProblem] = []
    seqs = sorted(by_seq)
    for seq in seqs:
        if len(by_seq[seq]) > 1:
            names = tuple(sorted(ln.name for ln in by_seq[seq].values()))
            msg = f"fork: {who} has {len(names)} different records numbered {seq}: " + ", ".join(
                names
            )
            out.append(ChainProblem(FORK, fp, station, (seq,), names, msg))
    for a, b in zip(seqs, seqs[1:], strict=False):
        before, after = by_seq[a], by_seq[b]
        if b > a + 1:
            missing = tuple(range(a + 1, b))
            names = (min(ln.name for ln in before.values()), min(ln.name for ln in after.values()))
            msg = (
                f"gap: {who} record(s) {_span(missing)} missing (deleted?) between "
                f"{names[0]} and {names[1]}"
            )
            out.append(ChainProblem(GAP, fp, station, missing, names, msg))
        elif len(before) == 1 and len(after) == 1:
            (prev,), (nxt,) = before.values(), after.values()
            if nxt.previous_sha256 != prev.sha256:
                msg = (
                    f"replaced: {who} record {a} ({prev.name}) is not the one record {b} "
                    f"({nxt.name}) follows: it was replaced"
                )
                out.append(ChainProblem(REPLACED, fp, station, (a, b), (prev.name, nxt.name), msg))
    return out


def check_links(links: Iterable[ChainLink]) -> list[ChainProblem]:
    """Gaps, forks and replaced records in the station chains ``links`` describe.

    Links are grouped per signing key (one key is one station); give links only of records
    whose signatures you verified against trusted keys: this checks numbering and links only.
    The same record found twice (same hash, a copy on another stick) counts once. Problems are
    sorted by key, then sequence. A gap is only seen between two present records: records
    before the lowest number given (earlier sticks) or after the highest are not expected.
    """
    groups: dict[str, list[ChainLink]] = defaultdict(list)
    for link in links:
        groups[link.key_fingerprint].append(link)
    out: list[ChainProblem] = []
    for fp in sorted(groups):
        found = _check_station(fp, groups[fp][0].station, groups[fp])
        out += sorted(found, key=lambda p: p.sequences[0])
    return out


def check_chain(records: Iterable[tuple[str, Record]]) -> list[ChainProblem]:
    """Problems in the station chains of ``records``; a record without a chain is one too.

    Args:
        records: ``(name, record)`` pairs — name is how you want the record called in the
            problems (usually its file path); the record is the parsed JSON, its signature
            already verified (see ``check_links``). Records of several stations may be mixed.

    Returns:
        ``unchained`` problems first (in the order given), then ``check_links``' problems;
        empty when every chain is whole.
    """
    links: list[ChainLink] = []
    out: list[ChainProblem] = []
    for name, record in records:
        link = link_of(name, record)
        if link is None:
            fp, sid = _signer(record)
            msg = f"unchained: {name} carries no record chain (sequence, previous_sha256)"
            out.append(ChainProblem(UNCHAINED, fp, sid, (), (name,), msg))
        else:
            links.append(link)
    return out + check_links(links)
