"""The SNTP client against a real NTP server (chronyd on 127.0.0.1), and the replies it refuses."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from wipestation import sntp

from tests.timesync.chrony import Chrony, free_udp_port, running


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("10.0.0.1", "10.0.0.1", 123),
        (" pool.example:1234 ", "pool.example", 1234),
        ("ntp-1.floor.example.", "ntp-1.floor.example.", 123),
        ("[fd00::1]:1230", "fd00::1", 1230),
        ("fd00::1", "fd00::1", 123),
    ],
)
def test_a_server_is_a_host_and_a_port(text: str, host: str, port: int) -> None:
    assert sntp.parse_server(text) == sntp.Server(host, port)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("ntp.example:0", "port must be a number from 1 to 65535"),
        ("ntp.example:65536", "port must be a number from 1 to 65535"),
        ("ntp.example:x", "port must be"),
        ("bad host!", "not a host name or IP address"),
        ("", "not a host name or IP address"),
        ("[fd00::1", "expected [IPv6]:PORT"),
        ("[fd00::1]x", "expected [IPv6]:PORT"),
    ],
)
def test_a_bad_server_says_what_is_wrong(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=re.escape(why)):
        sntp.parse_server(text)


def test_servers_print_as_configured() -> None:
    assert sntp.parse_servers(["10.0.0.1", "pool.example:1234", "[fd00::1]:9"]) == (
        "10.0.0.1", "pool.example:1234", "[fd00::1]:9",
    )  # fmt: skip
    assert sntp.parse_servers("10.0.0.1, 10.0.0.2:124") == ("10.0.0.1", "10.0.0.2:124")


def test_ntp_timestamps_round_trip_across_the_2036_era() -> None:
    for t in (0.0, 1_765_000_000.25, 2_085_978_496.5, 2_200_000_000.75):  # 2036-02-07 is era 1
        assert abs(sntp.from_ntp(sntp.to_ntp(t)) - t) < 1e-6


def test_a_real_server_gives_our_clocks_offset(chrony: Chrony) -> None:
    answer = sntp.query(chrony.server, 2.0)
    assert answer.stratum == 8
    assert abs(answer.offset_s) < 0.5  # chronyd answers from this very host's clock
    assert 0 <= answer.delay_s < 0.5


def test_a_clock_an_hour_behind_is_told_so(chrony: Chrony) -> None:
    answer = sntp.query(chrony.server, 2.0, clock=lambda: time.time() - 3600)
    assert answer.offset_s == pytest.approx(3600, abs=0.5)


def test_an_unsynchronised_server_is_not_believed(tmp_path: Path) -> None:
    # no 'local': chronyd has no time to give
    with running(tmp_path, stratum=None) as unsynced, pytest.raises(sntp.SntpError) as e:
        sntp.query(unsynced.server, 2.0)
    assert "not synchronised" in str(e.value)


def test_nobody_listening_is_one_line() -> None:
    server = sntp.Server("127.0.0.1", free_udp_port())
    with pytest.raises(sntp.SntpError, match=rf"^127\.0\.0\.1:{server.port}: connection refused"):
        sntp.query(server, 1.0)


def test_an_unknown_host_is_one_line() -> None:
    with pytest.raises(sntp.SntpError, match="cannot find the server"):
        sntp.query(sntp.Server("ntp.invalid"), 1.0)


@pytest.fixture
def responder() -> Iterator[tuple[socket.socket, list[list[bytes]]]]:
    """A UDP socket on 127.0.0.1 that answers each datagram with the next of ``replies``.
    Its thread is stopped and joined before the socket closes: a thread still in ``recvfrom``
    on a closed descriptor could read from whatever socket a later test opens on that number."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    replies: list[list[bytes]] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(1024)
            except TimeoutError:
                continue
            for reply in replies.pop(0) if replies else [data]:  # default: echo it back
                sock.sendto(reply, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock, replies
    stop.set()
    thread.join(timeout=30)
    sock.close()


def test_our_own_request_echoed_back_is_not_an_answer(responder) -> None:  # noqa: ANN001
    sock, _ = responder
    server = sntp.Server("127.0.0.1", sock.getsockname()[1])
    with pytest.raises(sntp.SntpError, match=r"not a server reply \(mode 3, version 4\)"):
        sntp.query(server, 1.0)


def real_reply(chrony: Chrony) -> bytes:
    """chronyd's answer to a request of our own (its bytes, as sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(sntp.request(time.time()), ("127.0.0.1", chrony.port))
        return s.recv(1024)


def test_a_stale_answer_to_another_request_is_skipped(chrony: Chrony, responder) -> None:  # noqa: ANN001
    sock, replies = responder
    stale = real_reply(chrony)
    replies.append([stale])  # a real server's answer, to someone else's request
    server = sntp.Server("127.0.0.1", sock.getsockname()[1])
    start = time.monotonic()
    with pytest.raises(sntp.SntpError, match=r"no answer in 0\.5 s"):
        sntp.query(server, 0.5)
    assert time.monotonic() - start < 1.5


def test_a_truncated_reply_is_not_an_ntp_packet(chrony: Chrony, responder) -> None:  # noqa: ANN001
    sock, replies = responder
    replies.append([real_reply(chrony)[:40]])
    server = sntp.Server("127.0.0.1", sock.getsockname()[1])
    with pytest.raises(sntp.SntpError, match="a 40-byte reply is not an NTP packet"):
        sntp.query(server, 1.0)


def test_check_reply_wants_our_originate_time(chrony: Chrony) -> None:
    sent = sntp.request(time.time())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(sent, ("127.0.0.1", chrony.port))
        reply = s.recv(1024)
    stratum, t2, t3 = sntp.check_reply(reply, sent)
    assert stratum == 8
    assert abs(t3 - time.time()) < 1
    assert t2 <= t3
    other = sntp.request(time.time())
    with pytest.raises(sntp.NotOursError):
        sntp.check_reply(reply, other)


def test_a_kiss_o_death_is_a_refusal_with_its_code(chrony: Chrony) -> None:
    """chronyd 4.3 sends no KoD: its real reply, made one as RFC 4330 sec. 8 defines it
    (stratum 0, the kiss code in the reference id)."""
    sent = sntp.request(time.time())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(sent, ("127.0.0.1", chrony.port))
        reply = bytearray(s.recv(1024))
    reply[1], reply[12:16] = 0, b"RATE"
    with pytest.raises(sntp.SntpError, match="refused to answer \\(kiss-o'-death 'RATE'\\)"):
        sntp.check_reply(bytes(reply), sent)
