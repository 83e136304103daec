"""The boot-time station: finding the stick, layering the config, the READY banner."""

from __future__ import annotations

from pathlib import Path

from wipestation import __version__, station
from wipestation.config import StationConfig


def test_stick_spec_from_cmdline() -> None:
    spec = station.StickSpec.from_cmdline("quiet wipestation.boot=PARTUUID=ABCD1234-01 x=1")
    assert spec.partuuid == "abcd1234-01"
    assert spec.label == "WIPESTATION"
    assert station.StickSpec.from_cmdline("quiet").partuuid == ""
    assert station.StickSpec.from_cmdline("wipestation.bootlabel=MINE").label == "MINE"


def test_find_stick_prefers_partuuid_then_label(tmp_path: Path) -> None:
    (tmp_path / "by-label").mkdir()
    (tmp_path / "by-partuuid").mkdir()
    target = tmp_path / "sdb1"
    target.touch()
    (tmp_path / "by-label" / "WIPESTATION").symlink_to(target)
    spec = station.StickSpec("abcd1234-01")
    # The PARTUUID link is missing: after waiting, the label is used.
    assert station.find_stick(spec, tmp_path, wait_s=0) == target
    other = tmp_path / "sdc1"
    other.touch()
    (tmp_path / "by-partuuid" / "abcd1234-01").symlink_to(other)
    assert station.find_stick(spec, tmp_path, wait_s=0) == other
    assert station.find_stick(station.StickSpec("", "NOPE"), tmp_path) is None


def test_config_layers_and_errors(tmp_path: Path) -> None:
    image = tmp_path / "image.toml"
    image.write_text('[station]\nstation = "from-image"\nverify = "full"\n')
    stick = tmp_path / "stick.toml"
    stick.write_text('[station]\nstation = "from-stick"\nauto = true\n')
    cmdline = tmp_path / "cmdline"
    cmdline.write_text("quiet wipestation.verify=bogus wipestation.auto=1\n")
    cfg = station.load_station_config(cmdline, image, stick, ("stick unreadable",))
    assert cfg.station == "from-stick"
    assert cfg.verify == "full"  # the bad command-line value fell back
    assert not cfg.unattended
    text = station.describe_errors(cfg)
    assert "stick unreadable" in text
    assert "verify" in text
    assert "unattended mode disabled" in text  # a broken config never wipes unattended


def test_unattended_is_passed_on_but_the_fallback_list_never_wipes(tmp_path: Path) -> None:
    cmdline = tmp_path / "cmdline"
    cmdline.write_text("wipestation.auto=1\n")
    cfg = station.load_station_config(cmdline, tmp_path / "none.toml")
    assert cfg.unattended
    assert not cfg.errors


def test_unknown_method_is_a_config_error(tmp_path: Path) -> None:
    cmdline = tmp_path / "cmdline"
    cmdline.write_text("wipestation.method=no-such-method\n")
    cfg = station.load_station_config(cmdline, tmp_path / "none.toml")
    assert cfg.method == "auto"
    assert any("no-such-method" in e for e in cfg.errors)


def test_banner_carries_the_marker() -> None:
    line = station.banner(StationConfig(station="bench-3"), "ttyS0", None, 12.34)
    assert line.startswith(f"WIPESTATION READY {__version__} station=bench-3 tty=ttyS0")
    assert "uptime=12.3s" in line


def test_cursor_position_report() -> None:
    assert station.parse_cpr(b"junk\x1b[50;132R") == (50, 132)
    assert station.parse_cpr(b"\x1b[6n") is None


def test_serial_terminal_is_sized_from_the_far_end() -> None:
    """On a line with no window size (a pty stands in for ttyS0) the terminal is asked."""
    import os
    import pty
    import threading

    master, slave = pty.openpty()
    try:

        def terminal() -> None:
            query = b""
            while b"\x1b[6n" not in query:
                query += os.read(master, 64)
            os.write(master, b"\x1b[40;120R")

        t = threading.Thread(target=terminal, daemon=True)
        t.start()
        assert station.size_serial_terminal(slave, timeout=5) == (40, 120)
        assert os.get_terminal_size(slave) == os.terminal_size((120, 40))
        t.join(5)
        # Already sized: nothing is asked again.
        assert station.size_serial_terminal(slave, timeout=0.1) is None
    finally:
        os.close(master)
        os.close(slave)


