"""What importing the modules really loads, in a fresh interpreter (tests/test_architecture.py
reads the imports from the source; this checks what a lazy import leaves out at run time).

- Nothing outside ``wipestation.tui`` loads Textual (style.md): the CLI, the engine and the
  reports must start fast and run headless, so whoever starts the screen imports it lazily.
- The station's start-up loads neither reportlab nor cryptography: only the report renderers, the
  signer and the command that checks signatures do, on first use.
- ``wipestation wipe`` loads neither before its first record: it signs then, and its PDFs are
  rendered in worker processes (``reports/render_worker.py``), so the wiping process never loads
  reportlab at all (tests/reports/test_render_worker.py runs the command).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

APP = Path(__file__).resolve().parents[1] / "app"


def module_names() -> list[str]:
    names = []
    for p in sorted((APP / "wipestation").rglob("*.py")):
        parts = list(p.relative_to(APP).with_suffix("").parts)
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def run_probe(probe: str, modules: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(modules)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


PROBE = r"""
import importlib, json, sys
names, failed, loaded_by = [], {}, {}
def note(who):  # which import first loaded each library we watch
    for lib in ("textual", "reportlab", "cryptography"):
        if lib in sys.modules and lib not in loaded_by:
            loaded_by[lib] = who
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
        names.append(name)
    except Exception as e:  # report, do not hide: a module that cannot import is a bug too
        failed[name] = repr(e)
    note(name)
if "wipestation.cli" in names:
    import wipestation.cli
    wipestation.cli.build_parser()  # imports every command module, tui_cmd included
    note("wipestation.cli.build_parser()")
print(json.dumps({"loaded_by": loaded_by, "imported": names, "failed": failed}))
"""

OUTSIDE_THE_TUI = [
    m
    for m in module_names()
    if not (m == "wipestation.tui" or m.startswith("wipestation.tui.") or m.endswith("__main__"))
]


def test_textual_is_imported_only_by_the_tui() -> None:
    assert len(OUTSIDE_THE_TUI) > 40
    assert "wipestation.cli.tui_cmd" in OUTSIDE_THE_TUI
    report = run_probe(PROBE, OUTSIDE_THE_TUI)
    assert report["failed"] == {}
    assert report["imported"] == OUTSIDE_THE_TUI
    assert "textual" not in report["loaded_by"], report["loaded_by"]


#: loaded on first use (reportlab is a second of a station's boot under QEMU TCG, OpenSSL's
#: bindings a fifth): the certificate and summary renderers, the signer, and `verify-report`.
LATE = (
    "wipestation.reports.fonts",
    "wipestation.reports.pdf",
    "wipestation.reports.qr",
    "wipestation.reports.sign",
    "wipestation.reports.identity",
    "wipestation.reports.trust",
    "wipestation.cli.verify_report_cmd",
    # lots are reconciled on request (``wipestation lot``), never at a station's start-up
    "wipestation.custody.sources",
    "wipestation.custody.store_source",
    "wipestation.custody.lot",
    "wipestation.custody.lot_record",
    "wipestation.custody.lot_pdf",
    # the computer certificate's page: drawn when a computer's drives have all ended
    "wipestation.custody.computer_pdf",
    "wipestation.cli.lot_cmd",
)


def test_station_start_up_imports_neither_reportlab_nor_cryptography() -> None:
    """The station's start-up, and any other module but the LATE ones: the station screen
    included, the CLI's command table not (the station starts without building it)."""
    names = module_names()
    assert set(LATE) <= set(names), "a LATE module was renamed: update the list"
    start_up = [m for m in names if m not in LATE and m != "wipestation.cli"]
    assert "wipestation.tui.app" in start_up
    report = run_probe(PROBE, start_up)
    assert report["failed"] == {}
    assert report["imported"] == start_up
    assert set(report["loaded_by"]) == {"textual"}, report["loaded_by"]


WIPE_PROBE = r"""
import json, sys
from wipestation import cli
cli.build_parser("wipe")  # what ``wipestation wipe ...`` imports before it runs
print(json.dumps({"loaded_by": {lib: "wipe" for lib in ("textual", "reportlab", "cryptography",
    "PIL") if lib in sys.modules}, "imported": [], "failed": {}}))
"""


def test_the_wipe_command_starts_without_reportlab_cryptography_or_pillow() -> None:
    """Issue 18: a whole ``wipestation wipe`` of one drive was 0.9 s, a third of it imports."""
    assert run_probe(WIPE_PROBE, [])["loaded_by"] == {}
