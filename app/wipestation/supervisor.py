"""Keeps the station screen up: builds the ``Services`` while Textual loads, runs the App, and
restarts it on the same services if it crashes.

Why outside the App: the engine outlives the screen. If the screen crashes, the crash goes to a
log file (never a traceback on the console), a new App is started on the same engine, and the
running wipes carry on and are reattached. Textual is imported only inside ``run_station`` so the
other commands stay light (tests/test_import_hygiene.py).
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from wipestation import boottimes, paths
from wipestation.config import StationConfig
from wipestation.errors import ToolError, WipestationError
from wipestation.services import Services
from wipestation.tools import systemctl
from wipestation.tui import POWEROFF

MAX_RESTARTS = 5
RESTART_PAUSE_S = 1.0


class ScreenApp(Protocol):
    return_code: int | None

    def run(self, *, headless: bool = False) -> str | None: ...


AppFactory = Callable[..., ScreenApp]


def run_station(
    cfg: StationConfig,
    *,
    ascii_only: bool | None = None,
    services: Services | None = None,
    app_class: AppFactory | None = None,
    headless: bool = False,
    extra: dict[str, object] | None = None,
) -> str | None:
    """Run the screen until it exits; restart it on the same services if it crashes. Returns
    what the screen asked for (``tui.POWEROFF``, ``tui.RESTART``) or None.

    ``services``/``app_class``/``headless`` let tests run the restart loop without a station;
    ``extra`` goes to the App as keyword arguments.
    """
    building = None if services is not None else Building(cfg)
    from wipestation.tui.app import WipestationApp

    boottimes.mark("screen-imported")
    factory: AppFactory = app_class or WipestationApp  # type: ignore[assignment]
    if building is not None:
        services = building.result()
    assert services is not None
    with logging_to_file(paths.STATION_LOG):
        return _run_screens(factory, services, ascii_only, headless, extra or {})


class Building:
    """``build_services`` on a thread while the screen's modules load (Textual is ~3 s of a boot
    under QEMU TCG, and the station spends part of its start waiting on udev and ``mount``)."""

    def __init__(self, cfg: StationConfig) -> None:
        import wipestation.discovery.monitor  # noqa: F401 - both sides import it; load it once here

        self._services: Services | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._build, args=(cfg,), name="station-build", daemon=True
        )
        self._thread.start()

    def _build(self, cfg: StationConfig) -> None:
        try:
            from wipestation.assembly import build_services  # imported here, off the main thread

            self._services = build_services(cfg)
            boottimes.mark("engine-ready")
        except BaseException as e:  # noqa: BLE001 - handed to the caller by result()
            self._error = e

    def result(self) -> Services:
        self._thread.join()
        if isinstance(self._error, OSError):  # journal/spool dir, udev monitor: one clear line
            raise WipestationError(f"cannot start the station: {self._error}") from self._error
        if self._error is not None:
            raise self._error
        assert self._services is not None
        return self._services


def _run_screens(
    factory: AppFactory,
    services: Services,
    ascii_only: bool | None,
    headless: bool,
    extra: dict[str, object],
) -> str | None:
    for attempt in range(1, MAX_RESTARTS + 1):
        app = factory(services=services, ascii_only=ascii_only, **extra)
        captured = io.StringIO()
        with contextlib.redirect_stderr(captured):  # Textual prints a crash's traceback here
            result = app.run(headless=headless)
        boottimes.startup_done()  # also when the screen failed before it was up
        if app.return_code in (0, None):
            return shutdown(services, result)
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
    services.engine.wait()
    return shutdown(services, None)


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
    path = paths.CRASH_LOG
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(f"---- {time.strftime('%Y-%m-%d %H:%M:%S')}\n{text}\n")
    except OSError:
        path = Path("/tmp/wipestation-tui-crash.log")
        path.write_text(text, encoding="utf-8")
    return path


def shutdown(services: Services, result: str | None) -> str | None:
    """Stop jobs (recorded as cancelled), flush reports, and power off when asked to."""
    services.close()
    if result != POWEROFF:
        return result
    try:
        systemctl.poweroff()
    except ToolError as e:
        print(f"wipestation: could not power off: {e}", file=sys.stderr)
    return result
