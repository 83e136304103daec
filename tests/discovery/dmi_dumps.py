"""Published /sys/class/dmi/id dumps (tests/fixtures/dmi) written back into sysfs-shaped trees.

Three shapes people publish: ``grep . /sys/class/dmi/id/*`` (``path:value``, ``grep: path:
Permission denied``), ``name:value`` and ``for f in *; do echo -n "$f="; cat "$f"; done``
(``name=value``, ``name=cat: name: Permission denied``); and ``dmidecode`` for a machine with no
sysfs dump, mapped as the kernel maps SMBIOS types 1 and 2 (drivers/firmware/dmi_scan.c).
A denied file becomes a root-only file (0400) that an unprivileged reader cannot open.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

FIXTURES = Path(__file__).parent.parent / "fixtures" / "dmi"
DENIED = "Permission denied"
#: a line naming one attribute: "/sys/class/dmi/id/<name>:<value>", "<name>:<value>", "<name>=..."
_LINE = re.compile(r"^(?:/sys/class/dmi/id/)?(?P<name>[a-z_]+)(?P<sep>[:=])(?P<value>.*)$")
_DENIED = re.compile(rf"^(?:grep|cat): (?:/sys/class/dmi/id/)?(?P<name>[a-z_]+): {DENIED}$")
#: dmidecode's (type, field) -> the sysfs file the kernel makes of it
DMIDECODE = {
    ("System Information", "Manufacturer"): "sys_vendor",
    ("System Information", "Product Name"): "product_name",
    ("System Information", "Version"): "product_version",
    ("System Information", "Serial Number"): "product_serial",
    ("System Information", "UUID"): "product_uuid",
    ("Base Board Information", "Manufacturer"): "board_vendor",
    ("Base Board Information", "Product Name"): "board_name",
    ("Base Board Information", "Version"): "board_version",
    ("Base Board Information", "Serial Number"): "board_serial",
}


def parse_dump(text: str) -> dict[str, str | None]:
    """name -> value (None: the file was there but the reader was denied)."""
    out: dict[str, str | None] = {}
    for line in text.splitlines():
        denied = _DENIED.match(line) or _DENIED.match(line.partition("=")[2])
        if denied:
            out[denied["name"]] = None
        elif (
            (m := _LINE.match(line))
            and m["name"] not in ("grep", "cat")
            and not m["value"].startswith("cat: ")
        ):
            out[m["name"]] = m["value"]
    return out


def parse_dmidecode(text: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    section = ""
    for line in text.splitlines():
        if line and not line.startswith(("\t", "Handle ")):
            section = line.strip()
        field, _, value = line.strip().partition(": ")
        if (section, field) in DMIDECODE:
            out[DMIDECODE[(section, field)]] = value
    return out


def write_tree(files: dict[str, str | None], dest: Path) -> Path:
    """A /sys/class/dmi/id-shaped directory; anyone may enter it, denied files are root's."""
    dest.mkdir(parents=True)
    dest.chmod(0o755)
    for name, value in files.items():
        path = dest / name
        path.write_text("" if value is None else value + "\n")
        os.chmod(path, 0o400 if value is None else 0o444)
    return dest


def machine_files(machine: str) -> dict[str, str | None]:
    folder = FIXTURES / machine
    if (folder / "dmidecode.txt").exists():
        return parse_dmidecode((folder / "dmidecode.txt").read_text())
    return parse_dump((folder / "dump.txt").read_text())
