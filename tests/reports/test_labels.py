"""Labels: ESC/POS and ZPL bytes decoded back, printed over a pty, loop:// and a raw lp file."""

from __future__ import annotations

import os
import re
import select
import tty
from pathlib import Path

import pytest
import serial
from wipestation.cli import run as cli_run
from wipestation.errors import ReportError
from wipestation.reports.label_escpos import build_escpos_label
from wipestation.reports.label_zpl import build_zpl_label
from wipestation.reports.printer import LabelPrinter, PrinterSpec, open_port, print_once
from wipestation.reports.record import build_record, qr_payload, serialize
from wipestation.reports.sign import Signer

from tests.reports.escpos_decode import decode
from tests.reports.factory import STATION, drive, job, validate

RECORD = validate(build_record(job(), STATION))


def test_escpos_label_decodes_to_the_drive_facts_and_qr() -> None:
    d = decode(build_escpos_label(RECORD))
    assert d.initialised
    assert d.cut
    assert d.lines[0] == "PASS"
    for want in (
        "Model: Samsung SSD 870 EVO 500GB",
        "Serial: S6PYNX0T123456A",
        "Capacity: 500.0 GB",
        "Method: ata-sanitize-crypto (purge)",
        "Date: 2026-11-27",
    ):
        assert want in d.flat
    assert d.qr_model == 2
    assert d.qr_printed
    assert d.qr_stored.decode() == qr_payload(RECORD)
    assert d.barcodes == [(73, b"{BS6PYNX0T123456A")]


def test_escpos_label_survives_non_ascii_and_missing_serial() -> None:
    odd = drive(serial="", identity="Disk@pci-1#9", model="Ünïcødé 型号 " + "M" * 80)
    d = decode(build_escpos_label(build_record(job(passed=False, drive=odd), STATION)))
    assert d.lines[0] == "FAIL"
    assert "Serial: (none) Disk@pci-1#9" in d.text
    assert "Model: Ünïc?dé ??\n  MMMM" in d.text  # CP437 has most accents, no ø and no CJK
    assert d.barcodes == []  # no serial, no barcode
    assert all(len(line) <= 32 for line in d.lines)


def _zpl_fields(zpl: str) -> list[str]:
    raw = re.findall(r"\^FD(.*?)\^FS", zpl, re.S)
    return [re.sub(r"_([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), f) for f in raw]


def test_zpl_label_has_text_code128_and_native_qr() -> None:
    tricky = build_record(job(drive=drive(model="Model ^XZ ~JR _x")), STATION)
    zpl = build_zpl_label(tricky).decode()
    assert zpl.startswith("^XA")
    assert zpl.rstrip().endswith("^XZ")
    assert zpl.count("^XZ") == 1  # the model name's ^XZ was escaped
    fields = _zpl_fields(zpl)
    assert "Model: Model ^XZ ~JR _x" in fields
    assert "Serial: S6PYNX0T123456A" in fields
    assert f"MA,{qr_payload(tricky)}" in fields
    assert re.search(r"\^BQN,2,\d+\^FH_\^FDMA,", zpl)
    assert "^BCN" in zpl
    assert "^MMC" in zpl


def test_print_over_a_pty_pair_in_the_background() -> None:
    master, slave = os.openpty()
    tty.setraw(master)
    printer = LabelPrinter(PrinterSpec.parse(f"escpos:{os.ttyname(slave)}:19200"))
    try:
        printer.submit(RECORD)
        assert printer.wait_idle(30)
        data = b""
        while select.select([master], [], [], 0.5)[0]:
            data += os.read(master, 65536)
    finally:
        printer.close()
        os.close(master)
        os.close(slave)
    assert printer.printed == 1
    assert printer.state == "ready"
    assert decode(data).qr_stored.decode() == qr_payload(RECORD)


def test_print_to_pyserial_loop() -> None:
    port = serial.serial_for_url("loop://", timeout=1)
    print_once(PrinterSpec.parse("escpos:loop://"), RECORD, lambda _spec: _NoClose(port))
    data = port.read(port.in_waiting)
    port.close()
    assert "Serial: S6PYNX0T123456A" in decode(data).text


class _NoClose:
    """pyserial's loop:// loses its buffer on close; keep it open to read the bytes back."""

    def __init__(self, port: serial.SerialBase) -> None:
        self.port = port

    def write(self, data: bytes) -> int | None:
        return self.port.write(data)

    def flush(self) -> None:
        self.port.flush()

    def close(self) -> None:
        pass


def test_usb_printer_class_is_written_raw(tmp_path: Path) -> None:
    lp = tmp_path / "lp0"
    lp.write_bytes(b"")
    print_once(PrinterSpec.parse(f"zpl:{lp}"), RECORD, open_port)
    assert b"^BQN" in lp.read_bytes()


def test_printer_error_is_shown_and_retried_without_blocking() -> None:
    attempts: list[int] = []
    sent: list[bytes] = []

    class Flaky:
        def write(self, data: bytes) -> int:
            sent.append(data)
            return len(data)

        def flush(self) -> None: ...
        def close(self) -> None: ...

    def opener(_spec: PrinterSpec) -> Flaky:
        attempts.append(1)
        if len(attempts) < 3:
            raise OSError(5, "printer offline")
        return Flaky()

    printer = LabelPrinter(
        PrinterSpec.parse("escpos:/dev/ttyS9"), opener=opener, retry_delays=(0.01,)
    )
    printer.submit(RECORD)  # returns at once even though the printer is failing
    assert printer.wait_idle(30)
    printer.close()
    assert len(attempts) == 3
    assert len(sent) == 1
    assert printer.printed == 1
    assert printer.state == "ready"


def test_printer_state_reports_the_error_while_failing() -> None:
    def opener(_spec: PrinterSpec) -> None:
        raise OSError(2, "No such file or directory")

    printer = LabelPrinter(
        PrinterSpec.parse("escpos:/dev/ttyS9"), opener=opener, retry_delays=(60.0,)
    )
    printer.submit(RECORD)
    for _ in range(1000):  # the first attempt fails at once; wait for it without a clock
        if printer.state.startswith("error"):
            break
        printer.wait_idle(0.01)
    assert "No such file" in printer.state
    assert "retrying" in printer.state
    printer.close()


def test_spec_parsing() -> None:
    assert PrinterSpec.parse("escpos:/dev/ttyS1:9600") == PrinterSpec("escpos", "/dev/ttyS1", 9600)
    assert PrinterSpec.parse("zpl:/dev/usb/lp0") == PrinterSpec("zpl", "/dev/usb/lp0", 9600)
    assert PrinterSpec.parse("escpos:loop://").port == "loop://"
    with pytest.raises(ReportError):
        PrinterSpec.parse("pcl:/dev/lp0")


def test_cli_print_label(tmp_path: Path) -> None:
    rec = tmp_path / "r.json"
    rec.write_bytes(serialize(Signer.generate().sign(RECORD)))  # print-label wants a signed one
    lp = tmp_path / "lp0"
    lp.write_bytes(b"")
    assert cli_run(["print-label", str(rec), "--printer", f"escpos:{lp}"]) == 0
    assert decode(lp.read_bytes()).qr_stored.decode() == qr_payload(RECORD)
    assert cli_run(["print-label", str(rec), "--printer", "escpos:/nonexistent/lp9"]) == 1
