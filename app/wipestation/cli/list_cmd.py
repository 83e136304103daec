"""``wipestation list``: the inventory as a table or JSON."""

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
    add_exclude_argument(p)


def run(args: argparse.Namespace) -> int:
    drives = Inventory(args.exclude).drives()
    if args.json:
        print(json.dumps([d.to_json() for d in drives], indent=2, ensure_ascii=False))
    else:
        print(format_table(drives))
        for line in controllers.hidden_disks(drives):  # e.g. "... : no disks visible"
            print(f"CONTROLLER {line}")
    return 0


def status_of(d: Drive) -> str:
    if d.protected:
        return "PROTECTED: " + "; ".join(d.protected_reasons)
    if d.read_only:
        return "read-only"
    return (
        f"NOT A DRIVE: {controllers.not_a_drive(d)}" if controllers.not_a_drive(d) else "wipeable"
    )


def format_table(drives: list[Drive]) -> str:
    head = ("DEVICE", "TRANSPORT", "MODEL", "SERIAL", "SIZE", "STATUS")
    rows = [head]
    for d in drives:
        status = status_of(d)
        rows.append(
            (
                d.path,
                str(d.transport),
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
