"""Builds a running station's collaborators once, for every front end (TUI, headless conveyor).

Why one place: the TUI and unattended mode must wipe through the very same engine, report writer
and hotplug watcher, wired the same way.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from wipestation.config import StationConfig
from wipestation.errors import WipestationError

log = logging.getLogger(__name__)


def journal_dir(cfg: StationConfig) -> Path:
    """Persistent storage for the wipe journal: the report dir, else the report/boot stick.

    A journal on tmpfs would not survive the power cut it exists for, so when a stick is
    present it stays mounted for the session and the journal lives in ``.wipestation/journal``.
    """
    from wipestation.engine.journal import journal_dir_for
    from wipestation.reports.target import StickTarget

    if cfg.report_dir:
        return journal_dir_for(cfg.report_dir)
    target = StickTarget()
    for part in target.candidates():
        try:
            return target.keep_mounted(part) / ".wipestation" / "journal"
        except (WipestationError, OSError) as e:
            log.warning("journal cannot live on %s: %s", part.device, e)
    return journal_dir_for(None)


def build_station(cfg: StationConfig) -> dict[str, Any]:
    """The real collaborators (engine, inventory, watcher, writer, probe, planner), started."""
    from wipestation import methods, probe
    from wipestation.discovery.inventory import Inventory
    from wipestation.discovery.monitor import DriveWatcher
    from wipestation.engine.jobs import Engine
    from wipestation.reports.writer import ReportWriter

    inventory = Inventory(cfg.exclude)
    writer = ReportWriter.from_config(cfg)  # report_dir, else the report stick or boot stick
    engine = Engine(
        inventory,
        journal_dir=journal_dir(cfg),
        report_writer=writer,
        sample_percent=cfg.verify_percent,
    )
    watcher = DriveWatcher(inventory)
    watcher.start()
    writer.watch(watcher)
    return {
        "engine": engine,
        "inventory": inventory,
        "watcher": watcher,
        "report_writer": writer,
        "probe": probe.probe_cached,
        "planner": methods.build_plan,
    }
