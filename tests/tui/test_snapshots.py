"""Layout snapshots of the main view (80x24 console, 160x50 large terminal) and the confirmation.

Deterministic: a fake engine with fixed numbers, a fixed clock, no cursor blink, pinned sizes.
Re-record with ``make snapshot-update`` after an intended layout change.
"""

from __future__ import annotations

from wipestation.model import Drive, JobState, Transport

from tests.tui.conftest import rack
from tests.tui.fakes import GB, FakeEngine, make_drive


def mixed_rack(extra: int = 0) -> list[Drive]:
    drives = rack() + [
        make_drive("sdd", "ZL2ABC01", 4000 * GB, model="ST4000DM004-2CV104"),
        make_drive("sde", "7SGZ1XYZ", 12000 * GB, model="HGST HUH721212ALE604"),
        make_drive("sdf", "", 256 * GB, transport=Transport.USB, model="Kingston DataTraveler"),
    ]
    drives += [make_drive(f"sd{chr(ord('g') + i)}", f"EXTRA{i:04d}") for i in range(extra)]
    return drives


def busy_engine(drives: list[Drive]) -> FakeEngine:
    engine = FakeEngine()
    by_name = {d.name: d for d in drives}
    states = {
        "sdb": dict(
            state=JobState.ERASING,
            bytes_done=420 * GB,
            bytes_total=1000 * GB,
            rate_bps=148e6,
            eta_s=3720,
            pass_index=1,
            pass_count=2,
            phase="erase",
        ),
        "sdc": dict(state=JobState.PASSED, bytes_done=500 * GB, bytes_total=500 * GB),
        "nvme0n1": dict(state=JobState.FAILED, last_error="verification failed at 4096+512"),
        "sdd": dict(
            state=JobState.VERIFYING,
            bytes_done=100 * GB,
            bytes_total=400 * GB,
            rate_bps=210e6,
            eta_s=1428,
            pass_index=2,
            pass_count=2,
        ),
        "sde": dict(state=JobState.QUEUED),
    }
    for name, changes in states.items():
        job = engine.start_method(by_name[name], "nist-clear")
        engine.advance(job, **changes)
    return engine


def test_main_view_80x24_console(snap_compare, make_app) -> None:
    drives = mixed_rack()
    app, _, _ = make_app(drives=drives, engine=busy_engine(drives), ascii_only=True)
    assert snap_compare(app, terminal_size=(80, 24), press=["down", "down"])


def test_main_view_160x50(snap_compare, make_app) -> None:
    drives = mixed_rack(extra=6)
    app, _, _ = make_app(drives=drives, engine=busy_engine(drives), ascii_only=False)
    assert snap_compare(app, terminal_size=(160, 50), press=["down", "space"])


def test_confirmation_80x24(snap_compare, make_app) -> None:
    app, _, _ = make_app(ascii_only=True)
    assert snap_compare(
        app, terminal_size=(80, 24), press=["a", "w", "W", "I", "P", "E", "space", "1", "enter"]
    )
