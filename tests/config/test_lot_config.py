"""The lot settings: kernel options and file, the manifest path, and every record carrying them."""

from __future__ import annotations

from pathlib import Path

from wipestation import config, paths
from wipestation.config import StationConfig
from wipestation.reports.sign import verify_bytes
from wipestation.reports.writer import ReportWriter

from tests.reports.factory import job


def load(tmp_path: Path, line: str, toml: str = "") -> StationConfig:
    cmdline = tmp_path / "cmdline"
    cmdline.write_text(line + "\n")
    file = tmp_path / "wipestation.toml"
    file.write_text(toml, encoding="utf-8")
    return config.load(cmdline, (file,))


def test_lot_location_and_manifest_from_the_kernel_command_line(tmp_path: Path) -> None:
    cfg = load(
        tmp_path,
        "quiet wipestation.lot=LOT-2026-17 wipestation.location=bay-3 "
        "wipestation.manifest=manifests/acme.csv",
    )
    assert cfg.errors == ()
    assert (cfg.lot, cfg.location) == ("LOT-2026-17", "bay-3")
    # relative: a file the boot stick brought along, copied into this boot's run directory
    assert cfg.manifest == str(paths.RUN_DIR / "manifests" / "acme.csv")


def test_an_absolute_manifest_is_kept_and_the_command_line_wins(tmp_path: Path) -> None:
    toml = '[station]\nlot = "FROM-FILE"\nlocation = "Halle 2, Tor 4"\nmanifest = "m.csv"\n'
    cfg = load(tmp_path, "wipestation.manifest=/media/stick/lot.csv", toml)
    assert cfg.errors == ()
    assert (cfg.lot, cfg.location) == ("FROM-FILE", "Halle 2, Tor 4")
    assert cfg.manifest == "/media/stick/lot.csv"


def test_no_lot_by_default(tmp_path: Path) -> None:
    cfg = load(tmp_path, "quiet")
    assert (cfg.lot, cfg.location, cfg.manifest) == ("", "", "")


def test_every_record_of_the_station_carries_the_lot(tmp_path: Path) -> None:
    cfg = StationConfig(
        station="bench-9",
        report_dir=str(tmp_path / "out"),
        operator="Kim",
        customer="ACME",
        lot="LOT-7",
        location="bay-3",
    )
    writer = ReportWriter.from_config(cfg, spool_dir=tmp_path / "spool")
    json_path = writer.write(job(), asset_tag="AT-9")[0]
    writer.close()
    rec = verify_bytes(json_path.read_bytes()).record
    assert rec is not None
    assert (rec["lot_id"], rec["station"]["location"]) == ("LOT-7", "bay-3")
    assert (rec["operator"], rec["customer"], rec["asset_tag"]) == ("Kim", "ACME", "AT-9")
