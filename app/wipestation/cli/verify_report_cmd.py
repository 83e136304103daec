"""``wipestation verify-report FILE.json...``: is this exactly what a station signed, and which?

Two questions, kept apart. *Integrity*: the file is byte for byte what some key signed. *Origin*:
that key is one you enrolled — given with ``--trust FILE`` (a station identity file or PEM
public key) or ``--fingerprint FP``, never taken from beside the records. Without an anchor only
integrity is checked, and the output says so; ``--origin`` makes that an error. ``--chain DIR``
also checks every station's record chain under DIR for deleted, forked or replaced records.

Exit 0 when every file passed; 1 when one did not (or a chain has a problem); 2 on bad usage.
Every bad file gets one line and the others are still checked.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wipestation.errors import ReportError
from wipestation.reports.chain import check_chain
from wipestation.reports.readrecord import read_capped
from wipestation.reports.record import SCHEMA_ID, Record
from wipestation.reports.sign import Verdict, verify_bytes
from wipestation.reports.trust import TrustAnchors, load_trust

INTEGRITY_ONLY = (
    "integrity checked only, not origin: no trusted station key was given "
    "(--trust IDENTITY-or-PEM / --fingerprint FP)"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="*", metavar="FILE.json", help="record(s) to check")
    p.add_argument(
        "--trust",
        action="append",  # one per option: a list would swallow the records after it
        default=[],
        metavar="FILE",
        help="trust this station: its identity file or PEM public key (repeatable)",
    )
    p.add_argument(
        "--fingerprint",
        action="append",
        default=[],
        metavar="FP",
        help="trust this key fingerprint (as printed on the certificate; repeatable)",
    )
    p.add_argument(
        "--origin",
        action="store_true",
        help="fail unless every record is signed by a trusted key",
    )
    p.add_argument(
        "--chain",
        action="append",
        default=[],
        metavar="DIR",
        help="also check every station's record chain in DIR (searched recursively)",
    )


def run(args: argparse.Namespace) -> int:
    if not args.files and not args.chain:
        print("wipestation: error: give FILE.json or --chain DIR", file=sys.stderr)
        return 2
    try:
        trust = load_trust([Path(f) for f in args.trust], args.fingerprint)
    except ReportError as e:
        print(f"wipestation: error: {e}", file=sys.stderr)
        return 2
    if args.origin and not trust.given:
        print(f"wipestation: error: --origin: {INTEGRITY_ONLY}", file=sys.stderr)
        return 2
    worst = 0
    for name in args.files:
        worst = max(worst, check(Path(name), trust)[0])
    for directory in args.chain:
        worst = max(worst, check_directory(Path(directory), trust))
    if not trust.given:
        print(f"note: {INTEGRITY_ONLY}", file=sys.stderr)
    return worst


def describe(record: Record) -> str:
    schema = record.get("schema")
    if schema == SCHEMA_ID:
        d = record["drive"]
        serial = d.get("serial") or f"(no serial; identity {d.get('identity')})"
        chain = record.get("chain") or {}
        seq = f" #{chain['sequence']}" if isinstance(chain.get("sequence"), int) else ""
        return f"{serial} {record['result']['status']}{seq}"
    if schema == "wipestation.identity/1":
        return f"identity of station {record.get('station', {}).get('id', '?')}"
    if schema == "wipestation.computer/1":  # custody/computer_record.py
        serial = (record.get("host") or {}).get("serial") or "unknown"
        n = len(record["drives"])
        return f"computer S/N {serial} {record['status']} ({n} internal drives)"
    return str(schema or "record")[:60]


def check(path: Path, trust: TrustAnchors) -> tuple[int, Verdict | None]:
    """Verify one file, print one line; (exit status, verdict of a file that verified)."""
    try:
        v = verify_bytes(read_capped(path), trust.fingerprints)
        if not v.ok:
            raise ReportError(v.reason)
        assert v.record is not None
        what = describe(v.record)
    except (ReportError, KeyError, TypeError, AttributeError) as e:
        print(f"{path}: FAILED: {e}", file=sys.stderr)
        return 1, None
    whose = "trusted key" if trust.given else "key (origin not checked)"
    print(f"{path}: OK: {what}, signed by {whose} {v.fingerprint} ({v.protection})")
    return 0, v


def check_directory(directory: Path, trust: TrustAnchors) -> int:
    """Every drive record under ``directory`` verified, then its station chains checked."""
    if not directory.is_dir():
        print(f"{directory}: FAILED: not a directory", file=sys.stderr)
        return 1
    worst, good = 0, []
    for path in sorted(directory.rglob("*.json")):
        if any(part.startswith(".") for part in path.relative_to(directory).parts):
            continue  # journals, temp files
        status, v = check(path, trust)
        worst = max(worst, status)
        if v is not None and v.record is not None and v.record.get("schema") == SCHEMA_ID:
            good.append((str(path), v.record))
    problems = check_chain(good)
    for problem in problems:
        print(f"{directory}: CHAIN: {problem}", file=sys.stderr)
    if not problems:
        print(f"{directory}: chain OK: {len(good)} record(s), no gap, fork or replaced record")
    return max(worst, 1 if problems else 0)
