"""What a drive label says, shared by every printer language so they never disagree."""

from __future__ import annotations

from wipestation.reports.record import Record
from wipestation.units import human_size as human_capacity


def label_serial(record: Record) -> str:
    serial: str = record["drive"]["serial"]
    return serial


def label_lines(record: Record) -> list[str]:
    """Model, serial, capacity, method (level), result, date, station."""
    d, z = record["drive"], record["sanitization"]
    return [
        f"Model: {d['model'] or '-'}",
        f"Serial: {d['serial'] or '(none) ' + d['identity']}",
        f"Capacity: {human_capacity(d['capacity_bytes'])}",
        f"Method: {z.get('executed') or z['method']} ({z['level']})",  # what ran
        f"Result: {record['result']['status']} {record['result']['erasure_status']}",
        f"Date: {(z['ended_at'] or record['created_at'])[:10]}",
        f"Station: {record['station']['id']}",
    ]
