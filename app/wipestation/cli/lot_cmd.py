"""``wipestation lot reconcile``: which of the customer's drives have proof, offline.

    wipestation lot reconcile --manifest FILE.csv [--lot ID] --trust FILE... SOURCE...
                              [--fingerprint FP] [--out DIR] [--json] [--accept-ephemeral]
                              [--store-endpoint URL] [--store-region R]
                              [--store-credentials-file FILE] [--store-ca FILE]

SOURCE directories (report sticks, copies from several stations) are searched recursively; every
record is verified against the trusted keys only (``reports/trust.py`` says what a ``--trust``
file may hold) and a record that fails is listed as rejected, never counted. ``--trust`` takes
files; what follows it that is not a file is a source, so ``--trust a.pub b.pub /media/stick``
works. A SOURCE ``s3://BUCKET/PREFIX`` is a floor's object store (``custody/store_source.py``):
its records go through the same verification; its endpoint, region and credentials come from
the ``--store-*`` options or the standard AWS environment variables, never a secret on the
command line. A record signed by a per-boot key that no trusted identity names (a netbooted
station without TPM or boot stick: ``key_protection: "ephemeral"``) is listed as UNENROLLED by
serial and key fingerprint, never counted, and keeps the lot incomplete; ``--accept-ephemeral``
counts such records (anyone can make such a key: the person reconciling decides), and the
summary says how many counted that way. With
``--out`` the signed lot record and the lot PDF are written there, signed with this machine's
own key (``--key-dir``, created on first use; its fingerprint is printed).

Exit status: 0 the lot is complete, 3 incomplete, 2 bad input (manifest, trust file, source).
Runs without root, on any machine with the package installed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from wipestation.custody.lot import COMPLETE, Lot, Reconciliation, reconcile
from wipestation.custody.manifest import ManifestError, load_manifest
from wipestation.custody.sources import Collected, SourceError, collect
from wipestation.custody.store_source import StoreOptions, collect_store, is_store, settings_for
from wipestation.reports.record import now_iso
from wipestation.reports.trust import TrustError, load_trust

EXIT_COMPLETE, EXIT_INCOMPLETE, EXIT_BAD_INPUT = 0, 3, 2


def default_key_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "wipestation" / "keys"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="lot_command", metavar="ACTION", required=True)
    r = sub.add_parser(
        "reconcile",
        help="match signed records to the customer's manifest; write the lot certificate",
        description="Match signed records to the customer's manifest; write the lot certificate.",
    )
    r.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help="directory of records (recursive), or a store: s3://BUCKET/PREFIX",
    )
    r.add_argument("--manifest", required=True, metavar="FILE.csv", help="the customer's manifest")
    r.add_argument(
        "--lot",
        default="",
        metavar="ID",
        help="only records of this lot (and untagged ones that match)",
    )
    r.add_argument(
        "--trust",
        nargs="+",
        action="extend",
        default=[],
        metavar="FILE",
        help="trusted station key: fingerprint file, PEM public key or station identity JSON",
    )
    r.add_argument(
        "--fingerprint",
        action="append",
        default=[],
        metavar="FP",
        help="trust this key fingerprint (as printed on the certificates; repeatable)",
    )
    r.add_argument(
        "--accept-ephemeral",
        action="store_true",
        help="count records signed by a key made at one boot (no TPM, no boot stick) that no "
        "trusted identity names; without it they are listed as unenrolled, not counted",
    )
    r.add_argument("--out", metavar="DIR", help="write the signed lot record and PDF here")
    r.add_argument("--json", action="store_true", help="print the summary as JSON")
    r.add_argument("--paper", choices=("A4", "Letter"), default="A4")
    r.add_argument(
        "--key-dir",
        metavar="DIR",
        help=f"this machine's signing key for lot records (default {default_key_dir()})",
    )
    r.add_argument("--signer", default="", metavar="NAME", help="key name (default: host name)")
    add_store_arguments(r)


def add_store_arguments(r: argparse.ArgumentParser) -> None:
    """For an ``s3://`` SOURCE; the secret only from a file or the environment."""
    g = r.add_argument_group(
        "s3:// sources (else AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID...)"
    )
    g.add_argument("--store-endpoint", default="", metavar="URL", help="http(s)://HOST[:PORT]")
    g.add_argument("--store-region", default="", metavar="REGION", help="default us-east-1")
    g.add_argument(
        "--store-credentials-file",
        default="",
        metavar="FILE",
        help="AWS credentials file ([default] aws_access_key_id, aws_secret_access_key)",
    )
    g.add_argument("--store-ca", default="", metavar="FILE", help="CA of the store's certificate")


