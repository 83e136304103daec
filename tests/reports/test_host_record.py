"""The computer's identity (SMBIOS, discovery/host.py) on the record, the certificate and the
station's status: the Dell and the O.E.M.-default board are real machines (tests/fixtures/dmi)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from wipestation.discovery.host import HostIdentity, read_host
from wipestation.reports.pdf import render_certificate
from wipestation.reports.record import build_record, load_schema
from wipestation.reports.sign import Signer
from wipestation.reports.station_status import HostFacts, build_status
from wipestation.reports.writer import ReportWriter

from tests.discovery.dmi_dumps import machine_files, write_tree
from tests.reports.factory import STATION, job, validate
from tests.reports.test_pdf import info_of, pdf_of, text_of

SIGNER = Signer.generate()


def host_of(name: str, tmp_path: Path) -> HostIdentity:
    return read_host(write_tree(machine_files(name), tmp_path / name))


def test_records_with_and_without_a_host_validate(tmp_path: Path) -> None:
    old = validate(build_record(job(), STATION))
    assert "host" not in old  # records made before records named the computer stay valid
    dell = validate(build_record(job(), STATION, host=host_of("dell-optiplex-7010", tmp_path)))
    assert dell["host"]["serial"] == "5Q4Q7Y1"
    oem = validate(build_record(job(), STATION, host=host_of("gigabyte-c1037un-eu", tmp_path)))
    assert oem["host"]["serial"] is None
    assert oem["host"]["placeholders"]["serial"] == "To be filled by O.E.M."
    none = validate(build_record(job(), STATION, host=HostIdentity(smbios=False)))
    assert none["host"]["smbios"] is False


@pytest.mark.parametrize(
    "bad", [{"serial": 7}, {"service_tag": "X"}, {"placeholders": {"serial": None}}]
)
def test_the_schema_refuses_a_malformed_host(bad: dict[str, object], tmp_path: Path) -> None:
    record = build_record(job(), STATION, host=host_of("dell-optiplex-7010", tmp_path))
    record["host"].update(bad)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(record, load_schema(), cls=jsonschema.Draft202012Validator)


def test_the_certificate_names_the_computer_on_one_line(tmp_path: Path) -> None:
    host = host_of("dell-optiplex-7010", tmp_path)
    rec = validate(SIGNER.sign(build_record(job(), STATION, host=host)))
    pdf = pdf_of(tmp_path, render_certificate(rec))
    lines = [ln for ln in text_of(pdf).splitlines() if "Computer" in ln]
    assert len(lines) == 1
    assert "Dell Inc. OptiPlex 7010, S/N 5Q4Q7Y1" in lines[0]
    assert info_of(pdf)["Pages"].strip() == "1"


def test_a_placeholder_serial_is_said_so_on_the_certificate(tmp_path: Path) -> None:
    host = host_of("gigabyte-c1037un-eu", tmp_path)
    rec = validate(SIGNER.sign(build_record(job(), STATION, host=host)))
    text = " ".join(text_of(pdf_of(tmp_path, render_certificate(rec))).split())
    assert "S/N unknown (placeholder 'To be filled by O.E.M.')" in text


def test_an_old_record_renders_without_a_computer_line(tmp_path: Path) -> None:
    rec = validate(SIGNER.sign(build_record(job(), STATION)))
    assert "Computer" not in text_of(pdf_of(tmp_path, render_certificate(rec)))


def test_the_writer_puts_its_host_on_every_record(tmp_path: Path) -> None:
    host = host_of("dell-optiplex-7010", tmp_path)
    writer = ReportWriter(tmp_path / "out", station=STATION, host=host, pdf_enabled=False)
    paths = writer.write(job())
    record = json.loads(next(p for p in paths if p.suffix == ".json").read_text())
    assert validate(record)["host"] == host.to_json()


def test_a_writer_without_one_names_this_computer() -> None:
    """No host given: the station's own, read once (none here: this box has no SMBIOS)."""
    from wipestation.discovery.host import this_host

    assert ReportWriter(None, station=STATION).host is this_host()


def test_status_json_names_the_computer(tmp_path: Path) -> None:
    host = host_of("dell-optiplex-7010", tmp_path)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    status = build_status(STATION, HostFacts(computer=host), [], {}, {}, "running", now)
    assert status.to_json()["computer"] == host.to_json()
    unread = build_status(STATION, HostFacts(), [], {}, {}, "running", now)
    assert unread.to_json()["computer"] is None


def test_every_record_says_the_power_source_as_it_was_made(tmp_path: Path) -> None:
    """A laptop's supplies (tests/station/test_power.py's tree): on battery at 22 %, then on its
    charger; each record says what held when it was made, and the schema takes both."""
    from tests.station.test_power import laptop

    writer = ReportWriter(tmp_path / "out", station=STATION, pdf_enabled=False)
    writer.power_supply = laptop(tmp_path / "on-battery", "22", "Discharging", "0")
    first = json.loads(next(p for p in writer.write(job()) if p.suffix == ".json").read_text())
    writer.power_supply = laptop(tmp_path / "charging", "23", "Charging", "1")
    second = json.loads(next(p for p in writer.write(job()) if p.suffix == ".json").read_text())
    assert validate(first)["power"]["source"] == "battery"
    battery = {"name": "BAT0", "capacity_pct": 22, "status": "Discharging"}
    assert first["power"]["batteries"] == [battery]
    assert validate(second)["power"]["summary"] == "mains power (battery 23 %)"


def test_a_record_with_no_supply_says_unknown(tmp_path: Path) -> None:
    writer = ReportWriter(tmp_path / "out", station=STATION, pdf_enabled=False)
    writer.power_supply = tmp_path / "no-such-dir"
    record = json.loads(next(p for p in writer.write(job()) if p.suffix == ".json").read_text())
    assert validate(record)["power"] == {
        "source": "unknown", "mains_online": None, "batteries": [],
        "summary": "no battery or charger reported (a desktop or server)",
    }  # fmt: skip
