"""The engine's entry point: ``ReportWriter(report_dir).write(result) -> list[Path]``."""

from __future__ import annotations

from pathlib import Path

from wipestation.config import StationConfig
from wipestation.discovery.monitor import DriveEvent
from wipestation.model import IdentitySource
from wipestation.reports.sign import Signer, verify_bytes
from wipestation.reports.trust import load_trust
from wipestation.reports.writer import ReportWriter

from tests.reports.factory import STATION, drive, job, validate


def test_engine_contract_writes_signed_json_and_pdf(tmp_path: Path) -> None:
    paths = ReportWriter(tmp_path, key_home=tmp_path.parent / "keys").write(job())
    assert [p.name for p in paths] == ["S6PYNX0T123456A.json", "S6PYNX0T123456A.pdf"]
    assert paths[0].parent == tmp_path / "reports" / "2026-11-27"
    trusted = load_trust(list((tmp_path.parent / "keys").glob("*.pub.pem"))).fingerprints
    v = verify_bytes(paths[0].read_bytes(), trusted)
    assert v.ok, v.reason
    validate(v.record)
    assert paths[1].read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in tmp_path.glob(".*")) == []  # no temp files left behind


def test_second_wipe_of_the_same_serial_never_overwrites(tmp_path: Path) -> None:
    writer = ReportWriter(tmp_path, station=STATION)
    first = writer.write(job(passed=False))
    before = first[0].read_bytes()
    second = writer.write(job())
    third = writer.write(job())
    assert [p.name for p in second] == ["S6PYNX0T123456A-2.json", "S6PYNX0T123456A-2.pdf"]
    assert third[0].name == "S6PYNX0T123456A-3.json"
    assert first[0].read_bytes() == before


def test_hostile_identity_gives_a_safe_name_inside_the_day_directory(tmp_path: Path) -> None:
    evil = drive(
        serial="", identity="../../etc/passwd \x00:*?", identity_source=IdentitySource.PATH
    )
    (path, _pdf) = ReportWriter(tmp_path).write(job(drive=evil))
    assert path.parent == tmp_path / "reports" / "2026-11-27"
    assert all(c.isalnum() or c in "._-" for c in path.stem)


def test_same_station_key_signs_every_record_and_a_given_signer_is_used(tmp_path: Path) -> None:
    signer = Signer.generate()
    writer = ReportWriter(tmp_path / "a", signer=signer, key_home=tmp_path / "ka")
    a = verify_bytes(writer.write(job())[0].read_bytes())
    assert a.fingerprint == signer.fingerprint
    own = ReportWriter(tmp_path / "b", key_home=tmp_path / "kb")
    b1 = verify_bytes(own.write(job())[0].read_bytes())
    # another report directory, the same key directory: the same station key
    b2 = verify_bytes(
        ReportWriter(tmp_path / "c", key_home=tmp_path / "kb").write(job())[0].read_bytes()
    )
    assert b1.fingerprint == b2.fingerprint != signer.fingerprint


def test_no_target_keeps_records_in_memory_and_spool_until_a_writer_can_deliver(
    tmp_path: Path,
) -> None:
    spool = tmp_path / "spool"
    waiting = ReportWriter(None, spool_dir=spool)
    assert waiting.write(job()) == []
    assert waiting.status.pending == 1
    assert waiting.status.target == "off"
    assert "NOT YET SAVED" in waiting.status.message
    # the app restarts within the same boot: the tmpfs spool still has the record
    later = ReportWriter(tmp_path / "out", spool_dir=spool)
    assert later.status.pending == 1
    delivered = later.flush()
    assert len(delivered) == 1
    assert later.status.pending == 0
    assert list(spool.glob("*.json")) == []
    (paths,) = delivered.values()
    assert verify_bytes(paths[0].read_bytes()).ok


def test_unusable_directory_is_reported_then_delivered_by_a_hotplug_kick(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the report directory's parent should be")
    writer = ReportWriter(blocked / "sub", station=STATION)
    assert writer.write(job()) == []
    assert writer.status.target == "error"
    assert writer.status.pending == 1
    blocked.unlink()
    writer.on_drive_event(DriveEvent("removed", "sdz", None))  # not a reason to retry
    assert writer.status.pending == 1
    writer.on_drive_event(DriveEvent("added", "sdz", None))
    assert writer.wait_idle(60)
    assert writer.status.pending == 0
    assert writer.status.delivered == 1
    assert writer.status.message.startswith("Reports: 1 saved to directory")


def test_status_shows_the_printer(tmp_path: Path) -> None:
    lp = tmp_path / "lp0"
    lp.write_bytes(b"")
    writer = ReportWriter(tmp_path / "out", printer=f"escpos:{lp}")
    writer.write(job())
    assert writer.wait_idle(30)
    writer.close()
    assert writer.status.printer == "ready"
    assert b"S6PYNX0T123456A" in lp.read_bytes()


def test_from_station_config(tmp_path: Path) -> None:
    lp = tmp_path / "lp0"
    lp.write_bytes(b"")
    cfg = StationConfig(
        station="bench-9",
        report_dir=str(tmp_path / "out"),
        printer=f"zpl:{lp}",
        operator="Kim",
        customer="C-17",
        paper="Letter",
    )
    writer = ReportWriter.from_config(cfg, spool_dir=tmp_path / "spool")
    (json_path, _pdf) = writer.write(job(), asset_tag="AT-9")
    writer.close()
    rec = verify_bytes(json_path.read_bytes()).record
    assert rec is not None
    assert (rec["station"]["id"], rec["operator"], rec["customer"]) == ("bench-9", "Kim", "C-17")
    assert rec["asset_tag"] == "AT-9"
    assert b"^XA" in lp.read_bytes()


class KeptLabels:
    """A printer that keeps what it is asked to print."""

    def __init__(self) -> None:
        self.records: list[dict] = []

    def submit(self, record: dict) -> None:
        self.records.append(record)

    def close(self) -> None:
        pass


def test_a_label_names_the_very_record_on_the_stick(tmp_path: Path) -> None:
    """The label's QR code carries the record's hash: the record must be signed and numbered in
    the station's chain before it is printed, whether delivered at once or later."""
    from wipestation.reports.record import qr_payload

    printer = KeptLabels()
    at_once = ReportWriter(tmp_path / "out", key_home=tmp_path / "keys", printer=printer)
    (json_path, *_) = [p for p in at_once.write(job()) if p.suffix == ".json"]
    keys, spool = tmp_path / "keys", tmp_path / "s"
    later = ReportWriter(None, key_home=keys, printer=printer, spool_dir=spool)
    assert later.write(job()) == []  # no report target yet: signed now, delivered later
    later.target = at_once.target
    (paths,) = later.flush().values()
    on_disk = [json_path, next(p for p in paths if p.suffix == ".json")]
    stored = [__import__("json").loads(p.read_bytes()) for p in on_disk]
    assert [qr_payload(r) for r in printer.records] == [qr_payload(r) for r in stored]
    assert [r["chain"]["sequence"] for r in stored] == [1, 2]  # one key home: one chain