def test_stick_config_is_copied_read_only_and_unmounted(make_loop, tmp_path: Path) -> None:
    """A real FAT stick (loop device): the file is copied, nothing stays mounted. (On a host
    kernel without vfat the station falls back to fusefat; the VM tests cover the kernel path.)"""
    import os
    import subprocess

    dev = make_loop(size=64 * 1024 * 1024)
    subprocess.run(["mkfs.vfat", "-n", "WIPESTATION", dev], check=True, capture_output=True)
    toml = tmp_path / "wipestation.toml"
    toml.write_text('[station]\nstation = "bench-7"\n')
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    subprocess.run(["mcopy", "-i", dev, str(toml), "::/wipestation.toml"], check=True, env=env)
    run_dir = tmp_path / "run"
    copied, problem = station.copy_stick_config(Path(dev), run_dir)
    assert problem == ""
    assert copied is not None
    assert "bench-7" in copied.read_text()
    assert dev not in Path("/proc/self/mounts").read_text()
    assert not list(run_dir.glob("stick-[0-9]*"))  # the private mount point is gone too
    # A stick without the file still leaves an (empty) copy for restarts.
    subprocess.run(["mdel", "-i", dev, "::/wipestation.toml"], check=True, env=env)
    assert not list(run_dir.rglob("*.csv"))  # no manifests on that stick
    copied, problem = station.copy_stick_config(Path(dev), run_dir)
    assert copied is not None
    assert copied.read_text() == ""


def test_stick_manifests_come_along(make_loop, tmp_path: Path) -> None:
    """A relative ``manifest`` setting names a file the boot stick brought: the top-level and
    ``manifests/`` CSVs are copied whole into the run directory; other files stay behind."""
    import os
    import subprocess

    from wipestation import paths
    from wipestation.config import manifest_path
    from wipestation.custody.manifest import load_manifest

    dev = make_loop(size=64 * 1024 * 1024)
    subprocess.run(["mkfs.vfat", "-n", "WIPESTATION", dev], check=True, capture_output=True)
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    src = tmp_path / "customer-lot.csv"  # a long name: FUSE's fusefat shows 8.3 ones in capitals
    src.write_bytes(b"\xef\xbb\xbfSerial;Asset Tag\r\nS1;T1\r\nS2;T2\r\n")
    subprocess.run(["mmd", "-i", dev, "::/manifests"], check=True, env=env)
    for where in ("::/customer-lot.csv", "::/manifests/second-lot.csv", "::/notes.txt"):
        subprocess.run(["mcopy", "-i", dev, str(src), where], check=True, env=env)
    run_dir = tmp_path / "run"
    copied, problem = station.copy_stick_config(Path(dev), run_dir)
    assert (copied is not None, problem) == (True, "")
    assert (run_dir / "customer-lot.csv").read_bytes() == src.read_bytes()
    assert (run_dir / "manifests" / "second-lot.csv").read_bytes() == src.read_bytes()
    assert not (run_dir / "notes.txt").exists()
    assert not list(run_dir.rglob(".*.csv.*"))  # no half-copied leftovers
    m = load_manifest(str(run_dir / "customer-lot.csv"))
    assert [e.asset_tag for e in m.entries] == ["T1", "T2"]
    assert manifest_path("customer-lot.csv") == str(paths.RUN_DIR / "customer-lot.csv")


def test_the_stores_files_named_relatively_come_along(make_loop, tmp_path: Path) -> None:
    """``store_ca`` / ``store_credentials_file`` relative to the stick are copied beside the
    settings (root-only: the credentials hold the store's secret); a path leaving the stick,
    or an absolute one, is not followed."""
    import os
    import subprocess

    dev = make_loop(size=64 * 1024 * 1024)
    subprocess.run(["mkfs.vfat", "-n", "WIPESTATION", dev], check=True, capture_output=True)
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    toml = tmp_path / "wipestation.toml"
    toml.write_text(
        "[station]\n"
        'store_ca = "store-files/station-ca.pem"\n'
        'store_credentials_file = "../etc/shadow"\n'
    )
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    subprocess.run(["mmd", "-i", dev, "::/store-files"], check=True, env=env)
    for src, where in ((toml, "::/wipestation.toml"), (ca, "::/store-files/station-ca.pem")):
        subprocess.run(["mcopy", "-i", dev, str(src), where], check=True, env=env)
    run_dir = tmp_path / "run"
    copied, problem = station.copy_stick_config(Path(dev), run_dir)
    assert (copied is not None, problem) == (True, "")
    assert (run_dir / "store-files" / "station-ca.pem").read_text() == ca.read_text()
    assert (run_dir / "store-files" / "station-ca.pem").stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "etc").exists()
    assert not list(run_dir.rglob(".station-ca.pem.*"))  # no half-copied leftovers
