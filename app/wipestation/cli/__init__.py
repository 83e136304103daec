"""The command-line front end: a thin layer over discovery, the engine and the reports.

Each command lives in its own module exposing ``add_arguments(parser)`` and ``run(args) -> int``;
this file only wires them. Errors from the app become one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from wipestation import __version__
from wipestation.errors import WipestationError

#: command → (module, one-line help). Order is the order ``--help`` shows.
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("wipestation.cli.list_cmd", "list drives and whether each may be wiped"),
    "probe": (
        "wipestation.cli.probe_cmd",
        "show what a drive supports and the plan auto would run",
    ),
    "station": ("wipestation.cli.station_cmd", "boot-time station UI (run by the image)"),
    "wipe": ("wipestation.cli.wipe_cmd", "erase drives with a named method, verify, and report"),
    "methods": (
        "wipestation.cli.methods_cmd",
        "list erase methods, their NIST level and transports",
    ),
    "verify-report": (
        "wipestation.cli.verify_report_cmd",
        "check that a JSON record is exactly what a station signed",
    ),
    "print-label": ("wipestation.cli.print_label_cmd", "print a drive label from a JSON record"),
    "tui": ("wipestation.cli.tui_cmd", "the station screen: select, wipe and watch every drive"),
    "lot": ("wipestation.cli.lot_cmd", "lots: reconcile signed records against a manifest"),
    "store": ("wipestation.cli.store_cmd", "the floor's S3-compatible object store: check it"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """All commands; with ``only``, import just that command's module (boot time under TCG)."""
    parser = argparse.ArgumentParser(prog="wipestation", description="Drive sanitization station.")
    parser.add_argument("--version", action="version", version=f"wipestation {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log commands to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if only is not None and name != only:
            continue
        mod = importlib.import_module(module)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def add_exclude_argument(p: argparse.ArgumentParser) -> None:
    """The same exclusion option on every command that touches drives."""
    p.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="X",
        help="never touch this drive: path, by-id link, serial or WWN (repeatable, comma lists ok)",
    )


def run(argv: list[str]) -> int:
    command = next((a for a in argv if not a.startswith("-")), "tui")
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "_run", None):  # no command: the station screen
        args = parser.parse_args(["tui", *argv])
    try:
        return int(args._run(args) or 0)
    except WipestationError as e:
        print(f"wipestation: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("wipestation: interrupted", file=sys.stderr)
        return 130
