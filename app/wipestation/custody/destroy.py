"""The destruction record (``"schema": "wipestation.destroy/1"``): NIST SP 800-88's Destroy.

A drive that failed (or cannot be wiped) is shredded or crushed; the operator records who did
it, when and how, and the station signs that like a wipe record, so a lot can still close
complete. The shape is deliberately small: the drive's identity, the act, and the same lot,
operator and station fields a wipe record carries. ``lot reconcile`` counts it as done.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from wipestation.custody.records import DESTROY_SCHEMA
from wipestation.reports.record import Record, StationInfo, now_iso

METHODS = ("shredded", "crushed", "disintegrated", "degaussed", "incinerated", "drilled")


@dataclass(frozen=True)
class Destruction:
    serial: str
    method: str  # one of METHODS
    destroyed_by: str
    destroyed_at: str = ""
    model: str = ""
    capacity_bytes: int = 0
    identity: str = ""
    asset_tag: str = ""
    lot_id: str = ""
    note: str = ""


def build_destruction_record(d: Destruction, station: StationInfo) -> Record:
    """The unsigned record; sign it with ``reports.sign.Signer.sign`` like any record."""
    if d.method not in METHODS:
        raise ValueError(f"unknown destruction method {d.method!r} (one of {', '.join(METHODS)})")
    return {
        "schema": DESTROY_SCHEMA,
        "report_id": str(uuid.uuid4()),
        "created_at": now_iso(),
        "station": {
            "id": station.station_id,
            "software_version": station.software_version,
            "location": station.location,
        },  # fmt: skip
        "operator": station.operator,
        "customer": station.customer,
        "lot_id": d.lot_id,
        "asset_tag": d.asset_tag,
        "drive": {
            "serial": d.serial,
            "model": d.model,
            "capacity_bytes": d.capacity_bytes,
            "identity": d.identity or d.serial,
        },
        "destruction": {
            "method": d.method,
            "destroyed_by": d.destroyed_by,
            "destroyed_at": d.destroyed_at or now_iso(),
            "note": d.note,
            "nist_sp_800_88": "Destroy",
        },
    }
