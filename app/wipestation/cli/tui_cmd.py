"""``wipestation tui``: the station screen, wired to the real engine, hotplug and reports.

Textual is imported only inside ``run_station`` so every other command stays light
(tests/test_import_hygiene.py). The engine is created here, outside the App, on purpose: if the
screen crashes, the crash goes to a log file (never a traceback on the console), a new App is
started on the same engine, and the running wipes carry on and are reattached.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from wipestation import boottimes, config
from wipestation.assembly import build_station
from wipestation.cli import add_exclude_argument
from wipestation.config import StationConfig
from wipestation.errors import ToolError, WipestationError

IMAGE_CONFIG = Path("/etc/wipestation/wipestation.toml")
STICK_CONFIG = Path("/run/wipestation/stick-wipestation.toml")  # copied off the boot stick
CRASH_LOG = Path("/run/wipestation/tui-crash.log")
SESSION_LOG = Path("/run/wipestation/station.log")  # engine, reports and tool lines
MAX_RESTARTS = 5
RESTART_PAUSE_S = 1.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="a wipestation.toml to read after the image's")
    p.add_argument("--report-dir", metavar="DIR", help="write reports here (overrides the config)")
    p.add_argument("--ascii", action="store_true", help="ASCII only (default on TERM=linux/vt*)")
    add_exclude_argument(p)


def run(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    return run_station(cfg, ascii_only=True if args.ascii else None)


def load_config(args: argparse.Namespace) -> StationConfig:
    from wipestation.station import known_method  # the boot entry's check, one definition

    paths = [IMAGE_CONFIG, STICK_CONFIG, *([Path(args.config)] if args.config else [])]
    cfg = config.load(toml_paths=tuple(paths), known_method=known_method)
    changes: dict[str, Any] = {}
    if args.exclude:
        changes["exclude"] = (*cfg.exclude, *args.exclude)
    if args.report_dir:
        changes["report_dir"] = args.report_dir
    return replace(cfg, **changes) if changes else cfg


def run_station(
    cfg: StationConfig,
    *,
    ascii_only: bool | None = None,
    parts: dict[str, Any] | None = None,
    app_class: Any = None,
    headless: bool = False,
) -> int:
    """Run the screen until it exits; restart it on the same engine if it crashes.

    ``parts``/``app_class``/``headless`` let tests run the restart loop without a station.
    """
    building = None if parts is not None else Building(cfg)
    from wipestation.tui.app import WipestationApp

    boottimes.mark("screen-imported")
    factory = app_class or WipestationApp
    if building is not None:
        parts = building.result()
    assert parts is not None
    with logging_to_file(SESSION_LOG):
        return _run_screens(cfg, factory, parts, ascii_only, headless)


class Building:
    """``build_station`` on a thread while the screen's modules load (Textual is ~3 s of a boot
    under QEMU TCG, and the station spends part of its start waiting on udev and ``mount``)."""

    def __init__(self, cfg: StationConfig) -> None:
        import wipestation.discovery.monitor  # noqa: F401 - both sides import it; load it once here

        self._parts: dict[str, Any] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._build, args=(cfg,), name="station-build", daemon=True
        )
        self._thread.start()

    def _build(self, cfg: StationConfig) -> None:
        try:
            self._parts = build_station(cfg)
            boottimes.mark("engine-ready")
        except BaseException as e:  # noqa: BLE001 - handed to the caller by result()
            self._error = e

    def result(self) -> dict[str, Any]:
        self._thread.join()
        if isinstance(self._error, OSError):  # journal/spool dir, udev monitor: one clear line
            raise WipestationError(f"cannot start the station: {self._error}") from self._error
        if self._error is not None:
            raise self._error
        assert self._parts is not None
        return self._parts


def _run_screens(
    cfg: StationConfig, factory: Any, parts: dict[str, Any], ascii_only: bool | None, headless: bool
) -> int:
    for attempt in range(1, MAX_RESTARTS + 1):
        app = factory(config=cfg, ascii_only=ascii_only, **parts)
        captured = io.StringIO()
        with contextlib.redirect_stderr(captured):  # Textual prints a crash's traceback here
            result = app.run(headless=headless)
        boottimes.startup_done()  # also when the screen failed before it was up
        if app.return_code in (0, None):
            return shutdown(parts, result)
        where = save_crash(captured.getvalue())
        print(
            f"wipestation: the station screen stopped on an internal error (details in {where}); "
            f"restarting it - running wipes continue ({attempt}/{MAX_RESTARTS})",
            file=sys.stderr,
        )
        time.sleep(RESTART_PAUSE_S)
    print(
        "wipestation: the screen keeps failing; waiting for running wipes to finish",
        file=sys.stderr,
    )
    parts["engine"].wait()
    return shutdown(parts, None)


@contextlib.contextmanager
def logging_to_file(path: Path) -> Iterator[None]:
    """Log lines written to the console would tear the screen: send them to a file meanwhile."""
    root = logging.getLogger()
    saved = root.handlers[:]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.handlers = [handler]
    try:
        yield
    finally:
        root.handlers = saved
        handler.close()


def save_crash(text: str) -> Path:
    path = CRASH_LOG
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(f"---- {time.strftime('%Y-%m-%d %H:%M:%S')}\n{text}\n")
    except OSError:
        path = Path("/tmp/wipestation-tui-crash.log")
        path.write_text(text, encoding="utf-8")
    return path


def shutdown(parts: dict[str, Any], result: str | None) -> int:
    """Stop jobs (recorded as cancelled), flush reports, and power off when asked to."""
    from wipestation.tools import runner

    if parts.get("watcher") is not None:
        parts["watcher"].stop()
    parts["engine"].close()
    if parts.get("report_writer") is not None:
        parts["report_writer"].close()
    if result != "poweroff":
        return 0
    try:
        runner.run(["systemctl", "poweroff"], timeout=30)
    except ToolError as e:
        print(f"wipestation: could not power off: {e}", file=sys.stderr)
        return 1
    return 0
