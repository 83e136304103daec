"""``wipestation tui``: the station screen on this terminal, over the real services.

The supervisor (``wipestation.supervisor``) builds the services, runs the screen and restarts it
on a crash; this module only reads the configuration the way a booted station does.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from wipestation import config, paths, supervisor
from wipestation.cli import add_exclude_argument
from wipestation.config import StationConfig
from wipestation.planning import catalogue


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="a wipestation.toml to read after the image's")
    p.add_argument("--report-dir", metavar="DIR", help="write reports here (overrides the config)")
    p.add_argument("--ascii", action="store_true", help="ASCII only (default on TERM=linux/vt*)")
    add_exclude_argument(p)


def run(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    supervisor.run_station(cfg, ascii_only=True if args.ascii else None)
    return 0


def load_config(args: argparse.Namespace) -> StationConfig:
    files = [paths.IMAGE_CONFIG, paths.STICK_COPY, *([Path(args.config)] if args.config else [])]
    cfg = config.load(toml_paths=tuple(files), known_method=catalogue.known)
    if args.exclude:
        cfg = replace(cfg, exclude=(*cfg.exclude, *args.exclude))
    if args.report_dir:
        cfg = replace(cfg, report_dir=args.report_dir)
    return cfg
