"""A boot stick named on the command line is never silently lost: it is waited for visibly, its
absence holds unattended wiping back, and its late arrival restarts the station."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from wipestation import paths, station
from wipestation.config import StationConfig

SPEC = station.StickSpec("abcd1234-01")


def link(dev_disk: Path, spec: station.StickSpec, target: Path) -> None:
    where = dev_disk / "by-partuuid"
    where.mkdir(parents=True, exist_ok=True)
    (where / spec.partuuid).symlink_to(target)


def test_the_wait_is_told_with_the_elapsed_time(tmp_path: Path) -> None:
    told: list[float] = []
    found = station.find_stick(SPEC, tmp_path, wait_s=1.2, sleep=lambda s: None, tell=told.append)
    assert found is None
    assert told, "a wait for a named stick must never be silent"
    assert told == sorted(told)
    assert station.waiting_line(SPEC, 3.4) == (
        "waiting for the boot stick (PARTUUID=abcd1234-01) ... 3 s"
    )


def test_a_stick_that_is_not_named_is_not_waited_for(tmp_path: Path) -> None:
    told: list[float] = []
    assert station.find_stick(station.StickSpec(), tmp_path, wait_s=60, tell=told.append) is None
    assert told == []


def test_a_missing_named_stick_holds_unattended_wiping_and_says_why() -> None:
    cfg = station.hold_for_stick(StationConfig(station="s", unattended=True), SPEC)
    assert cfg.unattended is False
    assert "PARTUUID=abcd1234-01" in cfg.errors[0]
    assert "unattended wiping waits for it" in cfg.errors[0]


def test_the_banner_says_no_boot_stick_only_when_none_was_named() -> None:
    cfg = StationConfig(station="s")
    assert "no boot stick" in station.banner(cfg, "tty1", None)
    named = station.banner(cfg, "tty1", None, spec=SPEC)
    assert "no boot stick" not in named
    assert "PARTUUID=abcd1234-01 not found yet" in named


def test_boot_config_without_the_named_stick(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(paths, "STICK_COPY", tmp_path / "stick-wipestation.toml")
    monkeypatch.setattr(paths, "IMAGE_CONFIG", tmp_path / "none.toml")
    monkeypatch.setattr(station, "STICK_WAIT_S", 0.3)
    monkeypatch.setattr(station.StickSpec, "present", lambda self, dev_disk=None: None)
    cmdline = tmp_path / "cmdline"
    cmdline.write_text("wipestation.auto=1 wipestation.boot=PARTUUID=abcd1234-01\n")
    out = io.StringIO()
    stick, cfg, read = station.boot_config(SPEC, cmdline, out)
    assert stick is None
    assert not read
    assert not cfg.unattended
    assert "waiting for the boot stick (PARTUUID=abcd1234-01)" in out.getvalue()


def test_the_log_view_returns_when_the_stick_arrives(tmp_path: Path) -> None:
    """The restart that follows re-reads the settings (it may be the controlling terminal)."""
    spec = station.StickSpec("feed0001-01")
    dev_disk = tmp_path / "disk"

    class Spec(station.StickSpec):
        def present(self, dev_disk: Path = dev_disk) -> Path | None:
            return super().present(dev_disk)

    log = tmp_path / "station.log"
    log.write_text("START X /dev/sdb overwrite-zero job=1\n")
    out = io.StringIO()
    view = threading.Thread(
        target=station.run_log_view,
        args=(StationConfig(station="s", console="ttyS0"), out, log, Spec(spec.partuuid)),
    )
    view.start()
    link(dev_disk, spec, tmp_path)
    view.join(10)
    assert not view.is_alive()
    assert "The boot stick arrived: restarting with its settings." in out.getvalue()


def test_a_copy_made_by_the_other_terminal_counts_as_arrived(monkeypatch, tmp_path: Path) -> None:
    """Both terminals' instances wait for the stick; the one that sees it first copies its
    settings. The other, already held, must restart on that copy, not wait for a link it
    may have missed."""
    monkeypatch.setattr(paths, "STICK_COPY", tmp_path / "stick-wipestation.toml")
    monkeypatch.setattr(station.StickSpec, "present", lambda self, dev_disk=None: None)
    assert not SPEC.arrived()
    paths.STICK_COPY.write_text('console = "ttyS0"\n')
    assert SPEC.arrived()
