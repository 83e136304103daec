"""Builds a running station's ``Services`` once, for every front end (TUI, headless conveyor).

Why one place: the screen and unattended mode must wipe through the very same planner, engine,
report writer and hotplug watcher, wired the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from wipestation.config import StationConfig, store_settings
from wipestation.discovery import udev
from wipestation.discovery.inventory import Inventory
from wipestation.discovery.monitor import DriveWatcher
from wipestation.engine.jobs import Engine
from wipestation.engine.journal import journal_dir_for
from wipestation.errors import ConfigError, WipestationError
from wipestation.planning.planner import Planner
from wipestation.reports.target import StickTarget
from wipestation.reports.writer import ReportWriter
from wipestation.services import EngineLike, Services, WatcherLike

if TYPE_CHECKING:
    from wipestation.reports.status_publisher import StatusPublisher

log = logging.getLogger(__name__)
#: Unattended stations wait this long at start for a report stick udev is still identifying
#: (USB storage appears seconds into a boot): its journal decides which wipes resume.
JOURNAL_STICK_WAIT_S = 10.0
#: A status put waits at most this long for the store (the final one delays close by as much).
STATUS_TIMEOUT_S = 5.0


def journal_dir(cfg: StationConfig, wait_s: float = 0.0, poll_s: float = 0.5) -> Path:
    """Persistent storage for the wipe journal: the report dir, else the report/boot stick.

    A journal on tmpfs would not survive the power cut it exists for, so when a stick is
    present it stays mounted for the session and the journal lives in ``.wipestation/journal``.
    ``wait_s``: how long to wait for a stick udev has not identified yet (unattended mode, which
    starts wiping at once and must first see an interrupted wipe's journal to resume it).
    """
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


def build_services(
    cfg: StationConfig,
    *,
    writer: ReportWriter | None = None,
    journal: Path | None = None,
    watcher_required: bool = True,
) -> Services:
    """The real collaborators (inventory, watcher, planner, engine, report writer), started.

    ``writer`` and ``journal`` default to the station's (``report_dir``, else the report or boot
    stick); ``wipestation wipe`` passes its own. Without ``watcher_required`` a station that
    cannot watch hotplug (no netlink in a container) still works: a pulled drive is then found
    by its I/O errors only.
    """
    inventory = Inventory(cfg.exclude)
    writer = writer or ReportWriter.from_config(cfg)
    attach_store(writer, cfg)
    # Only the first choice waits for a stick; a journal left in RAM looks again now and then.
    waits = iter([JOURNAL_STICK_WAIT_S if cfg.unattended else 0.0])
    engine = Engine(
        inventory,
        # chosen when the first wipe starts: at boot the station starts before udev has
        # identified the report stick (the journal belongs there, to survive a power cut)
        journal_dir=journal or (lambda: journal_dir(cfg, next(waits, 0.0))),
        report_writer=writer,
        sample_percent=cfg.verify_percent,
    )
    planner = Planner()
    engine.subscribe(planner.on_progress)  # a finished wipe changed what its drive reports
    watcher = start_watcher(inventory, engine, watcher_required)
    if watcher is not None:
        writer.watch(watcher)
    status = start_status(cfg, writer, inventory, engine, watcher)
    return Services(cfg, inventory, planner, engine, watcher, writer, udev.still_reading, status)


def attach_store(writer: ReportWriter, cfg: StationConfig) -> None:
    """The floor's object store, when configured: every record the writer delivers is also
    uploaded there (reports/uploader.py). Unusable store settings are logged (never the secret)
    and the stick alone takes the records, as without a store."""
    if writer.store is not None or not cfg.store:
        return
    try:
        settings = store_settings(cfg)
    except ConfigError as e:
        log.error("records NOT sent to the store: %s", e)
        return
    if settings is not None:
        from wipestation.reports.uploader import Uploader  # only a station with a store

        writer.store = Uploader(settings)
        # A restart: what an earlier run left unacknowledged is on the stick (or in RAM).
        threading.Thread(target=writer.reoffer, name="store-reoffer", daemon=True).start()


def start_status(
    cfg: StationConfig,
    writer: ReportWriter,
    inventory: Inventory,
    engine: Engine,
    watcher: DriveWatcher | None,
) -> StatusPublisher | None:
    """The station's live ``status.json`` in the store, when one is configured (none when its
    settings are unusable: ``attach_store`` already said why). Started here so the screen and
    the conveyor both have it; ``Services.close`` puts the final one."""
    try:
        settings = store_settings(cfg) if cfg.store else None
    except ConfigError:
        return None
    if settings is None:
        return None
    from wipestation.reports.station_status import StatusSources, status_key
    from wipestation.reports.status_publisher import StatusPublisher

    drives = (lambda: watcher.known().values()) if watcher is not None else inventory.drives
    sources = StatusSources(lambda: writer.station, drives, engine.snapshot, engine.results)
    client = settings.client(timeout=STATUS_TIMEOUT_S)
    return StatusPublisher(client, status_key(settings.location, cfg.station), sources.status)


def wire_removals(watcher: WatcherLike, engine: EngineLike) -> None:
    """The one place a pulled drive reaches the engine (every front end relies on it)."""
    watcher.subscribe(lambda ev: engine.drive_removed(ev.name) if ev.action == "removed" else None)


def start_watcher(inventory: Inventory, engine: Engine, required: bool) -> DriveWatcher | None:
    """Hotplug: a pulled drive ends its job at once (the errno path catches it too, on I/O)."""
    watcher = DriveWatcher(inventory)
    wire_removals(watcher, engine)
    try:
        watcher.start()
    except OSError as e:
        if required:
            raise
        log.warning("hotplug watch unavailable (%s): pulled drives are found by I/O errors", e)
        return None
    return watcher
