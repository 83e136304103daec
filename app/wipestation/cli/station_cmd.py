"""``wipestation station``: what the image runs on tty1 and ttyS0 at boot (see station.py)."""

from __future__ import annotations

import argparse

from wipestation import station


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tty", default="", help="terminal this instance owns (for the banner)")


def run(args: argparse.Namespace) -> int:
    return station.run(args.tty)
