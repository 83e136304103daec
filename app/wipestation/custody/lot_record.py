"""The lot record (``"schema": "wipestation.lot/1"``, ``lot.schema.json`` beside this file): a
reconciliation as JSON, signed exactly like a drive record (``reports.sign``), and the summary
``lot reconcile`` prints.

The lot PDF is drawn from this record only, so the two always agree. Every manifest entry is in
``entries`` (the schema requires as many as the manifest had); every record that counted is
named by file and record hash.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from wipestation import __version__
from wipestation.custody.lot import Reconciliation, Unexpected
from wipestation.custody.manifest import ManifestEntry
from wipestation.custody.records import FAIL, FoundRecord
from wipestation.discovery.identity import safe_filename
from wipestation.errors import ReportError
from wipestation.reports.atomic import mkdirs_durable, write_atomic
from wipestation.reports.record import Record, now_iso, serialize
from wipestation.reports.sign import Signer
from wipestation.reports.writer import free_stem

LOT_SCHEMA = "wipestation.lot/1"


def entry_json(e: ManifestEntry) -> dict[str, Any]:
    return {
        "line": e.line,
        "serial": e.serial,
        "asset_tag": e.asset_tag,
        "model": e.model,
        "size": e.size,
        "note": e.note,
    }


def record_json(r: FoundRecord) -> dict[str, Any]:
    return {
        "file": r.file,
        "kind": r.kind,
        "outcome": r.outcome,
        "date": r.when,
        "serial": r.serial,
        "asset_tag": r.asset_tag,
        "model": r.model,
        "station": r.station,
        "operator": r.operator,
        "lot_id": r.lot_id,
        "report_id": r.report_id,
        "record_sha256": r.record_sha256,
        "key_fingerprint": r.key_fingerprint,
        "key_protection": r.key_protection,
    }


def unexpected_json(u: Unexpected) -> dict[str, Any]:
    return {**record_json(u.record), "reason": u.reason}


def counts(rec: Reconciliation) -> dict[str, int]:
    return {
        "expected": len(rec.entries),
        "passed": rec.count("PASS"),
        "failed": rec.count(FAIL),
        "destroyed": rec.count("DESTROYED"),
        "missing": len(rec.missing),
        "not_done": len(rec.not_done),
        "unexpected": len(rec.unexpected),
        "rejected": len(rec.rejected),
        "chain_gaps": len(rec.chain_gaps),
        "unenrolled": len(rec.unenrolled),
        "accepted_ephemeral": rec.accepted_ephemeral,
    }


def build_lot_record(
    rec: Reconciliation, trusted: tuple[str, ...], *, created_at: str | None = None
) -> Record:
    """The unsigned lot record."""
    lot, manifest = rec.lot, rec.lot.manifest
    return {
        "schema": LOT_SCHEMA,
        "lot_id": lot.lot_id,
        "created_at": created_at or now_iso(),
        "software": {"name": "wipestation", "version": __version__},
        "customer": lot.customer,
        "operators": list(lot.operators),
        "stations": list(lot.stations),
        "opened_at": lot.opened_at,
        "closed_at": lot.closed_at,
        "status": rec.status,
        "counts": counts(rec),
        "manifest": None
        if manifest is None
        else {"file": manifest.source, "sha256": manifest.sha256, "entries": len(manifest.entries)},
        "trusted_keys": list(trusted),
        "entries": [
            {
                **entry_json(e.entry),
                "outcome": e.outcome,
                "notes": list(e.notes),
                "records": [record_json(r) for r in e.records],
            }
            for e in rec.entries
        ],
        "unexpected": [unexpected_json(u) for u in rec.unexpected],
        "rejected": [{"file": r.file, "reason": r.reason} for r in rec.rejected],
        "chain_gaps": [g.to_json() for g in rec.chain_gaps],
        "passed_over": rec.passed_over,
        "unenrolled": [unexpected_json(u) for u in rec.unenrolled],
        "accepted_ephemeral": rec.accepted_ephemeral,
    }


def summary_json(rec: Reconciliation) -> dict[str, Any]:
    """What ``lot reconcile --json`` prints."""
    c = counts(rec)
    return {
        "lot_id": rec.lot.lot_id,
        "status": rec.status,
        "expected": c["expected"],
        "passed": c["passed"],
        "failed": c["failed"],
        "destroyed": c["destroyed"],
        "missing": [entry_json(e.entry) for e in rec.missing],
        "not_done": [{**entry_json(e.entry), "outcome": e.outcome} for e in rec.not_done],
        "unexpected": [unexpected_json(u) for u in rec.unexpected],
        "rejected": [{"file": r.file, "reason": r.reason} for r in rec.rejected],
        "chain_gaps": [g.to_json() for g in rec.chain_gaps],
        "unenrolled": [unexpected_json(u) for u in rec.unenrolled],
        "accepted_ephemeral": rec.accepted_ephemeral,
    }


def load_schema() -> dict[str, Any]:
    text = resources.files("wipestation.custody").joinpath("lot.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def write_lot(out_dir: Path, signed: Record, paper: str = "A4") -> list[Path]:
    """The signed lot record and its PDF in ``out_dir``; an earlier lot file is never replaced."""
    from wipestation.custody import lot_pdf  # reportlab, only when a PDF is due

    mkdirs_durable(out_dir)
    stem = free_stem(out_dir, f"lot-{safe_filename(signed['lot_id'] or 'unnamed')}")
    pdf = write_atomic(out_dir / f"{stem}.pdf", lot_pdf.render_lot_pdf(signed, paper))
    return [write_atomic(out_dir / f"{stem}.json", serialize(signed)), pdf]


def office_signer(key_dir: Path, name: str) -> Signer:
    """The reconciling machine's own Ed25519 key (``<key_dir>/<name>.ed25519.pem``, mode 0600),
    created on first use. Its fingerprint goes on every lot record it signs."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = key_dir / f"{safe_filename(name)}.ed25519.pem"
    if path.exists():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError, OSError) as e:
            raise ReportError(f"signing key {path} is unreadable ({e})") from e
        if not isinstance(key, Ed25519PrivateKey):
            raise ReportError(f"signing key {path} is not an Ed25519 key")
        return Signer(key)
    key = Ed25519PrivateKey.generate()
    mkdirs_durable(key_dir)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_atomic(path, pem, mode=0o600)
    return Signer(key)


def sign_lot(rec: Reconciliation, trusted: tuple[str, ...], signer: Signer) -> Record:
    return signer.sign(build_lot_record(rec, trusted))
