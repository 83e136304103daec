"""What the computer runs on: mains or its battery, read from ``/sys/class/power_supply``.

Why: booted on a laptop to erase its own drives (computer mode), a long overwrite on a battery
at 20 % ends in a power cut halfway through a drive. The station warns before it starts one
and notes the power source on the computer certificate. The kernel's ABI
(Documentation/ABI/testing/sysfs-class-power): each supply is a directory with ``type``
(``Battery``, ``Mains``, ``USB``, ...), a battery's ``capacity`` (percent) and ``status``
(``Charging``, ``Discharging``, ``Not charging``, ``Full``, ``Unknown``), a charger's
``online`` (0/1), and ``scope`` ``Device`` for the battery of a wireless mouse or keyboard,
which powers nothing here and is ignored. What cannot be read is unknown, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

POWER_SUPPLY = Path("/sys/class/power_supply")
#: Below this charge, on battery, a long overwrite gets a warning first.
LOW_BATTERY_PCT = 30
CHARGERS = ("Mains", "USB", "USB_C", "USB_PD", "USB_PD_DRP", "Wireless")


@dataclass(frozen=True)
class Battery:
    name: str
    capacity_pct: int | None  # None: not reported or not a number in 0..100
    status: str  # as the kernel says it; '' when unreadable

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "capacity_pct": self.capacity_pct, "status": self.status}


@dataclass(frozen=True)
class PowerState:
    """The computer's supplies: its batteries and whether a charger is online (None: none
    reported it)."""

    batteries: tuple[Battery, ...] = ()
    mains_online: bool | None = None

    @property
    def source(self) -> str:
        """``mains``, ``battery`` or ``unknown``."""
        if self.mains_online or any(b.status in ("Charging", "Full") for b in self.batteries):
            return "mains"
        if any(b.status == "Discharging" for b in self.batteries) or (
            self.batteries and self.mains_online is False
        ):
            return "battery"
        return "unknown"

    @property
    def lowest_pct(self) -> int | None:
        known = [b.capacity_pct for b in self.batteries if b.capacity_pct is not None]
        return min(known) if known else None

    def summary(self) -> str:
        """One line for a certificate: 'battery 22 % (Discharging)', 'mains power', ..."""
        if self.source == "battery":
            pct = self.lowest_pct
            return f"battery {'?' if pct is None else pct} %"
        if self.source == "mains":
            pct = self.lowest_pct
            return "mains power" + (f" (battery {pct} %)" if pct is not None else "")
        return "no battery or charger reported (a desktop or server)"

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "mains_online": self.mains_online,
            "batteries": [b.to_json() for b in self.batteries],
            "summary": self.summary(),
        }


def low_battery_warning(state: PowerState, threshold: int = LOW_BATTERY_PCT) -> str:
    """The warning before a long overwrite on a battery below ``threshold`` ('' when none)."""
    pct = state.lowest_pct
    if state.source != "battery" or pct is None or pct >= threshold:
        return ""
    return (
        f"ON BATTERY at {pct} %: plug in the charger before a long overwrite "
        "(a power cut leaves the drive half erased)"
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def _percent(text: str) -> int | None:
    return int(text) if text.isdigit() and 0 <= int(text) <= 100 else None


def read_power(root: Path = POWER_SUPPLY) -> PowerState:
    """The supplies under ``root`` (a captured tree in tests); none readable: unknown."""
    batteries: list[Battery] = []
    online: list[bool] = []
    try:
        supplies = sorted(p for p in root.iterdir() if p.is_dir())
    except OSError:
        return PowerState()
    for s in supplies:
        kind = _read(s / "type")
        if _read(s / "scope") == "Device":
            continue  # a mouse's or keyboard's battery
        if kind == "Battery" and _read(s / "present") != "0":
            batteries.append(Battery(s.name, _percent(_read(s / "capacity")), _read(s / "status")))
        elif kind in CHARGERS and _read(s / "online") in ("0", "1"):
            online.append(_read(s / "online") == "1")
    return PowerState(tuple(batteries), any(online) if online else None)
