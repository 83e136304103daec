"""smartctl --json -x: the health summary that goes on the report, and ATA security where shown.

Why the exit-status care: smartctl's exit status is a bit mask; bits 0-1 mean it could not run
(bad command line, device not opened) while higher bits only report health findings. USB disks need
``-d sat`` (or ``-d scsi`` for bridges without SAT), or smartctl refuses with "Unknown USB bridge".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from wipestation.errors import ToolError, ToolFailedError
from wipestation.tools.runner import Runner, run

TIMEOUT = 60.0
_FATAL_BITS = 0b11


#: NVMe SMART/Health log byte 0 (Critical Warning), bit → what it means (NVMe 2.0 §5.16.1.3).
CRITICAL_WARNING_BITS = {
    0x01: "available spare below threshold",
    0x02: "temperature outside its thresholds",
    0x04: "NVM subsystem reliability degraded",
    0x08: "media placed in read-only mode",
    0x10: "volatile memory backup failed",
    0x20: "persistent memory region read-only or unreliable",
}
MEDIA_READ_ONLY = 0x08


@dataclass(frozen=True)
class SmartSummary:
    """smartctl's answers; ``None`` = smartctl did not say (or said it in an unreadable form)."""

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
    #: NVMe Critical Warning bits (CRITICAL_WARNING_BITS); None for ATA/SCSI or unreadable
    critical_warning: int | None = None

    @property
    def warnings(self) -> tuple[str, ...]:
        """The Critical Warning bits set, in words."""
        cw = self.critical_warning or 0
        return tuple(text for bit, text in CRITICAL_WARNING_BITS.items() if cw & bit)

    @property
    def media_read_only(self) -> bool:
        return bool((self.critical_warning or 0) & MEDIA_READ_ONLY)

    def to_json(self) -> dict[str, object]:
        out = dict(self.__dict__)
        out["messages"] = list(self.messages)
        out["critical_warnings"] = list(self.warnings)
        return out


def build_argv(dev: str, device_type: str = "") -> list[str]:
    argv = ["smartctl", "--json", "-x"]
    if device_type:
        argv += ["-d", device_type]
    return [*argv, dev]


# ---- parsing: every value is type-checked; a wrong type is unknown (None), never a default ----


def _at(d: object, *path: str) -> object:
    for key in path:
        d = d.get(key) if isinstance(d, dict) else None
    return d


def _int(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None


def _bool(v: object) -> bool | None:
    return v if isinstance(v, bool) else None


def _str(v: object) -> str:
    return v.strip() if isinstance(v, str) else ""


def _attr_raw(d: dict[str, Any], attr_id: int) -> int | None:
    table = _at(d, "ata_smart_attributes", "table")
    for a in table if isinstance(table, list) else ():
        if _at(a, "id") == attr_id:
            return _int(_at(a, "raw", "value"))
    return None


def _root(text: str) -> dict[str, Any]:
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise ToolError(f"smartctl: unreadable JSON output ({e})") from e
    if not isinstance(d, dict):
        raise ToolError(f"smartctl: JSON output is not an object ({type(d).__name__})")
    if _int(_at(d, "smartctl", "exit_status")) is None:
        raise ToolError("smartctl: JSON output without a readable smartctl.exit_status")
    return d


def parse(text: str) -> SmartSummary:
    """``smartctl --json -x`` output (any protocol) → SmartSummary.

    Raises:
        ToolError: not smartctl's JSON object (no readable ``smartctl.exit_status``).
    """
    d = _root(text)
    messages = _at(d, "smartctl", "messages")
    return SmartSummary(
        protocol=_str(_at(d, "device", "protocol")),
        device_type=_str(_at(d, "device", "type")),
        model=_str(d.get("model_name")) or _str(d.get("scsi_model_name")),
        serial=_str(d.get("serial_number")),
        firmware=_str(d.get("firmware_version")) or _str(d.get("revision")),
        passed=_bool(_at(d, "smart_status", "passed")),
        power_on_hours=_int(_at(d, "power_on_time", "hours")),
        reallocated_sectors=_attr_raw(d, 5),
        pending_sectors=_attr_raw(d, 197),
        percentage_used=_int(_at(d, "nvme_smart_health_information_log", "percentage_used")),
        media_errors=_int(_at(d, "nvme_smart_health_information_log", "media_errors")),
        rotation_rate=_int(d.get("rotation_rate")),
        trim=_bool(_at(d, "trim", "supported")),
        security_enabled=_bool(_at(d, "ata_security", "enabled")),
        security_frozen=_bool(_at(d, "ata_security", "frozen")),
        exit_status=_int(_at(d, "smartctl", "exit_status")) or 0,
        messages=tuple(_str(_at(m, "string")) for m in messages)
        if isinstance(messages, list)
        else (),
        critical_warning=_int(_at(d, "nvme_smart_health_information_log", "critical_warning")),
    )


class HealthState(StrEnum):
    OK = "ok"  # SMART passed and no NVMe critical warning
    FAILING = "failing"  # SMART FAILED or a critical warning: erase may work, writes may fail
    READ_ONLY = "read_only"  # the drive put its media in read-only mode: nothing can be written
    UNKNOWN = "unknown"  # no SMART answer (transport, tool, or unreadable)


@dataclass(frozen=True)
class Health:
    """What the drive's own health report means for an erase, with the drive's words for it."""

    state: HealthState
    reasons: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {"state": str(self.state), "reasons": list(self.reasons)}

    def describe(self) -> str:
        return f"{self.state}" + (f" ({'; '.join(self.reasons)})" if self.reasons else "")


def health_of(summary: SmartSummary | None) -> Health:
    """SMART overall-health and the NVMe Critical Warning bits → Health; nothing said = unknown."""
    if summary is None or failed_to_run(summary):
        return Health(HealthState.UNKNOWN, ("no SMART health report from the drive",))
    problems = [f"NVMe critical warning: {w}" for w in summary.warnings]
    if summary.passed is False:
        problems.insert(0, "SMART overall-health self-assessment: FAILED")
    if summary.media_read_only:
        return Health(HealthState.READ_ONLY, tuple(problems))
    if problems:
        return Health(HealthState.FAILING, tuple(problems))
    if summary.passed is None or (summary.protocol == "NVMe" and summary.critical_warning is None):
        return Health(HealthState.UNKNOWN, ("the drive did not report its overall health",))
    return Health(HealthState.OK, ("SMART overall-health self-assessment: PASSED",))


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
