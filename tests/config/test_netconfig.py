"""The station config from ``wipestation.config=URL``, against real servers on 127.0.0.1 that
each test starts: fetched, refused (404), unreachable, malformed, too slow, TLS with and without
the CA; a config that could not be had never lets the station wipe unattended."""

from __future__ import annotations

import datetime
import http.server
import io
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from wipestation import netconfig, paths, station
from wipestation.netconfig import NetConfigError, NetSource

GOOD = '[station]\nstation = "bay-7"\nmethod = "nist-clear"\nunattended = true\n'
#: unattended = true, then a line that is not TOML: the whole file must count for nothing.
BROKEN = '[station]\nunattended = true\nmethod = "nist-clear\n'


@dataclass
class Routes:
    """path -> list of (status, body) answers, the last one repeated."""

    answers: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def answer(self, path: str) -> tuple[int, bytes]:
        self.hits.append(path)
        queue = self.answers.get(path, [(404, b"not here")])
        return queue.pop(0) if len(queue) > 1 else queue[0]


def handler_for(routes: Routes) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            status, body = routes.answer(self.path)
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def serve() -> Iterator:
    """``serve(routes, tls=None)`` -> base URL of a real HTTP(S) server on 127.0.0.1."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(routes: Routes, tls: ssl.SSLContext | None = None) -> str:
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_for(routes))
        if tls:
            srv.socket = tls.wrap_socket(srv.socket, server_side=True)
        servers.append(srv)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        return f"{'https' if tls else 'http'}://127.0.0.1:{srv.server_address[1]}"

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch_timed(source: NetSource, budget: float) -> tuple[str, float, list[str]]:
    """(the error, seconds taken, retry lines told) of a fetch that must fail."""
    told: list[str] = []
    start = time.monotonic()
    with pytest.raises(NetConfigError) as e:
        netconfig.fetch(source, budget, told.append)
    return str(e.value), time.monotonic() - start, told


def test_the_url_comes_from_the_kernel_command_line() -> None:
    src = NetSource.from_cmdline(
        "quiet wipestation.config=https://10.0.0.5/s/52-54-00-12-34-56.toml "
        "wipestation.config_ca=/etc/wipestation/ca.pem"
    )
    assert src == NetSource("https://10.0.0.5/s/52-54-00-12-34-56.toml", "/etc/wipestation/ca.pem")
    assert not NetSource.from_cmdline("quiet wipestation.auto=1").named
    assert netconfig.boot_copy(NetSource()) is netconfig.NOT_NAMED


def test_a_config_is_fetched(serve, tmp_path: Path) -> None:
    routes = Routes({"/stations/bay-7.toml": [(200, GOOD.encode())]})
    url = serve(routes) + "/stations/bay-7.toml"
    net = netconfig.boot_copy(NetSource(url), tmp_path / "net.toml", budget_s=5)
    assert net.copy == tmp_path / "net.toml"
    assert net.copy.read_text() == GOOD
    assert not net.failed
    cfg = station.load_station_config(cmdline(tmp_path, ""), tmp_path / "none.toml", None, (), net)
    assert (cfg.station, cfg.method, cfg.unattended) == ("bay-7", "nist-clear", True)
    assert cfg.errors == ()


def test_a_server_error_is_retried_while_the_budget_lasts(serve) -> None:
    routes = Routes({"/s.toml": [(503, b"starting"), (503, b"starting"), (200, GOOD.encode())]})
    told: list[str] = []
    text = netconfig.fetch(NetSource(serve(routes) + "/s.toml"), 10, told.append, sleep=no_sleep)
    assert text == GOOD
    assert len(routes.hits) == 3
    assert "HTTP 503 Service Unavailable; retrying" in told[0]


def no_sleep(seconds: float) -> None:
    pass


def test_404_is_an_answer_not_retried(serve) -> None:
    routes = Routes()
    url = serve(routes) + "/stations/52-54-00-aa-bb-cc.toml"
    why, took, told = fetch_timed(NetSource(url), budget=10)
    assert why == f"station config {url}: HTTP 404 Not Found"
    assert routes.hits == ["/stations/52-54-00-aa-bb-cc.toml"]
    assert took < 2
    assert told == []


def test_an_unreachable_server_is_retried_then_given_up_within_the_budget() -> None:
    url = f"http://127.0.0.1:{closed_port()}/s.toml"
    why, took, told = fetch_timed(NetSource(url), budget=1.5)
    assert why == f"station config {url}: connection refused; gave up after 1.5 s"
    assert 1.4 < took < 2.5
    assert len(told) >= 2  # retried, and said so each time
    assert all("connection refused; retrying" in line for line in told)


def test_a_server_that_never_answers_cannot_hold_the_boot(tmp_path: Path) -> None:
    """It accepts the connection (the kernel's backlog) and never replies."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/s.toml"
        why, took, _ = fetch_timed(NetSource(url), budget=1.5)
    assert why == f"station config {url}: no answer (timed out); gave up after 1.5 s"
    assert took < 1.5 + 1.0


@pytest.fixture
def trickle() -> Iterator:
    """``trickle(head, body)`` -> URL of a server that sends ``head`` at once, then ``body`` a
    byte every 0.2 s (each byte well within any socket timeout)."""
    stop = threading.Event()
    listeners: list[socket.socket] = []

    def start(head: bytes, body: bytes) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def answer(conn: socket.socket) -> None:
            with conn:
                conn.sendall(head)
                for i in range(len(body)):
                    if stop.wait(0.2):
                        return
                    conn.sendall(body[i : i + 1])

        def serve_all() -> None:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=answer, args=(conn,), daemon=True).start()

        threading.Thread(target=serve_all, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}/s.toml"

    yield start
    stop.set()
    for listener in listeners:
        listener.close()


