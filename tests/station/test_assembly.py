"""Where the wipe journal lives: on the report stick, which an unattended station waits for."""

from __future__ import annotations

from pathlib import Path

from wipestation import assembly
from wipestation.config import StationConfig
from wipestation.reports import target as target_mod
from wipestation.reports.target import Partition

STICK = Partition("/dev/sdf1", "WIPEREPORTS", "vfat")


def stick_after(monkeypatch, tmp_path: Path, calls: int) -> list[int]:
    """The stick is identified on the ``calls``-th look; keep_mounted mounts it at tmp_path."""
    looks: list[int] = []

    def candidates(self) -> list[Partition]:
        looks.append(1)
        return [STICK] if len(looks) >= calls else []

    monkeypatch.setattr(target_mod.StickTarget, "candidates", candidates)
    monkeypatch.setattr(target_mod.StickTarget, "keep_mounted", lambda self, part: tmp_path)
    return looks


def test_an_unattended_station_waits_for_the_report_stick(monkeypatch, tmp_path) -> None:
    looks = stick_after(monkeypatch, tmp_path, calls=3)
    where = assembly.journal_dir(StationConfig(station="t"), wait_s=5, poll_s=0.01)
    assert where == tmp_path / ".wipestation" / "journal"
    assert len(looks) == 3


def test_without_waiting_a_late_stick_is_not_used(monkeypatch, tmp_path) -> None:
    looks = stick_after(monkeypatch, tmp_path, calls=3)
    where = assembly.journal_dir(StationConfig(station="t"))
    assert not str(where).startswith(str(tmp_path))
    assert len(looks) == 1


def test_no_stick_at_all_gives_up_after_the_wait(monkeypatch, tmp_path) -> None:
    looks = stick_after(monkeypatch, tmp_path, calls=10**6)
    where = assembly.journal_dir(StationConfig(station="t"), wait_s=0.05, poll_s=0.01)
    assert not str(where).startswith(str(tmp_path))
    assert 2 <= len(looks) < 50