def run(args: argparse.Namespace) -> int:
    try:
        return reconcile_cmd(args)
    except (ManifestError, SourceError, TrustError) as e:
        print(f"wipestation: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT


def split_sources(args: argparse.Namespace) -> tuple[list[str], list[Path], list[str]]:
    """``--trust`` files, and what followed them that is not a file (sources: a directory, or
    a path that does not exist, which is then reported as a missing source by name; or a
    store, ``s3://...``)."""
    files = [t for t in args.trust if Path(t).is_file()]
    named = [t for t in args.trust if not Path(t).is_file()] + list(args.sources)
    stores = [s for s in named if is_store(s)]
    return files, [Path(s) for s in named if not is_store(s)], stores


def collect_all(
    paths: list[Path], stores: list[str], trusted: tuple[str, ...], args: argparse.Namespace
) -> Collected:
    """Directories and stores alike; a record in both is one record (reconcile counts each
    record hash once)."""
    options = StoreOptions(
        args.store_endpoint, args.store_region, args.store_credentials_file, args.store_ca
    )
    parts = [collect(paths, trusted)] if paths else []
    for source in stores:
        parts.append(collect_store(settings_for(source, options, os.environ), args.lot, trusted))
    return Collected(
        tuple(r for c in parts for r in c.records),
        tuple(j for c in parts for j in c.rejected),
        tuple(u for c in parts for u in c.unenrolled),
    )


def reconcile_cmd(args: argparse.Namespace) -> int:
    trust_files, sources, stores = split_sources(args)
    if not sources and not stores:
        raise SourceError("name at least one SOURCE: a directory of records or s3://BUCKET/PREFIX")
    trusted = load_trust([Path(f) for f in trust_files], args.fingerprint).fingerprints
    if not trusted:
        also = " (--accept-ephemeral adds to enrolled keys, never replaces them)"
        raise TrustError(
            "no trusted key: give --trust FILE or --fingerprint FP"
            + (also if args.accept_ephemeral else "")
        )
    manifest = load_manifest(args.manifest)
    found = collect_all(sources, stores, trusted, args)
    rec = reconcile(
        Lot(lot_id=args.lot, manifest=manifest),
        found.records,
        found.rejected,
        closed_at=now_iso(),
        unenrolled=found.unenrolled,
        accept_ephemeral=args.accept_ephemeral,
    )
    if not rec.lot.lot_id:  # records of no single lot: the lot is named after its manifest
        rec = replace(rec, lot=replace(rec.lot, lot_id=Path(args.manifest).stem))
    written = write(rec, trusted, args) if args.out else Written((), "")
    print_summary(rec, written, args.json)
    return EXIT_COMPLETE if rec.status == COMPLETE else EXIT_INCOMPLETE


@dataclass(frozen=True)
class Written:
    paths: tuple[str, ...]
    key_fingerprint: str


def write(rec: Reconciliation, trusted: tuple[str, ...], args: argparse.Namespace) -> Written:
    from wipestation.custody.lot_record import office_signer, sign_lot, write_lot

    key_dir = Path(args.key_dir) if args.key_dir else default_key_dir()
    signer = office_signer(key_dir, args.signer or f"lot-{socket.gethostname()}")
    paths = write_lot(Path(args.out), sign_lot(rec, trusted, signer), args.paper)
    return Written(tuple(str(p) for p in paths), signer.fingerprint)


def print_summary(rec: Reconciliation, written: Written, as_json: bool) -> None:
    from wipestation.custody.lot_record import summary_json

    s = summary_json(rec)
    if as_json:
        s.update(written=list(written.paths), signed_by=written.key_fingerprint)
        print(json.dumps(s, indent=2, ensure_ascii=False))
        return
    print(
        f"lot {rec.lot.lot_id}: {s['status']} — {s['expected']} expected, {s['passed']} passed, "
        f"{s['destroyed']} destroyed, {s['failed']} failed, {len(s['missing'])} not seen, "
        f"{len(s['unexpected'])} not on the manifest, {len(s['rejected'])} rejected"
        + (f", {len(rec.unenrolled)} UNENROLLED" if rec.unenrolled else "")
    )
    for e in rec.not_done:
        print(f"  not done: manifest line {e.entry.line}: {e.entry.label} ({e.outcome})")
    for u in rec.unexpected:
        r = u.record
        print(f"  not on the manifest: {r.file}: {r.label} {r.outcome} ({u.reason})")
    for j in rec.rejected:
        print(f"  rejected: {j.file}: {j.reason}")
    print_per_boot_keys(rec)
    for g in rec.chain_gaps:
        print(f"  record chain: {g}")
    for path in written.paths:
        print(f"  written: {path}")
    if written.key_fingerprint:
        print(f"  lot record signed by key {written.key_fingerprint}")


def print_per_boot_keys(rec: Reconciliation) -> None:
    """The records of per-boot keys: held back by serial and key, or how many were accepted."""
    for u in rec.unenrolled:
        r = u.record
        print(f"  UNENROLLED: {r.label} {r.outcome} key {r.key_fingerprint} ({u.reason}): {r.file}")
    if rec.unenrolled:
        print(f"  {len(rec.unenrolled)} not counted: enrol the key, or give --accept-ephemeral")
    if rec.accepted_ephemeral:
        print(
            f"  accepted with --accept-ephemeral: {rec.accepted_ephemeral} records signed by "
            "keys made at one boot, whose origin no enrolled identity vouches for"
        )
