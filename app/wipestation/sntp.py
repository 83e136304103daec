"""SNTP (RFC 4330): one question to one NTP server over UDP, and how far our clock is off.

Why our own client: the image has no NTP daemon (systemd-timesyncd's clock step broke reading
the boot stick's config, and chrony or ntpsec would be megabytes of boot payload for one
question asked once per boot). The records' times matter, so an answer is believed only when it
is a proper server reply to *our* request from a synchronised server: mode 4, version 3 or 4, no
leap alarm, stratum 1..15 (0 is a kiss-o'-death: the server refuses), our transmit time echoed
as its originate time, and a transmit time that is not zero. Standard library only.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from wipestation.errors import WipestationError

PORT = 123
#: Seconds from the NTP era 0 epoch (1900-01-01) to the Unix epoch (1970-01-01).
NTP_UNIX_DELTA = 2_208_988_800
PACKET = struct.Struct("!BBbb4s4s4s8s8s8s8s")
MODE_CLIENT, MODE_SERVER = 3, 4
LEAP_ALARM = 3
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?")


class SntpError(WipestationError):
    """No usable answer from one server; the message says why, in words."""


class NotOursError(SntpError):
    """A datagram that does not answer our request (a stale or stray one): wait for ours."""


@dataclass(frozen=True)
class Server:
    """An NTP server as configured: a host name or address, and a UDP port."""

    host: str
    port: int = PORT

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == PORT else f"{host}:{self.port}"


@dataclass(frozen=True)
class Answer:
    """What one server said: our clock's offset from it (add it to ours), and the round trip."""

    server: Server
    offset_s: float
    delay_s: float
    stratum: int


def parse_server(text: str) -> Server:
    """``host``, ``host:port``, an IPv6 address, or ``[v6]:port``; ValueError says what is wrong."""
    s = text.strip()
    host, port = s, str(PORT)
    if s.startswith("["):
        host, sep, rest = s[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r}: expected [IPv6]:PORT")
        port = rest[1:] or port
    elif s.count(":") == 1:
        host, port = s.split(":")
    if not _valid_host(host):
        raise ValueError(f"{text!r}: not a host name or IP address")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535")
    return Server(host, int(port))


def parse_servers(value: object) -> tuple[str, ...]:
    """The ``ntp`` setting: a TOML list, or a comma-separated string (the kernel command line),
    each entry checked; the servers as they will be asked (``host[:port]``)."""
    items = value if isinstance(value, list) else str(value).split(",")
    return tuple(str(parse_server(str(i))) for i in items if str(i).strip())


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return len(host) <= 253 and _HOST.fullmatch(host) is not None


def to_ntp(t: float) -> bytes:
    """A Unix time as a 64-bit NTP timestamp (the era wraps in 2036: the field is mod 2**32)."""
    seconds = t + NTP_UNIX_DELTA
    whole = int(seconds)
    return struct.pack("!II", whole % 2**32, int((seconds - whole) * 2**32) % 2**32)


def from_ntp(raw: bytes) -> float:
    """A 64-bit NTP timestamp as Unix time; RFC 4330 sec. 3: with its top bit clear the time is
    in era 1 (from 2036 on)."""
    whole, frac = struct.unpack("!II", raw)
    era = 0 if whole & 0x8000_0000 else 2**32
    return whole + era - NTP_UNIX_DELTA + frac / 2**32


def request(transmit: float) -> bytes:
    """A client request (LI 0, version 4, mode 3) carrying our transmit time; its low bits are
    random, so an answer echoing it is an answer to this request."""
    stamp = to_ntp(transmit)[:6] + os.urandom(2)
    return PACKET.pack(4 << 3 | MODE_CLIENT, 0, 0, 0, *(b"\0" * 4,) * 3, *(b"\0" * 8,) * 3, stamp)


def check_reply(data: bytes, sent: bytes) -> tuple[int, float, float]:
    """(stratum, receive time T2, transmit time T3) of a proper answer to ``sent``; SntpError
    naming what is wrong otherwise."""
    if len(data) < PACKET.size:
        raise SntpError(f"a {len(data)}-byte reply is not an NTP packet")
    first, stratum, _, _, _, _, refid, _, origin, t2, t3 = PACKET.unpack_from(data)
    leap, version, mode = first >> 6, first >> 3 & 7, first & 7
    if mode != MODE_SERVER or version not in (3, 4):
        raise SntpError(f"not a server reply (mode {mode}, version {version})")
    if origin != sent[40:48]:
        raise NotOursError("the reply does not answer our request (originate time differs)")
    if leap == LEAP_ALARM or stratum > 15:
        raise SntpError(f"the server is not synchronised (leap {leap}, stratum {stratum})")
    if stratum == 0:
        kiss = refid.decode("ascii", "replace").strip("\0")
        raise SntpError(f"the server refused to answer (kiss-o'-death {kiss!r})")
    if t3 == b"\0" * 8:
        raise SntpError("the reply has no transmit time")
    return stratum, from_ntp(t2), from_ntp(t3)


def query(server: Server, timeout_s: float = 2.0, clock: Callable[[], float] = time.time) -> Answer:
    """Ask ``server`` once, within ``timeout_s`` (name lookup apart); SntpError if no usable
    answer. Offset and delay as RFC 4330 sec. 5, from ``clock`` (the clock to be corrected)."""
    try:
        found = socket.getaddrinfo(server.host, server.port, type=socket.SOCK_DGRAM)
        family, addr = found[0][0], found[0][4]
    except (socket.gaierror, UnicodeError) as e:
        raise SntpError(f"{server}: cannot find the server ({e})") from None
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout_s)
        deadline = time.monotonic() + timeout_s
        try:
            sock.connect(addr)  # only that address's datagrams are received
            t1 = clock()
            sent = request(t1)
            sock.send(sent)
            return _answer(server, sock, sent, t1, deadline, clock)
        except TimeoutError:
            raise SntpError(f"{server}: no answer in {timeout_s:g} s") from None
        except OSError as e:
            raise SntpError(f"{server}: {(e.strerror or str(e)).lower()}") from None


def _answer(
    server: Server,
    sock: socket.socket,
    sent: bytes,
    t1: float,
    deadline: float,
    clock: Callable[[], float],
) -> Answer:
    """The first proper answer; a stray or stale datagram is skipped while time is left."""
    while True:
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        data = sock.recv(1024)
        t4 = clock()
        try:
            stratum, t2, t3 = check_reply(data, sent)
        except NotOursError:
            continue  # the socket's timeout still ends the wait at the deadline
        except SntpError as e:
            raise SntpError(f"{server}: {e}") from None
        offset = ((t2 - t1) + (t3 - t4)) / 2
        return Answer(server, offset, (t4 - t1) - (t3 - t2), stratum)
