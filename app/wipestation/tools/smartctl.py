"""smartctl --json -x: the health summary that goes on the report, and ATA security where shown.

Why the exit-status care: smartctl's exit status is a bit mask; bits 0-1 mean it could not run
(bad command line, device not opened) while higher bits only report health findings. USB disks need
``-d sat`` (or ``-d scsi`` for bridges without SAT), or smartctl refuses with "Unknown USB bridge".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from wipestation.errors import ToolError, ToolFailedError
from wipestation.tools.runner import Runner, run

TIMEOUT = 60.0
_FATAL_BITS = 0b11


@dataclass(frozen=True)
class SmartSummary:
    protocol: str  # "ATA" | "NVMe" | "SCSI" | ""
    device_type: str  # smartctl's -d type it used ("sat", "nvme", "scsi", ...)
    model: str
    serial: str
    firmware: str
    passed: bool | None
    power_on_hours: int | None
    reallocated_sectors: int | None
    pending_sectors: int | None
    percentage_used: int | None
    media_errors: int | None
    rotation_rate: int | None  # 0 = SSD
    trim: bool | None
    security_enabled: bool | None
    security_frozen: bool | None
    exit_status: int
    messages: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        out = dict(self.__dict__)
        out["messages"] = list(self.messages)
        return out


def build_argv(dev: str, device_type: str = "") -> list[str]:
    argv = ["smartctl", "--json", "-x"]
    if device_type:
        argv += ["-d", device_type]
    return [*argv, dev]


def _attr_raw(d: dict[str, Any], attr_id: int) -> int | None:
    for a in d.get("ata_smart_attributes", {}).get("table", []):
        if a.get("id") == attr_id:
            return int(a.get("raw", {}).get("value", 0))
    return None


def parse(text: str) -> SmartSummary:
    """``smartctl --json -x`` output (any protocol) → SmartSummary. Raises ToolError if no JSON."""
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise ToolError(f"smartctl: unreadable JSON output ({e})") from e
    meta = d.get("smartctl", {})
    nvme = d.get("nvme_smart_health_information_log", {})
    sec = d.get("ata_security")
    status = d.get("smart_status", {})
    return SmartSummary(
        protocol=d.get("device", {}).get("protocol", ""),
        device_type=d.get("device", {}).get("type", ""),
        model=d.get("model_name", "") or d.get("scsi_model_name", ""),
        serial=d.get("serial_number", ""),
        firmware=d.get("firmware_version", "") or d.get("revision", ""),
        passed=status.get("passed") if "passed" in status else None,
        power_on_hours=d.get("power_on_time", {}).get("hours"),
        reallocated_sectors=_attr_raw(d, 5),
        pending_sectors=_attr_raw(d, 197),
        percentage_used=nvme.get("percentage_used"),
        media_errors=nvme.get("media_errors"),
        rotation_rate=d.get("rotation_rate"),
        trim=d.get("trim", {}).get("supported") if "trim" in d else None,
        security_enabled=sec.get("enabled") if sec else None,
        security_frozen=sec.get("frozen") if sec else None,
        exit_status=int(meta.get("exit_status", 0)),
        messages=tuple(m.get("string", "") for m in meta.get("messages", [])),
    )


def failed_to_run(summary: SmartSummary) -> bool:
    return bool(summary.exit_status & _FATAL_BITS)


def device_types_for(transport: str) -> tuple[str, ...]:
    """Which ``-d`` values to try, in order, for a transport."""
    return ("sat", "scsi") if transport == "usb" else ("",)


def summary(dev: str, transport: str = "", *, runner: Runner = run) -> SmartSummary:
    """Run smartctl with each candidate ``-d`` type until one can open the device.

    Raises:
        ToolFailedError: no device type worked (the message holds smartctl's own reason).
    """
    last: SmartSummary | None = None
    argv: list[str] = []
    for dtype in device_types_for(transport):
        argv = build_argv(dev, dtype)
        done = runner(argv, timeout=TIMEOUT, check=False)
        last = parse(done.stdout)
        if not failed_to_run(last):
            return last
    reason = "; ".join(last.messages) if last else ""
    raise ToolFailedError(argv, last.exit_status if last else 1, reason)
