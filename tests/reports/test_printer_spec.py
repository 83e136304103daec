"""Printer specs: device paths, baud rates and pyserial URLs, and one clear line for a bad one."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from wipestation import config
from wipestation.cli import run as cli_run
from wipestation.reports.printer import PrinterSpec, PrinterSpecError, open_port, print_once
from wipestation.reports.record import build_record, qr_payload, serialize
from wipestation.reports.sign import Signer

from tests.reports.escpos_decode import decode
from tests.reports.factory import STATION, job

RECORD = build_record(job(), STATION)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("escpos:/dev/ttyS1", PrinterSpec("escpos", "/dev/ttyS1", 9600)),
        ("escpos:/dev/ttyS1:115200", PrinterSpec("escpos", "/dev/ttyS1", 115200)),
        ("zpl:/dev/usb/lp0", PrinterSpec("zpl", "/dev/usb/lp0", 9600)),
        ("escpos:rfc2217://printhost:2217", PrinterSpec("escpos", "rfc2217://printhost:2217")),
        (
            "escpos:rfc2217://printhost:2217:19200",
            PrinterSpec("escpos", "rfc2217://printhost:2217", 19200),
        ),
        ("zpl:socket://10.0.0.5:9100", PrinterSpec("zpl", "socket://10.0.0.5:9100")),
        ("zpl:socket://[fd00::5]:9100", PrinterSpec("zpl", "socket://[fd00::5]:9100")),
        ("escpos:loop://", PrinterSpec("escpos", "loop://")),
        (
            "escpos:/dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0",
            PrinterSpec("escpos", "/dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0"),
        ),
    ],
)
def test_good_specs(text: str, want: PrinterSpec) -> None:
    assert PrinterSpec.parse(text) == want


def test_an_existing_path_with_a_numeric_tail_is_taken_whole(tmp_path: Path) -> None:
    odd = tmp_path / "platform-serial8250:0"
    odd.write_bytes(b"")
    assert PrinterSpec.parse(f"escpos:{odd}") == PrinterSpec("escpos", str(odd), 9600)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("escpos:/dev/ttyS1:" + "9" * 40, "is not a standard rate"),  # was an OverflowError
        ("escpos:/dev/ttyS1:" + "9" * 5000, "is not a standard rate"),  # past int()'s limit
        ("escpos:/dev/ttyS1:96000", "baud rate 96000 is not a standard rate"),
        ("escpos:/dev/ttyS1:0", "baud rate 0 is not a standard rate"),
        ("escpos:/dev/ttyS1:9600.0", "'9600.0' is not a whole number"),
        ("escpos:/dev/ttyS1:-9600", "'-9600' is not a whole number"),
        ("escpos:rfc2217://printhost:2217:96000", "baud rate 96000"),
        ("escpos:socket://printhost", "expected socket://HOST:PORT[:BAUD]"),
        ("escpos:socket://printhost:70000", "TCP port 70000 is not 1-65535"),
        ("escpos:socket://:9100", "expected socket://HOST:PORT[:BAUD]"),
        ("escpos:http://printhost:80", "unknown URL scheme 'http'"),
        ("escpos:ttyS1", "expected escpos:/dev/ttyS1[:9600]"),
        ("pcl:/dev/usb/lp0", "expected escpos:/dev/ttyS1[:9600]"),
        ("escpos:", "expected"),
        ("escpos:/dev/tty S1", "expected"),
    ],
)
def test_bad_specs_say_what_is_wrong_in_one_line(text: str, says: str) -> None:
    with pytest.raises(PrinterSpecError) as caught:
        PrinterSpec.parse(text)
    message = str(caught.value)
    assert says in message
    assert "\n" not in message
    assert len(message) < 300  # a 5000-digit baud is not echoed whole
    assert isinstance(caught.value, ValueError)  # what the configuration layer catches


@pytest.mark.parametrize(
    "bad", ["escpos:/dev/ttyS1:99999999999999999999", "escpos:rfc2217://h:1:2:3", "lp0"]
)
def test_the_configuration_reports_a_bad_printer_and_uses_none(bad: str) -> None:
    cfg = config.apply(config.StationConfig(), {"printer": bad}, "wipestation.toml")
    assert cfg.printer == ""
    assert len(cfg.errors) == 1
    assert "printer" in cfg.errors[0]
    assert "\n" not in cfg.errors[0]


def test_the_configuration_accepts_a_pyserial_url() -> None:
    url = "escpos:socket://10.0.0.5:9100"
    cfg = config.apply(config.StationConfig(), {"printer": url}, "kernel command line")
    assert (cfg.printer, cfg.errors) == (url, ())


def test_a_label_goes_to_a_network_printer_through_socket_url() -> None:
    """``escpos:socket://HOST:PORT``: the port is a TCP port, not a baud rate, and it prints."""
    server = socket.create_server(("127.0.0.1", 0))
    received = bytearray()

    def accept() -> None:
        conn, _ = server.accept()
        with conn:
            while chunk := conn.recv(65536):
                received.extend(chunk)

    thread = threading.Thread(target=accept)
    thread.start()
    port = server.getsockname()[1]
    spec = PrinterSpec.parse(f"escpos:socket://127.0.0.1:{port}")
    assert spec.port == f"socket://127.0.0.1:{port}"
    print_once(spec, RECORD, open_port)
    thread.join(10)
    server.close()
    assert decode(bytes(received)).qr_stored.decode() == qr_payload(RECORD)


def test_cli_print_label_with_a_bad_spec_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = tmp_path / "r.json"
    rec.write_bytes(serialize(Signer.generate().sign(RECORD)))  # print-label wants it signed
    code = cli_run(["print-label", str(rec), "--printer", "escpos:/dev/ttyS1:" + "9" * 30])
    err = capsys.readouterr().err
    assert code != 0
    assert "is not a standard rate" in err
    assert "Traceback" not in err
