"""Signed records for custody tests, built the way a station builds them (no engine, no drive)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from wipestation.reports.record import Record, build_record, serialize
from wipestation.reports.sign import Signer

from tests.reports.factory import STATION, drive, job

GB = 1000**3


def record(
    signer: Signer,
    serial: str,
    *,
    asset_tag: str = "",
    passed: bool = True,
    model: str = "Samsung SSD 870 EVO 500GB",
    size: int = 500 * GB,
    ended_at: str = "2026-11-27T03:42:17+01:00",
    lot_id: str = "L1",
    **top: Any,
) -> Record:
    """A signed drive record; ``top`` adds top-level fields (e.g. a chain's ``sequence``)."""
    d = drive(serial=serial, model=model, size_bytes=size, identity=serial or f"path-{asset_tag}")
    r = build_record(job(passed, drive=d, ended_at=ended_at), STATION, asset_tag=asset_tag)
    r["lot_id"] = lot_id
    r.update(top)
    return signer.sign(r)


def save(directory: Path, name: str, rec: Record) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    path.write_bytes(serialize(rec))
    return path


def public_pem(rec: Record) -> bytes:
    """The PEM public key of the key that signed ``rec`` (the test knows the record is genuine)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    raw = base64.b64decode(rec["signature"]["public_key"])
    return Ed25519PublicKey.from_public_bytes(raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
