"""``wipestation methods``: every method in the catalogue with its NIST 800-88 level per medium."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping

from wipestation.model import Transport
from wipestation.planning.catalogue import Method, all_methods
from wipestation.planning.medium import NOT_DRIVES, Medium


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print a JSON array, one object per method")


def run(args: argparse.Namespace) -> int:
    found = all_methods()
    if args.json:
        print(json.dumps([m.to_json() for m in found], indent=2, ensure_ascii=False))
    else:
        print(format_table(found))
    return 0


def describe_levels(levels: Mapping[Medium, str]) -> str:
    values = set(levels.values())
    if len(values) == 1 and set(levels) >= set(Medium) - NOT_DRIVES:
        return next(iter(values))
    return " ".join(f"{medium}:{level}" for medium, level in levels.items())


def describe_transports(transports: tuple[Transport, ...]) -> str:
    return "all" if set(transports) >= set(Transport) else ",".join(map(str, transports))


def format_table(found: Iterable[Method]) -> str:
    head = ("METHOD", "NIST 800-88", "PASSES", "TRANSPORTS", "DESCRIPTION")
    rows = [head]
    for m in found:
        rows.append(
            (
                m.name,
                describe_levels(m.levels),
                str(m.passes),
                describe_transports(m.transports),
                m.description,
            )
        )
    rows.append(("overwrite-byte:0xNN", "clear", "1", "all", "One pass of a constant byte."))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head) - 1)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
        for r in rows
    )
