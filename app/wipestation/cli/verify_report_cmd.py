"""``wipestation verify-report FILE.json``: is this record exactly what a station signed?

Exit 0 only for an untouched record; 1 with the reason otherwise. The fingerprint printed must
match the one on the certificate (or pass ``--keys DIR`` / ``--fingerprint`` to check it here):
a valid signature by an unknown key proves nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wipestation.reports.record import display_serial
from wipestation.reports.sign import trusted_from_dir, verify_bytes


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE.json", help="record(s) to check")
    p.add_argument(
        "--keys",
        metavar="DIR",
        help="trust only station keys found here (the stick's wipestation-keys directory)",
    )
    p.add_argument(
        "--fingerprint",
        action="append",
        default=[],
        metavar="FP",
        help="trust only this key fingerprint (as printed on the certificate; repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    trusted = tuple(args.fingerprint)
    if args.keys:
        trusted += trusted_from_dir(args.keys)
        if not trusted:
            print(f"wipestation: error: no station keys in {args.keys}", file=sys.stderr)
            return 2
    worst = 0
    for name in args.files:
        worst = max(worst, check(Path(name), trusted))
    return worst


def check(path: Path, trusted: tuple[str, ...]) -> int:
    try:
        data = path.read_bytes()
    except OSError as e:
        print(f"{path}: FAILED: cannot read ({e.strerror})", file=sys.stderr)
        return 1
    v = verify_bytes(data, trusted)
    if not v.ok:
        print(f"{path}: FAILED: {v.reason}", file=sys.stderr)
        return 1
    assert v.record is not None
    status = v.record["result"]["status"]
    print(f"{path}: OK: {display_serial(v.record)} {status}, signed by key {v.fingerprint}")
    return 0