def test_a_file_sent_a_byte_at_a_time_cannot_hold_the_boot(trickle) -> None:
    url = trickle(b"HTTP/1.0 200 OK\r\nContent-Length: 200\r\n\r\n", b"#" * 200)
    why, took, _ = fetch_timed(NetSource(url), budget=1.5)
    assert why == f"station config {url}: the server sent the file too slowly; gave up after 1.5 s"
    assert took < 1.5 + 1.0


def test_headers_sent_a_byte_at_a_time_cannot_hold_the_boot(trickle) -> None:
    """urllib's socket timeout is per read; the fetch as a whole still ends with its budget."""
    url = trickle(b"", b"HTTP/1.0 200 OK\r\n" + b"X-Slow: " + b"." * 200 + b"\r\n\r\n")
    why, took, _ = fetch_timed(NetSource(url), budget=1.5)
    assert why == f"station config {url}: no whole answer in 1.5 s"
    assert took < 1.5 + netconfig.GRACE_S + 0.5


def test_malformed_toml_is_refused_with_the_reason(serve) -> None:
    url = serve(Routes({"/s.toml": [(200, BROKEN.encode())]})) + "/s.toml"
    why, took, _ = fetch_timed(NetSource(url), budget=10)
    assert why.startswith(f"station config {url}: not valid TOML (")
    assert "line 3" in why
    assert took < 2


def test_a_failed_config_never_wipes_unattended(serve, tmp_path: Path) -> None:
    """Its unattended = true is never read; the command line's auto=1 is held back too (the
    failed file may have carried the exclusions), and the screen says why."""
    url = serve(Routes({"/s.toml": [(200, BROKEN.encode())]})) + "/s.toml"
    net = netconfig.boot_copy(NetSource(url), tmp_path / "net.toml", budget_s=5)
    assert net.failed
    assert net.copy is None
    line = cmdline(tmp_path, f"wipestation.auto=1 wipestation.config={url}")
    cfg = station.load_station_config(line, tmp_path / "none.toml", None, (), net)
    assert not cfg.unattended
    assert cfg.method == "auto"
    assert cfg.errors[0].startswith(f"station config {url}: not valid TOML")
    assert cfg.errors[0].endswith("; unattended wiping is off")
    assert "Configuration problems" in station.describe_errors(cfg)


def test_the_outcome_is_kept_for_the_other_terminal_and_restarts(serve, tmp_path: Path) -> None:
    routes = Routes({"/ok.toml": [(200, GOOD.encode())]})
    base = serve(routes)
    ok = netconfig.boot_copy(NetSource(base + "/ok.toml"), tmp_path / "a" / "net.toml", 5)
    again = netconfig.boot_copy(NetSource(base + "/ok.toml"), tmp_path / "a" / "net.toml", 5)
    assert again == ok
    assert routes.hits == ["/ok.toml"]  # fetched once per boot
    bad = netconfig.boot_copy(NetSource(base + "/gone.toml"), tmp_path / "b" / "net.toml", 5)
    bad_again = netconfig.boot_copy(NetSource(base + "/gone.toml"), tmp_path / "b" / "net.toml", 5)
    assert bad_again == bad
    assert bad.problem.endswith("HTTP 404 Not Found")
    assert routes.hits == ["/ok.toml", "/gone.toml"]


def test_the_network_config_wins_over_the_sticks_and_says_so(serve, tmp_path: Path) -> None:
    url = serve(Routes({"/s.toml": [(200, GOOD.encode())]})) + "/s.toml"
    net = netconfig.boot_copy(NetSource(url), tmp_path / "net.toml", budget_s=5)
    stick = tmp_path / "stick.toml"
    stick.write_text('[station]\nstation = "from-stick"\nverify = "full"\n')
    cfg = station.load_station_config(cmdline(tmp_path, ""), tmp_path / "none.toml", stick, (), net)
    assert cfg.station == "bay-7"  # both set it: the network's
    assert cfg.verify == "full"  # only the stick's file sets it
    assert cfg.unattended  # a note is not a problem with the config
    assert cfg.errors == (
        f"station config from {url} overrides the boot stick's wipestation.toml: station",
    )


