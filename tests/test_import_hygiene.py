"""Nothing outside ``wipestation.tui`` may import Textual (style.md): the CLI, the engine and the
reports must start fast and run headless. Checked in a fresh interpreter, over every module."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = r"""
import importlib, json, pkgutil, sys
import wipestation
skip = ("wipestation.tui", "wipestation.__main__")
names, failed = [], {}
for info in pkgutil.walk_packages(wipestation.__path__, "wipestation."):
    if info.name.startswith(skip):
        continue
    try:
        importlib.import_module(info.name)
        names.append(info.name)
    except Exception as e:  # report, do not hide: a module that cannot import is a bug too
        failed[info.name] = repr(e)
import wipestation.cli
wipestation.cli.build_parser()  # imports every command module, tui_cmd included
print(json.dumps({"textual": sorted(m for m in sys.modules if m.split(".")[0] == "textual"),
                  "imported": names, "failed": failed}))
"""


def test_textual_is_imported_only_by_the_tui() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["failed"] == {}
    for core in (
        "wipestation.engine.jobs",
        "wipestation.cli",
        "wipestation.cli.tui_cmd",
        "wipestation.discovery.inventory",
        "wipestation.discovery.monitor",
        "wipestation.reports.writer",
        "wipestation.methods",
    ):
        assert core in report["imported"]
    assert report["textual"] == []


STARTUP_PROBE = r"""
import json, sys
import wipestation.assembly, wipestation.cli.tui_cmd, wipestation.conveyor, wipestation.station
import wipestation.reports.writer, wipestation.tui.app
# what build_station imports when it runs
from wipestation import methods, probe
from wipestation.discovery.inventory import Inventory
from wipestation.discovery.monitor import DriveWatcher
from wipestation.engine.jobs import Engine
late = ("reportlab", "cryptography")
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in late})))
"""


def test_station_start_up_imports_neither_reportlab_nor_cryptography() -> None:
    """reportlab is a second of a station's boot under QEMU TCG, OpenSSL's bindings a fifth:
    loaded with the first report and the first random pass."""
    out = subprocess.run(
        [sys.executable, "-c", STARTUP_PROBE],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
