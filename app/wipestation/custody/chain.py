"""Each station's record chain: a deleted record (gap), two records with one number (fork), or a
record replaced under its successor (broken link), named so an auditor can find them.

Records carry ``sequence`` and ``previous_sha256`` (top level or in a ``chain`` object) once the
station numbers them; records without them are not checked (an empty list, not a pass). The
chain is per signing key: one key is one station. Numbers below the lowest one seen are not gaps:
those records may simply be on a stick that was not given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from wipestation.custody.records import FoundRecord

GAP, FORK, BROKEN = "gap", "fork", "broken-link"


@dataclass(frozen=True)
class ChainIssue:
    kind: str  # gap | fork | broken-link
    station: str  # station id (and key fingerprint) the chain belongs to
    sequence: int
    detail: str
    files: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "station": self.station,
            "sequence": self.sequence,
            "detail": self.detail,
            "files": list(self.files),
        }


def chain_issues(records: Iterable[FoundRecord]) -> list[ChainIssue]:
    by_key: dict[str, dict[int, dict[str, FoundRecord]]] = defaultdict(lambda: defaultdict(dict))
    for r in records:
        if r.sequence is not None:
            by_key[r.key_fingerprint][r.sequence].setdefault(r.record_sha256, r)
    issues: list[ChainIssue] = []
    for key, numbered in sorted(by_key.items()):
        issues += _check_station(key, numbered)
    return issues


def _check_station(key: str, numbered: dict[int, dict[str, FoundRecord]]) -> list[ChainIssue]:
    any_record = next(iter(next(iter(numbered.values())).values()))
    who = f"{any_record.station or '?'} (key {key})"
    issues: list[ChainIssue] = []
    seqs = sorted(numbered)
    for missing in sorted(set(range(seqs[0], seqs[-1] + 1)) - set(seqs)):
        issues.append(
            ChainIssue(GAP, who, missing, f"record {missing} of {who} is missing (deleted?)")
        )
    for seq in seqs:
        versions = numbered[seq]
        if len(versions) > 1:
            files = tuple(sorted(r.file for r in versions.values()))
            issues.append(
                ChainIssue(
                    FORK, who, seq, f"{len(versions)} different records numbered {seq}", files
                )
            )
        before = numbered.get(seq - 1)
        if before and len(before) == 1 and len(versions) == 1:
            prev = next(iter(before.values()))
            this = next(iter(versions.values()))
            if this.previous_sha256 and this.previous_sha256 not in (
                prev.record_sha256,
                prev.file_sha256,
            ):
                issues.append(
                    ChainIssue(
                        BROKEN,
                        who,
                        seq,
                        f"record {seq} does not follow record {seq - 1} (replaced?)",
                        (prev.file, this.file),
                    )
                )
    return issues
