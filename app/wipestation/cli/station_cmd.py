"""``wipestation station``: what the image runs on tty1 and ttyS0 at boot (see station.py);
``wipestation station identity``: the station's public key for enrolment (identity_cmd.py)."""

from __future__ import annotations

import argparse

from wipestation import station
from wipestation.cli import identity_cmd  # no OpenSSL until `identity` runs


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "action", nargs="?", choices=["identity"], help="identity: print the station's public key"
    )
    p.add_argument("--tty", default="", help="terminal this instance owns (for the banner)")
    identity_cmd.add_arguments(p)


def run(args: argparse.Namespace) -> int:
    if args.action == "identity":
        return identity_cmd.run(args)
    return station.run(args.tty)
