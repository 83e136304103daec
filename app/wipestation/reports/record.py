"""The JSON record: the source of truth every certificate, label and summary is drawn from.

One record per finished job, built from ``model.JobResult`` plus what the station knows (its id,
software version, operator, customer, asset tag, clock). The layout is versioned
(``"schema": "wipestation.report/1"``) and described by ``report.schema.json`` next to this file;
docs/reports.md maps it to NIST SP 800-88 Rev. 2 Sec. 4.6 / Rev. 1 App. G. The PDF, the label
and the summary read only the record (never the JobResult), so a record alone can be re-rendered.

This module must never claim more than the JobResult proved: verification fields are copied, not
inferred, and "erasure status" is downgraded whenever something was left undone.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from wipestation import __version__

if TYPE_CHECKING:  # imported where a record is built: the renderer's process only reads them
    from wipestation.discovery.host import HostIdentity
    from wipestation.model import Drive, JobResult, StepRecord, VerifyResult
    from wipestation.timesync import ClockOutcome
    from wipestation.tools.smartctl import SmartSummary

SCHEMA_ID = "wipestation.report/1"
Record = dict[str, Any]


@dataclass(frozen=True)
class StationInfo:
    """Who and what produced the record; typed at the station or scanned with a barcode reader."""

    station_id: str
    software_version: str = __version__
    operator: str = ""
    customer: str = ""
    location: str = ""
    #: The customer's lot the drives belong to (``wipestation lot reconcile`` matches on it).
    lot_id: str = ""
    #: How the station's clock was set: "system clock (not synchronised)", "NTP", "RTC" ...
    time_source: str = "system clock"


def now_iso() -> str:
    """Local time with its UTC offset, to the second."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def iso(ts: str) -> str:
    """A timestamp in RFC 3339 form (``+00:00``, not ``+0000``); unparseable text is kept as is."""
    if not ts:
        return ""
    try:
        parsed = datetime.fromisoformat(ts)
    except ValueError:
        return ts
    return parsed.isoformat() if parsed.tzinfo else ts


def media_type_of(result: JobResult) -> str:
    """The medium the plan's NIST level was chosen for (``planning.medium_of``), so the
    certificate never names another medium than the one its level belongs to."""
    from wipestation.planning.medium import medium_of  # see TYPE_CHECKING above

    return result.medium or str(medium_of(result.drive))


def erasure_status(result: JobResult) -> str:
    """Blancco's three values: erased, erased-with-exceptions, not-erased."""
    if not result.passed:
        return "not-erased"
    v = result.verification
    hidden_left = bool((result.hpa_dco or {}).get("hidden_after"))
    if result.bad_ranges or hidden_left or v is None or v.mode == "none" or result.level == "none":
        return "erased-with-exceptions"
    return "erased"


def _exceptions(result: JobResult) -> list[str]:
    out: list[str] = []
    if result.bad_ranges:
        out.append(f"{len(result.bad_ranges)} bad range(s) could not be written or read back")
    if (result.hpa_dco or {}).get("hidden_after"):
        out.append("hidden area (HPA/DCO) still present after the wipe")
    if result.verification is None or result.verification.mode == "none":
        out.append("not verified by read-back")
    if result.level == "none":
        out.append("no NIST sanitization level achieved")
    if presented_by(result.drive):
        out.append(f"{presented_by(result.drive)}, not a physical drive: no disk is certified")
    return out


def _ranges(ranges: tuple[tuple[int, int], ...]) -> list[dict[str, int]]:
    return [{"offset": int(o), "length": int(n)} for o, n in ranges]


def _drive(d: Drive, medium: str) -> Record:
    from wipestation.discovery.controllers import raid_member_notice  # see TYPE_CHECKING above

    return {
        "manufacturer": d.vendor,
        "model": d.model,
        "serial": d.serial,
        "wwn": d.wwn,
        "firmware": d.firmware,
        "transport": str(d.transport),
        "capacity_bytes": d.size_bytes,
        "logical_block_size": d.logical_block_size,
        "physical_block_size": d.physical_block_size,
        "rotational": d.rotational,
        "removable": d.removable,
        "media_type": medium,
        "identity": d.identity,
        "identity_source": str(d.identity_source),
        "identity_duplicate": d.identity_duplicate,
        "serial_sources": [{"source": src, "value": v} for src, v in d.serial_sources],
        "serial_disagreement": d.serial_disagreement,
        "serial_placeholder": d.serial_placeholder,
        "device_path": d.path,
        "physical_path": d.id_path or d.backing_file,
        "usb_id": d.usb_id,
        "controller": d.controller,
        "presented_by": presented_by(d),
        "raid_set": raid_member_notice(d),
    }


def presented_by(d: Drive) -> str:
    """'' for a physical drive; else what the device is instead (a RAID logical volume, a BMC's
    virtual media): such a record never certifies a physical drive."""
    if d.volume:
        return f"logical volume of {d.controller or 'a RAID controller'}"
    return "BMC virtual media" if d.bmc_media else ""


def _step(s: StepRecord) -> Record:
    return {
        "name": s.name,
        "kind": s.kind,
        "command": s.command,
        "started_at": iso(s.started_at),
        "ended_at": iso(s.ended_at),
        "ok": s.ok,
        "exit_status": s.exit_status,
        "output_excerpt": s.output_excerpt,
        "bytes_written": s.bytes_written,
        "bad_ranges": _ranges(s.bad_ranges),
        "error": s.error,
    }


