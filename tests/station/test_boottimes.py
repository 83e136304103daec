"""Start-up milestones: written only where the station unit asks for them, read back in order."""

from __future__ import annotations

from wipestation import boottimes


def test_milestones_are_written_only_when_the_unit_names_a_file(monkeypatch, tmp_path) -> None:
    target = tmp_path / "run" / "boot-times"
    monkeypatch.delenv(boottimes.ENV, raising=False)
    boottimes.mark("banner")
    assert not target.exists()
    monkeypatch.setenv(boottimes.ENV, str(target))
    monkeypatch.setenv("WIPESTATION_TTY", "ttyS0")
    boottimes.mark("banner")
    boottimes.mark("screen-up drives=3")
    marks = boottimes.read(target)
    assert [(tty, m) for _, tty, m in marks] == [
        ("ttyS0", "banner"),
        ("ttyS0", "screen-up drives=3"),
    ]
    assert 0 < marks[0][0] <= marks[1][0] <= (boottimes.uptime() or 0)


def test_an_unwritable_target_never_fails_the_station(monkeypatch, tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv(boottimes.ENV, str(blocker / "boot-times"))  # parent is a file
    boottimes.mark("banner")
    assert boottimes.read(blocker / "boot-times") == []


def test_the_collector_is_paused_for_start_up_and_back_on_after() -> None:
    import gc

    assert gc.isenabled()
    try:
        boottimes.pause_gc()
        assert not gc.isenabled()
        boottimes.startup_done()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
        boottimes.startup_done()  # a second call changes nothing
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()


def test_the_log_view_instance_steps_back(monkeypatch, tmp_path) -> None:
    niced = []
    monkeypatch.setattr(boottimes.os, "nice", lambda n: niced.append(n))
    cmdline = tmp_path / "cmdline"
    cmdline.write_text("console=ttyS0 quiet wipestation.console=ttyS0\n")
    assert boottimes.yield_if_log_view("ttyS0", str(cmdline)) is False
    assert boottimes.yield_if_log_view("tty1", str(cmdline)) is True
    cmdline.write_text("console=ttyS0 quiet\n")  # default controller: tty1
    assert boottimes.yield_if_log_view("tty1", str(cmdline)) is False
    assert boottimes.yield_if_log_view("ttyS0", str(cmdline)) is True
    assert boottimes.yield_if_log_view("ttyS0", str(tmp_path / "absent")) is False
    assert niced == [15, 15]
