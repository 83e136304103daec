"""Builds a running station's collaborators once, for every front end (TUI, headless conveyor).

Why one place: the TUI and unattended mode must wipe through the very same engine, report writer
and hotplug watcher, wired the same way.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from wipestation.config import StationConfig
from wipestation.errors import WipestationError

log = logging.getLogger(__name__)
#: Unattended stations wait this long at start for a report stick udev is still identifying
#: (USB storage appears seconds into a boot): its journal decides which wipes resume.
JOURNAL_STICK_WAIT_S = 10.0


def journal_dir(cfg: StationConfig, wait_s: float = 0.0, poll_s: float = 0.5) -> Path:
    """Persistent storage for the wipe journal: the report dir, else the report/boot stick.

    A journal on tmpfs would not survive the power cut it exists for, so when a stick is
    present it stays mounted for the session and the journal lives in ``.wipestation/journal``.
    ``wait_s``: how long to wait for a stick udev has not identified yet (unattended mode, which
    starts wiping at once and must first see an interrupted wipe's journal to resume it).
    """
    from wipestation.engine.journal import journal_dir_for
    from wipestation.reports.target import StickTarget

    if cfg.report_dir:
        return journal_dir_for(cfg.report_dir)
    target = StickTarget()
    deadline = time.monotonic() + wait_s
    while not (parts := target.candidates()) and time.monotonic() < deadline:
        time.sleep(poll_s)
    if not parts and wait_s:
        log.warning("no report stick after %.0f s: the wipe journal stays in RAM", wait_s)
    for part in parts:
        try:
            return target.keep_mounted(part) / ".wipestation" / "journal"
        except (WipestationError, OSError) as e:
            log.warning("journal cannot live on %s: %s", part.device, e)
    return journal_dir_for(None)


def build_station(cfg: StationConfig) -> dict[str, Any]:
    """The real collaborators (engine, inventory, watcher, writer, probe, planner), started."""
    from wipestation import methods, probe
    from wipestation.discovery import udev
    from wipestation.discovery.inventory import Inventory
    from wipestation.discovery.monitor import DriveWatcher
    from wipestation.engine.jobs import Engine
    from wipestation.reports.writer import ReportWriter

    inventory = Inventory(cfg.exclude)
    writer = ReportWriter.from_config(cfg)  # report_dir, else the report stick or boot stick
    # Only the first choice waits for a stick; a journal left in RAM looks again now and then.
    waits = iter([JOURNAL_STICK_WAIT_S if cfg.unattended else 0.0])
    engine = Engine(
        inventory,
        # chosen when the first wipe starts: at boot the station starts before udev has
        # identified the report stick (the journal belongs there, to survive a power cut)
        journal_dir=lambda: journal_dir(cfg, next(waits, 0.0)),
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
        "udev_busy": udev.still_reading,
    }