def _verification(v: VerifyResult | None) -> Record:
    if v is None:
        return {"mode": "none", "performed": False}
    return {
        "mode": v.mode,
        "performed": v.mode != "none",
        "expected": v.expected,
        "observed_class": v.observed_class,
        "bytes_checked": v.bytes_checked,
        "bytes_total": v.bytes_total,
        "coverage_pct": round(v.coverage_pct, 3),
        "passed": v.passed,
        "mismatch_count": len(v.mismatches),
        "mismatches": _ranges(v.mismatches[:100]),
        "detail": v.detail,
    }


def health_json(smart: SmartSummary | None) -> dict[str, object]:
    """The SMART summary with what it means (ok / failing / read_only / unknown, and why)."""
    from wipestation.tools.smartctl import health_of  # see TYPE_CHECKING above

    return {**(smart.to_json() if smart else {}), **health_of(smart).to_json()}


def _jsonable(value: object) -> Any:
    """Free-form engine dicts (health, HPA/DCO, fingerprint) made plain JSON."""
    return json.loads(json.dumps(value, default=str)) if value is not None else None


def build_record(
    result: JobResult,
    station: StationInfo,
    *,
    asset_tag: str = "",
    created_at: str | None = None,
    report_id: str | None = None,
    host: HostIdentity | None = None,
) -> Record:
    """The unsigned record for one finished job; ``host``: the computer it ran on (SMBIOS)."""
    status = "PASS" if result.passed else "FAIL"
    return {
        **({"host": host.to_json()} if host is not None else {}),
        "schema": SCHEMA_ID,
        "report_id": report_id or str(uuid.uuid4()),
        "created_at": created_at or now_iso(),
        "station": {
            "id": station.station_id,
            "software": "wipestation",
            "software_version": station.software_version,
            "time_source": station.time_source,
            "location": station.location,
        },
        "operator": station.operator,
        "customer": station.customer,
        "asset_tag": asset_tag,
        "lot_id": station.lot_id,
        "boot": boot_json(),
        "job_id": result.job_id,
        "drive": _drive(result.drive, media_type_of(result)),
        "health": health_json(result.health),
        "hpa_dco": _jsonable(result.hpa_dco),
        "sector_format": _jsonable(result.sector_format),
        "security": _jsonable(result.security),
        "sanitization": {
            "level": result.level,
            "method": result.method,
            "standard": result.standard,
            "tool": f"wipestation {station.software_version}",
            "started_at": iso(result.started_at),
            "ended_at": iso(result.ended_at),
            "executed": result.executed,  # "" when no step ran: never a method that did not
            "decision": list(result.decision),
            "fallbacks": list(result.fallbacks),
            "resumed_from": _jsonable(result.resumed_from),
            "pre_wipe_fingerprint": result.fingerprint.to_json() if result.fingerprint else None,
        },
        "steps": [_step(s) for s in result.steps],
        "verification": _verification(result.verification),
        "bad_ranges": _ranges(result.bad_ranges),
        "result": {
            "status": status,
            "state": str(result.state),
            "reason": result.reason,
            "erasure_status": erasure_status(result),
            "exceptions": _exceptions(result),
        },
        "notes": list(result.notes),
    }


def boot_json() -> dict[str, Any]:
    """How the station was booted: Secure Boot enforced or not, as the firmware says
    (``secureboot.py``; read once per boot)."""
    from wipestation import secureboot

    return secureboot.this_boot().to_json()


def stamp_clock(record: Record, clock: ClockOutcome) -> None:
    """Where the record's times come from (``timesync.py``): its ``clock`` block, and the
    station's ``time_source`` line the certificate prints."""
    record["clock"] = clock.to_json()
    record["station"]["time_source"] = clock.describe()


def canonical_bytes(record: Record) -> bytes:
    """The bytes that are hashed and signed: sorted keys, no whitespace, UTF-8."""
    body = {k: v for k, v in record.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: Record) -> str:
    """SHA-256 (hex) of the canonical record without its signature: the QR code's hash."""
    return hashlib.sha256(canonical_bytes(record)).hexdigest()


def serialize(record: Record) -> bytes:
    """The exact bytes of a record file; ``verify-report`` demands them byte for byte."""
    return (json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def load_schema() -> dict[str, Any]:
    text = resources.files("wipestation.reports").joinpath("report.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def display_serial(record: Record) -> str:
    """The serial, or a clear stand-in naming the identity used instead."""
    d = record["drive"]
    if d.get("serial_placeholder"):  # records before placeholders were flagged lack the key
        return f"{d['serial']} (placeholder serial; identity {d['identity']})"
    return d["serial"] or f"(no serial; identity {d['identity']})"


def host_line(host: dict[str, Any] | None) -> str:
    """The computer in one short line (manufacturer, product, serial); '' for a record made
    before records named it. Read from the record, so the certificate never needs discovery."""
    if not host:
        return ""
    name = " ".join(str(host[k]) for k in ("manufacturer", "product") if host.get(k))
    if host.get("serial"):
        return f"{name or 'unknown computer'}, S/N {host['serial']}"
    said = (host.get("placeholders") or {}).get("serial")
    unknown = f"S/N unknown (placeholder {said!r})" if said else "S/N unknown"
    return f"{name or 'unknown computer'}, {unknown}"


def scan_serial(record: Record) -> str:
    """What a barcode or QR code names the drive by: the serial, else (none, or a placeholder
    that names no drive) the identity."""
    d = record["drive"]
    serial: str = d["serial"]
    return d["identity"] if d.get("serial_placeholder") or not serial else serial


def qr_payload(record: Record) -> str:
    """What the certificate's and the label's QR codes carry: serial, result, record hash."""
    serial = scan_serial(record)
    return f"WIPESTATION/1|{serial}|{record['result']['status']}|sha256:{record_hash(record)}"
