"""Layout snapshots of the lot view: the 80x24 console and a 100x30 terminal.

Deterministic like test_snapshots.py: fake engine, fixed clock, pinned sizes. New snapshots are
recorded with ``--snapshot-update``; the issue-16 ones stay as they are.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.tui.test_scanner import lot_config
from tests.tui.test_snapshots import busy_engine, mixed_rack


def test_lot_view_80x24_console(snap_compare, make_app, tmp_path: Path) -> None:
    drives = mixed_rack()
    cfg = replace(lot_config(tmp_path), customer="ACME Recycling")
    app, _, _ = make_app(drives=drives, engine=busy_engine(drives), config=cfg, ascii_only=True)
    assert snap_compare(app, terminal_size=(80, 24), press=["o"])


def test_lot_view_100x30(snap_compare, make_app, tmp_path: Path) -> None:
    drives = mixed_rack()
    cfg = replace(lot_config(tmp_path), customer="ACME Recycling")
    app, _, _ = make_app(drives=drives, engine=busy_engine(drives), config=cfg, ascii_only=False)
    assert snap_compare(app, terminal_size=(100, 30), press=["o"])