def test_no_note_when_the_stick_sets_nothing_the_network_does(serve, tmp_path: Path) -> None:
    url = serve(Routes({"/s.toml": [(200, GOOD.encode())]})) + "/s.toml"
    net = netconfig.boot_copy(NetSource(url), tmp_path / "net.toml", budget_s=5)
    stick = tmp_path / "stick.toml"
    stick.write_text('# settings the network does not set\n[station]\nverify = "full"\n')
    cfg = station.load_station_config(cmdline(tmp_path, ""), tmp_path / "none.toml", stick, (), net)
    assert (cfg.station, cfg.verify, cfg.errors) == ("bay-7", "full", ())


def test_boot_config_fetches_and_tells(serve, monkeypatch, tmp_path: Path) -> None:
    """The boot wiring end to end: a network boot (no stick named) with the config's URL."""
    monkeypatch.setattr(paths, "STICK_COPY", tmp_path / "stick-wipestation.toml")
    monkeypatch.setattr(paths, "NET_COPY", tmp_path / "net-wipestation.toml")
    monkeypatch.setattr(paths, "IMAGE_CONFIG", tmp_path / "none.toml")
    monkeypatch.setattr(station.StickSpec, "present", lambda self, dev_disk=None: None)
    routes = Routes({"/s.toml": [(503, b""), (200, GOOD.encode())]})
    url = serve(routes) + "/s.toml"
    line = cmdline(tmp_path, f"quiet wipestation.config={url}")
    out = io.StringIO()
    stick, cfg, _ = station.boot_config(station.StickSpec(), line, out)
    assert stick is None
    assert (cfg.station, cfg.unattended, cfg.errors) == ("bay-7", True, ())
    assert f"station config {url}: HTTP 503 Service Unavailable; retrying" in out.getvalue()
    assert (tmp_path / "net-wipestation.toml").read_text() == GOOD


def test_no_config_url_changes_nothing(tmp_path: Path) -> None:
    """A station without network boots exactly as before: nothing fetched, nothing said."""
    line = cmdline(tmp_path, "quiet wipestation.auto=1")
    cfg = station.load_station_config(line, tmp_path / "none.toml")
    assert cfg.unattended
    assert cfg.errors == ()


def test_the_config_options_are_not_unknown_settings(tmp_path: Path) -> None:
    line = cmdline(tmp_path, "wipestation.config=http://x/s.toml wipestation.config_ca=/ca.pem")
    assert station.load_station_config(line, tmp_path / "none.toml").errors == ()


@pytest.mark.parametrize("url", ["ftp://10.0.0.5/s.toml", "10.0.0.5/s.toml", "http://[::1/s"])
def test_only_http_and_https_urls(url: str) -> None:
    why, took, _ = fetch_timed(NetSource(url), budget=10)
    assert why.startswith(f"station config {url}: ")
    assert took < 1


def test_a_huge_answer_is_not_a_config(serve) -> None:
    url = serve(Routes({"/s.toml": [(200, b"# x\n" * 100_000)]})) + "/s.toml"
    why, _, _ = fetch_timed(NetSource(url), budget=10)
    assert why == f"station config {url}: larger than 256 KiB: not a station config"


def cmdline(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cmdline"
    path.write_text(text + "\n")
    return path


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext
    ca_file: Path


def self_signed(tmp_path: Path) -> Tls:
    """A certificate for 127.0.0.1, its own CA (what a floor's private CA amounts to)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wipestation boot server")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_pem = tmp_path / "ca.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = tmp_path / "key.pem"
    key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_pem, key_pem)
    return Tls(ctx, cert_pem)


def test_https_with_the_named_ca(serve, tmp_path: Path) -> None:
    tls = self_signed(tmp_path)
    url = serve(Routes({"/s.toml": [(200, GOOD.encode())]}), tls.server) + "/s.toml"
    assert netconfig.fetch(NetSource(url, str(tls.ca_file)), budget_s=10) == GOOD


def test_https_is_verified_and_an_untrusted_certificate_is_refused_at_once(
    serve, tmp_path: Path
) -> None:
    tls = self_signed(tmp_path)
    url = serve(Routes({"/s.toml": [(200, GOOD.encode())]}), tls.server) + "/s.toml"
    why, took, told = fetch_timed(NetSource(url), budget=10)  # the system's CAs only
    assert why.startswith(f"station config {url}: TLS certificate not trusted (")
    assert why.endswith("; see wipestation.config_ca=")
    assert took < 2
    assert told == []


def test_a_ca_file_that_cannot_be_read_is_said(tmp_path: Path) -> None:
    source = NetSource("https://127.0.0.1:1/s.toml", str(tmp_path / "missing.pem"))
    why, _, _ = fetch_timed(source, budget=10)
    ca = f"wipestation.config_ca={tmp_path / 'missing.pem'}: cannot use it ("
    assert why.startswith(f"station config https://127.0.0.1:1/s.toml: {ca}")
