"""Unattended computer mode on the conveyor with the real engine on loop devices: the two
"internal" drives are erased, the "USB" one is left byte for byte as it was, and the computer
certificate (QEMU's captured SMBIOS as the host) is written, linking both drive records by the
hash of their files, before the station powers off; without a report target it does not power
off until one takes the certificate."""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import time
from dataclasses import replace
from pathlib import Path

import jsonschema
from wipestation.config import StationConfig
from wipestation.conveyor import Conveyor, certify_computer, run_headless
from wipestation.custody.computer_record import load_schema
from wipestation.discovery.host import read_host
from wipestation.engine.jobs import Engine
from wipestation.model import Attachment, Drive
from wipestation.planning.planner import Planner
from wipestation.reports.record import StationInfo
from wipestation.reports.sign import verify_bytes
from wipestation.reports.writer import ReportWriter
from wipestation.services import Services

from tests.config.test_headless import NoHotplug
from tests.custody.test_conveyor_lot import Labelled
from tests.discovery.dmi_dumps import machine_files, write_tree
from tests.engine.conftest import MiB

PLACE = {"INT-NVME": Attachment.INTERNAL, "INT-SATA": Attachment.INTERNAL,
         "USB-DISK": Attachment.EXTERNAL}  # fmt: skip


class Placed(Labelled):
    """Loop devices placed as discovery would place the computer's drives (a loop device's
    own attachment is unknown, which computer mode never takes)."""

    def _label(self, d: Drive) -> Drive:
        d = super()._label(d)
        where = PLACE.get(d.serial, Attachment.UNKNOWN)
        return replace(d, attachment=where, attachment_why=f"test: {where}")


def services(tmp_path: Path, report_dir: Path | None, serials: dict[str, str]) -> Services:
    cfg = StationConfig(station="bay-9", unattended=True, method="auto", verify="full",
                        mode="computer", report_dir=str(report_dir or ""))  # fmt: skip
    host = read_host(write_tree(machine_files("qemu-7.2-q35-smbios"), tmp_path / "dmi"))
    writer = ReportWriter(report_dir, station=StationInfo(station_id=cfg.station),
                          key_home=tmp_path / "keys", spool_dir=None, host=host)  # fmt: skip
    inventory = Placed(serials)
    engine = Engine(inventory, journal_dir=tmp_path / ".journal", report_writer=writer)
    return Services(cfg, inventory, Planner(), engine, NoHotplug(), writer)  # type: ignore[arg-type]


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def test_unattended_computer_mode_wipes_the_internal_drives_and_certifies(make_loop, tmp_path):
    stick = tmp_path / "stick"
    nvme, sata, usb = (make_loop(4 * MiB, p) for p in (b"nvme", b"sata", b"usb!"))
    usb_before = read(usb)
    s = services(tmp_path, stick, {nvme: "INT-NVME", sata: "INT-SATA", usb: "USB-DISK"})
    out, powered = io.StringIO(), []
    rc = run_headless(s, out, power_off=lambda: powered.append(True))
    text = out.getvalue()
    assert rc == 0, text
    assert powered == [True]
    assert read(usb) == usb_before  # never touched
    assert "CONVEYOR method=auto verify=full poweroff=1\n" in text  # computer mode: off when done
    assert re.search(r"^POWER (mains|battery|unknown) ", text, re.MULTILINE), text
    assert read(nvme) == read(sata) == bytes(4 * MiB)  # auto: nist-clear's verified zeros
    assert re.search(rf"SKIP USB-DISK {usb} external \(test: external\)", text), text
    line = re.search(r"^COMPUTER WS-SN-0042 COMPLETE drives=2 not_passed= record=(\S+)$", text,
                     re.MULTILINE)  # fmt: skip
    assert line, text
    assert text.index("\nCOMPUTER ") < text.index("\nDONE "), text
    cert = stick / "computers" / line.group(1)
    body = cert.read_bytes()
    assert verify_bytes(body, ()).ok
    doc = json.loads(body)
    jsonschema.validate(doc, load_schema(), cls=jsonschema.Draft202012Validator)
    assert doc["host"]["serial"] == "WS-SN-0042"
    files = {
        json.loads(p.read_bytes())["drive"]["serial"]: p for p in stick.glob("reports/*/*.json")
    }
    assert sorted(files) == ["INT-NVME", "INT-SATA"]  # no record for the USB disk
    linked = {d["serial"]: d["json_sha256"] for d in doc["drives"]}
    assert linked == {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in files.items()}
    assert cert.with_suffix(".pdf").is_file()


def test_the_certificate_is_retried_until_a_report_target_takes_it(make_loop, tmp_path):
    nvme = make_loop(4 * MiB, b"nvme")
    blocker = tmp_path / "not-yet"
    blocker.write_text("a file where the stick's directory must go")
    s = services(tmp_path, blocker / "stick", {nvme: "INT-NVME"})
    conv = Conveyor(s, out := io.StringIO())
    writer = threading.Thread(target=certify_computer, args=(conv, 0.1), daemon=True)
    writer.start()
    deadline = time.monotonic() + 60
    while "COMPUTER NOT-WRITTEN" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "COMPUTER NOT-WRITTEN" in out.getvalue(), out.getvalue()
    assert writer.is_alive()  # still trying: the computer is not done
    blocker.unlink()  # the stick arrives
    writer.join(60)
    assert not writer.is_alive()
    assert "COMPUTER WS-SN-0042 INCOMPLETE drives=1 not_passed=S/N_INT-NVME:_NOT_WIPED" in (
        out.getvalue()
    )
    assert len(list((blocker / "stick" / "computers").glob("*.json"))) == 1  # written once
