"""Station configuration: file + kernel command line, and safe fallbacks for bad input."""

from __future__ import annotations

from pathlib import Path

from wipestation import config

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "config"


def cmdline(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cmdline"
    p.write_text(text + "\n")
    return p


def test_defaults_are_interactive(tmp_path: Path) -> None:
    cfg = config.load(cmdline(tmp_path, "console=ttyS0 quiet"))
    assert cfg.unattended is False
    assert (cfg.method, cfg.verify, cfg.errors) == ("auto", "sample", ())


def test_file_values_are_read(tmp_path: Path) -> None:
    cfg = config.load(cmdline(tmp_path, ""), (FIX / "good.toml",))
    assert cfg.errors == ()
    assert cfg.station == "bay-3"
    assert cfg.unattended is True
    assert (cfg.method, cfg.verify, cfg.printer, cfg.paper) == (
        "overwrite-random",
        "full",
        "zpl:/dev/usb/lp0",
        "Letter",
    )
    assert cfg.exclude == ("S3Z9NX0M123", "/dev/disk/by-id/usb-Kingston_DT_1234")
    assert cfg.operator == "Ana Müller"


def test_kernel_command_line_overrides_the_file(tmp_path: Path) -> None:
    line = (
        "BOOT_IMAGE=/boot/vmlinuz wipestation.auto=0 wipestation.verify=none "
        "wipestation.exclude=SER1,SER2 wipestation.poweroff=yes wipestation.boot=PARTUUID=ab-01"
    )
    cfg = config.load(cmdline(tmp_path, line), (FIX / "good.toml",))
    assert cfg.unattended is False
    assert cfg.verify == "none"
    assert cfg.exclude == ("SER1", "SER2")
    assert cfg.poweroff is True
    assert cfg.errors == ()  # wipestation.boot belongs to the safety layer, not an error


def test_bad_values_fall_back_and_never_enable_unattended(tmp_path: Path) -> None:
    cfg = config.load(cmdline(tmp_path, ""), (FIX / "bad-values.toml",))
    assert cfg.unattended is False
    assert cfg.verify == "sample"
    assert cfg.verify_percent == 10.0
    assert (cfg.printer, cfg.paper) == ("", "A4")
    text = "\n".join(cfg.errors)
    for key in ("verify:", "verify_percent:", "printer:", "paper:", "wipe_everything_fast:"):
        assert key in text
    assert "unattended mode disabled because the configuration has errors" in text
    assert str(FIX / "bad-values.toml") in text


def test_unreadable_file_is_reported_and_ignored(tmp_path: Path) -> None:
    cfg = config.load(cmdline(tmp_path, "wipestation.auto=1"), (FIX / "broken-syntax.toml",))
    assert cfg.unattended is False
    assert any("broken-syntax.toml: unreadable" in e for e in cfg.errors)


def test_bad_kernel_option_names_its_source(tmp_path: Path) -> None:
    cfg = config.load(cmdline(tmp_path, "wipestation.auto=maybe wipestation.method=../../x"))
    assert cfg.unattended is False
    assert cfg.method == "auto"
    assert any(e.startswith("kernel command line: unattended:") for e in cfg.errors)
    assert any(e.startswith("kernel command line: method:") for e in cfg.errors)


def test_unknown_method_is_rejected_by_the_registry_check(tmp_path: Path) -> None:
    known = {"auto", "overwrite-zero"}.__contains__
    cfg = config.load(cmdline(tmp_path, "wipestation.method=overwrite-sero"), known_method=known)
    assert cfg.method == "auto"
    assert "unknown method 'overwrite-sero'" in cfg.errors[0]


def test_console_and_ui_options(tmp_path: Path) -> None:
    cfg = config.load(cmdline(tmp_path, "wipestation.console=ttyS0 wipestation.ui=headless"))
    assert (cfg.console, cfg.ui, cfg.errors) == ("ttyS0", "headless", ())
    bad = config.load(cmdline(tmp_path, "wipestation.console=/dev/sda wipestation.ui=gui"))
    assert (bad.console, bad.ui) == ("tty1", "tui")
    assert len(bad.errors) == 2
