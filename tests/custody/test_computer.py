"""The computer certificate (``wipestation.computer/1``): real signed drive records written by
the real report writer to a stick directory, linked by the sha256 of their files; the host
block is QEMU's SMBIOS captured in the guest (tests/fixtures/dmi/qemu-7.2-q35-smbios); signed
with the station's key and verified by ``wipestation verify-report``; its PDF read back with
pdftotext."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from wipestation.custody.computer_close import certify
from wipestation.custody.computer_record import load_schema
from wipestation.discovery.host import read_host
from wipestation.model import Transport
from wipestation.reports.record import load_schema as report_schema
from wipestation.reports.sign import verify_bytes
from wipestation.reports.writer import ReportWriter

from tests.discovery.dmi_dumps import machine_files, write_tree
from tests.reports.factory import STATION, drive, job

GB = 1000**3
NVME = drive(
    path="/dev/nvme0n1",
    name="nvme0n1",
    transport=Transport.NVME,
    model="QEMU NVMe Ctrl",
    serial="WSNVME01",
    identity="WSNVME01",
    size_bytes=64 * GB,
)
SATA = drive(path="/dev/sda", name="sda", model="QEMU HARDDISK", serial="WSSATA01",
             identity="WSSATA01", size_bytes=48 * GB)  # fmt: skip


def writer(tmp_path: Path) -> ReportWriter:
    host = read_host(write_tree(machine_files("qemu-7.2-q35-smbios"), tmp_path / "dmi"))
    return ReportWriter(
        tmp_path / "stick", station=STATION, key_home=tmp_path / "keys",
        spool_dir=tmp_path / "spool", pdf_enabled=False, host=host,
    )  # fmt: skip


def wiped(d, passed: bool = True):
    return replace(job(passed, drive=d), job_id=f"job-{d.serial}")


def validate(rec: dict) -> None:
    jsonschema.validate(rec, load_schema(), cls=jsonschema.Draft202012Validator)


@pytest.fixture(scope="module")
def complete(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("computer")
    w = writer(tmp)
    drive_files = {d.serial: w.write(wiped(d))[0] for d in (NVME, SATA)}
    done = certify(w, [NVME, SATA], power={"source": "mains", "summary": "mains power"})
    w.close()
    return done, drive_files


def test_every_internal_drive_passed_is_complete(complete) -> None:
    done, _ = complete
    assert done.status == "COMPLETE"
    assert done.line().startswith("COMPUTER WS-SN-0042 COMPLETE drives=2 not_passed= record=")
    assert [p.parent.name for p in done.paths] == ["computers", "computers"]
    assert [p.suffix for p in done.paths] == [".json", ".pdf"]


def test_the_certificate_links_each_drive_record_by_the_hash_of_its_file(complete) -> None:
    done, files = complete
    rec = json.loads(done.paths[0].read_bytes())
    validate(rec)
    assert rec["host"]["serial"] == "WS-SN-0042"
    assert rec["host"]["uuid"] == "5c1b3f0e-8d2a-4c61-9b7e-1f2a3b4c5d6e"
    assert rec["boot"]["secure_boot"] in (True, False, None)
    assert rec["power"]["source"] == "mains"
    rows = {r["serial"]: r for r in rec["drives"]}
    for serial, path in files.items():
        body = path.read_bytes()
        assert rows[serial]["json_sha256"] == hashlib.sha256(body).hexdigest()
        drive_rec = json.loads(body)
        assert rows[serial]["record_sha256"] == drive_rec["signature"]["record_sha256"]
        assert rows[serial]["report_id"] == drive_rec["report_id"]
    assert rows["WSNVME01"]["capacity_bytes"] == 64 * GB
    assert {(r["method"], r["nist_level"], r["result"]) for r in rows.values()} == {
        ("ata-sanitize-crypto", "purge", "PASS")
    }
    assert rows["WSSATA01"]["verification"] == {"mode": "sample", "passed": True}


def test_it_is_signed_with_the_station_key_and_verify_report_accepts_it(complete) -> None:
    done, files = complete
    body = done.paths[0].read_bytes()
    verdict = verify_bytes(body, ())
    assert verdict.ok, verdict.reason
    drive_key = json.loads(files["WSNVME01"].read_bytes())["signature"]["key_fingerprint"]
    assert verdict.fingerprint == drive_key  # the station's own key, as its drive records
    cli = [sys.executable, "-m", "wipestation", "verify-report", str(done.paths[0])]
    ok = subprocess.run(cli, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "OK: computer S/N WS-SN-0042 COMPLETE (2 internal drives)" in ok.stdout
    changed = done.paths[0].parent / "changed.json"
    changed.write_bytes(body.replace(b'"COMPLETE"', b'"INCOMPLETE"', 1))
    bad = subprocess.run([*cli[:-1], str(changed)], capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "FAILED" in bad.stderr


def test_the_pdf_is_one_page_naming_the_computer_and_each_drive(complete) -> None:
    done, _ = complete
    text = subprocess.run(
        ["pdftotext", "-layout", str(done.paths[1]), "-"], capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    assert text.count("\f") == 1  # one page
    for word in ("Computer certificate of sanitization", "COMPLETE", "WS-SN-0042",
                 "Wipestation Test Lab", "WSNVME01", "WSSATA01", "Purge", "ata-sanitize-crypto",
                 "64.0 GB", "sample: passed"):  # fmt: skip
        assert word in text, word


def test_a_failed_and_a_never_wiped_drive_make_it_incomplete_naming_them(tmp_path) -> None:
    w = writer(tmp_path)
    w.write(wiped(NVME, passed=False))
    spare = replace(SATA, serial="WSSATA02", identity="WSSATA02")
    done = certify(w, [NVME, spare])
    w.close()
    assert done.status == "INCOMPLETE"
    assert done.not_passed == ("S/N WSNVME01: FAIL", "S/N WSSATA02: NOT WIPED")
    assert "not_passed=S/N_WSNVME01:_FAIL" in done.line()
    rec = json.loads(done.paths[0].read_bytes())
    validate(rec)
    never = next(r for r in rec["drives"] if r["serial"] == "WSSATA02")
    assert (never["json_sha256"], never["result"]) == (None, "NOT WIPED")
    text = subprocess.run(["pdftotext", str(done.paths[1]), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert "INCOMPLETE" in text
    assert "WSSATA02: NOT WIPED" in text


def test_no_internal_drive_is_incomplete(tmp_path) -> None:
    w = writer(tmp_path)
    done = certify(w, [])
    w.close()
    assert (done.status, done.not_passed) == ("INCOMPLETE", ("no internal drive was found",))
    validate(json.loads(done.paths[0].read_bytes()))


def test_the_schema_refuses_a_complete_that_is_not(complete) -> None:
    done, _ = complete
    rec = json.loads(done.paths[0].read_bytes())
    lying = copy.deepcopy(rec)
    lying["drives"][0]["result"] = "FAIL"
    with pytest.raises(jsonschema.ValidationError):
        validate(lying)
    listed = copy.deepcopy(rec)
    listed["not_passed"] = ["S/N X: FAIL"]
    with pytest.raises(jsonschema.ValidationError):
        validate(listed)
    unlinked = copy.deepcopy(rec)
    unlinked["drives"][0]["json_sha256"] = "not-a-hash"
    with pytest.raises(jsonschema.ValidationError):
        validate(unlinked)


def test_the_host_and_boot_blocks_are_the_drive_records(complete) -> None:
    mine, theirs = load_schema()["properties"], report_schema()["properties"]
    assert mine["host"]["anyOf"][0] == theirs["host"]
    assert mine["boot"] == theirs["boot"]
    assert mine["signature"] == theirs["signature"]
