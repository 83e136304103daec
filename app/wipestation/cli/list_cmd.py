"""``wipestation list``: the inventory as a table or JSON.

``--json`` stays what scripts already read: a top-level array, one object per disk. The RAID/HBA
controllers the table's CONTROLLER lines name cannot join that array without breaking a script
that reads every element as a disk, so they come with ``--json-object``: one object,
``{"drives": [...the same objects...], "controllers": [...]}``.
"""

from __future__ import annotations

import argparse
import json

from wipestation.cli import add_exclude_argument
from wipestation.discovery import controllers
from wipestation.discovery.inventory import Inventory
from wipestation.model import Drive
from wipestation.units import human_size


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print a JSON array, one object per disk")
    p.add_argument(
        "--json-object",
        action="store_true",
        help='print one JSON object: {"drives": [as --json], "controllers": [RAID/HBA/VMD '
        "controllers, each with the disks it hides and what to do]}",
    )
    add_exclude_argument(p)


def run(args: argparse.Namespace) -> int:
    drives = Inventory(args.exclude).drives()
    if args.json_object:
        print(json.dumps(document(drives, controllers.scan()), indent=2, ensure_ascii=False))
    elif args.json:
        print(json.dumps([d.to_json() for d in drives], indent=2, ensure_ascii=False))
    else:
        print(format_table(drives))
        for line in controllers.hidden_disks(drives):  # e.g. "... : no disks visible"
            print(f"CONTROLLER {line}")
    return 0


def document(drives: list[Drive], found: list[controllers.Controller]) -> dict[str, object]:
    """``--json-object``: the drives as ``--json`` prints them, and every controller found."""
    return {
        "drives": [d.to_json() for d in drives],
        "controllers": controllers.controllers_json(found, drives),
    }


def status_of(d: Drive) -> str:
    if d.protected:
        return "PROTECTED: " + "; ".join(d.protected_reasons)
    if d.read_only:
        return "read-only"
    if controllers.not_a_drive(d):
        return f"NOT A DRIVE: {controllers.not_a_drive(d)}"
    member = controllers.raid_member_notice(d)
    return f"wipeable; RAID SET: {member}" if member else "wipeable"


def format_table(drives: list[Drive]) -> str:
    head = ("DEVICE", "TRANSPORT", "WHERE", "MODEL", "SERIAL", "SIZE", "STATUS")
    rows = [head]
    for d in drives:
        status = status_of(d)
        rows.append(
            (
                d.path,
                str(d.transport),
                str(d.attachment),  # internal / external / unknown
                d.model[:28] or "-",
                (d.serial or "-")[:24],
                human_size(d.size_bytes),
                status,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head) - 1)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
        for r in rows
    ]
    return "\n".join(lines) if drives else "\n".join(lines) + "\n(no drives found)"
