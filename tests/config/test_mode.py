"""``mode = "computer"`` (file or ``wipestation.mode=computer``) and the one rule of which drives
computer mode takes (computermode.py): internal only; external and unknown never by default."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from wipestation import computermode, config
from wipestation.model import Attachment

from tests.tui.fakes import make_drive


def load(tmp_path: Path, cmdline: str, toml: str = "") -> config.StationConfig:
    (tmp_path / "cmdline").write_text(cmdline + "\n")
    (tmp_path / "w.toml").write_text(toml)
    return config.load(tmp_path / "cmdline", (tmp_path / "w.toml",))


def test_the_default_is_a_station(tmp_path: Path) -> None:
    cfg = load(tmp_path, "quiet")
    assert cfg.mode == "station"
    assert not computermode.on(cfg)


def test_the_kernel_option_and_the_file_set_computer_mode(tmp_path: Path) -> None:
    assert load(tmp_path, "wipestation.mode=computer wipestation.auto=1").mode == "computer"
    assert computermode.on(load(tmp_path, "", '[station]\nmode = "computer"\n'))


def test_a_misspelt_mode_is_one_clear_error_and_never_wipes(tmp_path: Path) -> None:
    cfg = load(tmp_path, "wipestation.mode=computr wipestation.auto=1")
    assert cfg.mode == "station"
    assert cfg.unattended is False
    assert cfg.errors == (
        "kernel command line: mode: must be one of station, computer; using 'station'",
        "unattended mode disabled because the configuration has errors",
    )


def test_only_internal_wipeable_drives_are_the_computers() -> None:
    nvme = replace(make_drive("nvme0n1"), attachment=Attachment.INTERNAL)
    usb = replace(
        make_drive("sdc"), attachment=Attachment.EXTERNAL, attachment_why="on a USB bridge"
    )
    loop = make_drive("loop0")  # attachment unknown
    stick = replace(
        make_drive("sda", protected=("the boot stick",)), attachment=Attachment.INTERNAL
    )
    assert [computermode.takes(d) for d in (nvme, usb, loop, stick)] == [True, False, False, False]
    assert computermode.left_out(usb) == "external (on a USB bridge): not this computer's"
    assert computermode.left_out(loop) == "not known to be inside this computer"
    assert computermode.left_out(stick) == "not wipeable"
    assert computermode.certified([usb, nvme, loop, stick, nvme]) == [nvme, stick]


def test_unattended_computer_mode_powers_off_when_done() -> None:
    base = config.StationConfig(station="x", unattended=True)
    assert computermode.powers_off(replace(base, mode="computer"))
    assert not computermode.powers_off(base)
    assert computermode.powers_off(replace(base, poweroff=True))
    assert not computermode.powers_off(replace(base, mode="computer", unattended=False))
