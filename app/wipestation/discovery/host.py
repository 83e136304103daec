"""Which computer the station runs on: its SMBIOS identity, read from ``/sys/class/dmi/id``.

Why: an asset is the computer (its service tag), not only the drives inside it, so every record,
certificate, status and the screen's header name the computer too. The kernel decodes the
firmware's SMBIOS tables into one file per string (drivers/firmware/dmi-id.c); the serials and
the UUID are root-only (mode 0400). Every field the record needs is there, so no ``dmidecode``
(one less tool in the image, one less parser): sysfs gives the same strings, and the chassis
type as the SMBIOS number, named here from the spec's table.

Never guessed: a file that is missing or unreadable is unknown (None, and an unreadable one is
named in ``unreadable``); a string the firmware left at its default ("To Be Filled By O.E.M.",
"Default string", an all-zero UUID) is no identity either — None, with what the firmware said
kept in ``placeholders`` — by the one placeholder rule drive serials use (identity.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from wipestation.discovery.identity import is_placeholder

DMI_ID = Path("/sys/class/dmi/id")

#: SMBIOS 3.7 (DSP0134) 7.4.1, System Enclosure or Chassis Types; the kernel gives the number
#: without bit 7 (the chassis-lock flag).
CHASSIS_TYPES = {
    1: "Other",
    2: "Unknown",
    3: "Desktop",
    4: "Low Profile Desktop",
    5: "Pizza Box",
    6: "Mini Tower",
    7: "Tower",
    8: "Portable",
    9: "Laptop",
    10: "Notebook",
    11: "Hand Held",
    12: "Docking Station",
    13: "All in One",
    14: "Sub Notebook",
    15: "Space-saving",
    16: "Lunch Box",
    17: "Main Server Chassis",
    18: "Expansion Chassis",
    19: "SubChassis",
    20: "Bus Expansion Chassis",
    21: "Peripheral Chassis",
    22: "RAID Chassis",
    23: "Rack Mount Chassis",
    24: "Sealed-case PC",
    25: "Multi-system chassis",
    26: "Compact PCI",
    27: "Advanced TCA",
    28: "Blade",
    29: "Blade Enclosure",
    30: "Tablet",
    31: "Convertible",
    32: "Detachable",
    33: "IoT Gateway",
    34: "Embedded PC",
    35: "Mini PC",
    36: "Stick PC",
}


@dataclass(frozen=True)
class HostIdentity:
    """The computer as its firmware names it; None where that is unknown or a placeholder."""

    manufacturer: str | None = None  # sys_vendor
    product: str | None = None  # product_name
    version: str | None = None  # product_version (Lenovo's model name: "ThinkPad T410s")
    family: str | None = None  # product_family
    serial: str | None = None  # product_serial: the service tag / serial on the label
    uuid: str | None = None  # product_uuid
    sku: str | None = None  # product_sku
    chassis_type: str | None = None  # CHASSIS_TYPES name of chassis_type
    board_vendor: str | None = None
    board_name: str | None = None
    board_serial: str | None = None
    bios_vendor: str | None = None
    bios_version: str | None = None
    bios_date: str | None = None
    #: (field, what the firmware said) for each field whose string is a placeholder
    placeholders: tuple[tuple[str, str], ...] = ()
    #: fields whose file exists but could not be read (root-only, read as another user)
    unreadable: tuple[str, ...] = ()
    #: whether the firmware gave SMBIOS at all (no /sys/class/dmi/id: every field unknown)
    smbios: bool = True

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {f: getattr(self, f) for f in FILES}
        out["placeholders"] = dict(self.placeholders)
        out["unreadable"] = list(self.unreadable)
        out["smbios"] = self.smbios
        return out


#: HostIdentity field -> its file under /sys/class/dmi/id
FILES = {
    "manufacturer": "sys_vendor",
    "product": "product_name",
    "version": "product_version",
    "family": "product_family",
    "serial": "product_serial",
    "uuid": "product_uuid",
    "sku": "product_sku",
    "chassis_type": "chassis_type",
    "board_vendor": "board_vendor",
    "board_name": "board_name",
    "board_serial": "board_serial",
    "bios_vendor": "bios_vendor",
    "bios_version": "bios_version",
    "bios_date": "bios_date",
}


class UnreadableError(Exception):
    """The file is there but refused (root-only): unknown, and said so."""


def read_text(path: Path) -> str | None:
    """The file's text with its padding stripped; None when the file is absent (or not a file).

    Raises:
        UnreadableError: it exists but could not be read (permission).
    """
    try:
        raw = path.read_bytes()
    except PermissionError as e:
        raise UnreadableError(str(path)) from e
    except OSError:
        return None
    return raw.decode("utf-8", errors="backslashreplace").strip(" \t\n\r\0")


def chassis_name(text: str) -> str | None:
    """The SMBIOS name of a chassis type number; a number the table lacks is named by its
    number, and anything not a number is unknown."""
    if not text.isdigit():
        return None
    number = int(text) & 0x7F
    return CHASSIS_TYPES.get(number, f"type {number} (not in SMBIOS 3.7)")


def read_host(root: Path = DMI_ID) -> HostIdentity:
    """The computer's identity from ``root`` (a captured tree in tests)."""
    if not root.is_dir():
        return HostIdentity(smbios=False)
    values: dict[str, Any] = {}  # field -> str | None
    placeholders: list[tuple[str, str]] = []
    unreadable: list[str] = []
    for name, file in FILES.items():
        try:
            text = read_text(root / file)
        except UnreadableError:
            unreadable.append(name)
            continue
        values[name], said = judge(name, text)
        placeholders += [(name, said)] if said is not None else []
    found = HostIdentity(placeholders=tuple(placeholders), unreadable=tuple(unreadable))
    return replace(found, **values)


def judge(name: str, text: str | None) -> tuple[str | None, str | None]:
    """(the value, what a placeholder said): empty is unknown, a placeholder is no value."""
    if not text:
        return None, None
    if name == "chassis_type":
        return chassis_name(text), None
    return (None, text) if is_placeholder(text) else (text, None)


@functools.cache
def this_host() -> HostIdentity:
    """This computer's identity, read once: it cannot change while the station runs."""
    return read_host()
