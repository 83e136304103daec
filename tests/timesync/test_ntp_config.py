"""The ``ntp`` setting: a TOML list or ``wipestation.ntp=a,b``, each server checked."""

from __future__ import annotations

from pathlib import Path

from wipestation import config


def load(tmp_path: Path, toml: str, cmdline: str = "") -> config.StationConfig:
    (tmp_path / "wipestation.toml").write_text(toml)
    (tmp_path / "cmdline").write_text(cmdline)
    return config.load(tmp_path / "cmdline", (tmp_path / "wipestation.toml",))


def test_servers_from_the_file_and_the_kernel_command_line(tmp_path: Path) -> None:
    cfg = load(tmp_path, 'ntp = ["10.0.0.1", "pool.example:123", "[fd00::1]:1230"]\n')
    assert cfg.ntp == ("10.0.0.1", "pool.example", "[fd00::1]:1230")
    assert not cfg.errors
    cfg = load(tmp_path, 'ntp = ["10.0.0.1"]\n', "quiet wipestation.ntp=10.0.2.2:12345,10.0.2.3")
    assert cfg.ntp == ("10.0.2.2:12345", "10.0.2.3")
    assert not cfg.errors
    assert config.StationConfig().ntp == ()


def test_a_bad_server_is_one_clear_line_and_no_unattended_wiping(tmp_path: Path) -> None:
    cfg = load(tmp_path, 'unattended = true\nntp = ["10.0.0.1:99999"]\n')
    assert cfg.ntp == ()
    assert not cfg.unattended
    (line, *_) = cfg.errors
    assert "ntp" in line
    assert "'10.0.0.1:99999': the port must be a number from 1 to 65535" in line
    assert "\n" not in line
