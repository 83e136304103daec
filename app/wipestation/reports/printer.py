"""The label printer: a background queue that never blocks or fails a wipe.

``escpos:/dev/ttyS1:9600`` or ``zpl:/dev/usb/lp0`` (config key ``printer``). Serial ports go
through pyserial, and so does any pyserial URL (``escpos:socket://host:9100``,
``escpos:rfc2217://host:2217[:19200]``, ``loop://`` in tests); USB printer-class devices
(``/dev/usb/lp*``) and plain files are written raw. A failing printer (off, no paper, unplugged)
is shown in ``state`` and the label is retried with growing pauses until it prints or the
station shuts down; jobs queue behind it in order.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import serial

from wipestation.errors import ReportError
from wipestation.reports.label_escpos import build_escpos_label
from wipestation.reports.label_zpl import build_zpl_label
from wipestation.reports.record import Record

log = logging.getLogger(__name__)
LANGUAGES = ("escpos", "zpl")
RETRY_DELAYS = (2.0, 5.0, 15.0, 30.0, 60.0)


#: The rates a serial line can be set to (termios / pyserial); anything else is a typo.
BAUD_RATES = tuple(serial.Serial.BAUDRATES)
DEFAULT_BAUD = 9600
#: pyserial's URL handlers (``serial.urlhandler.protocol_*``).
URL_SCHEMES = ("alt", "cp2110", "hwgrep", "loop", "rfc2217", "socket", "spy")
#: ``HOST[:PORT][:BAUD]`` after ``scheme://``: a bracketed IPv6 host or a name without colons.
_NETLOC = re.compile(
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^:/?#\[\]@\s]*)(?::(?P<port>[0-9]+))?(?::(?P<baud>[0-9]+))?"
)
FORMS = "escpos:/dev/ttyS1[:9600], zpl:/dev/usb/lp0 or escpos:socket://HOST:9100"


class PrinterSpecError(ReportError, ValueError):
    """A printer spec that cannot be used; a ValueError too, so the configuration layer reports
    it like any other bad value and keeps the station without a printer."""


def _baud(text: str, spec: str) -> int:
    """A standard rate only: a typo such as ``96000`` would open the port and print garbage, and
    a huge number used to overflow inside termios."""
    rate = int(text) if len(text) <= 8 else -1
    if rate not in BAUD_RATES:
        common = ", ".join(str(b) for b in BAUD_RATES if 1200 <= b <= 115200)
        raise PrinterSpecError(
            f"printer {spec!r}: baud rate {text[:12]}{'…' if len(text) > 12 else ''} is not a "
            f"standard rate (common: {common})"
        )
    return rate


def _split_url(rest: str, spec: str) -> tuple[str, int]:
    """``scheme://HOST:PORT`` whole, an optional ``:BAUD`` after the port (rfc2217 sets the
    remote line speed); URLs with a path or options (``spy://``, ``hwgrep://``) are kept as is."""
    scheme, _, after = rest.partition("://")
    if scheme not in URL_SCHEMES:
        raise PrinterSpecError(
            f"printer {spec!r}: unknown URL scheme {scheme!r} (pyserial knows "
            f"{', '.join(s + '://' for s in URL_SCHEMES)})"
        )
    if scheme in ("loop", "spy", "hwgrep", "alt", "cp2110") or any(c in after for c in "/?#"):
        return rest, DEFAULT_BAUD
    m = _NETLOC.fullmatch(after)
    if m is None or not m["host"] or not m["port"]:
        raise PrinterSpecError(f"printer {spec!r}: expected {scheme}://HOST:PORT[:BAUD]")
    if not 0 < (int(m["port"]) if len(m["port"]) <= 5 else 0) < 65536:
        raise PrinterSpecError(f"printer {spec!r}: TCP port {m['port'][:8]} is not 1-65535")
    baud = _baud(m["baud"], spec) if m["baud"] else DEFAULT_BAUD
    return f"{scheme}://{m['host']}:{int(m['port'])}", baud


def _split_path(rest: str, spec: str) -> tuple[str, int]:
    """``/dev/ttyS1[:BAUD]``; by-path names contain colons (``pci-0000:00:14.0-…-port0``), so
    a path that exists is taken whole and otherwise only an all-digit last part is a baud."""
    port, baud = rest, DEFAULT_BAUD
    head, _, tail = rest.rpartition(":")
    if head and not os.path.exists(rest):
        if re.fullmatch(r"[0-9]+", tail):
            port, baud = head, _baud(tail, spec)
        elif re.fullmatch(r"[+-]?[0-9][0-9_.,eE+-]*", tail):
            raise PrinterSpecError(
                f"printer {spec!r}: baud rate {tail[:12]!r} is not a whole number"
            )
    if port != "-" and not port.startswith("/"):  # "-": print-label --output without a printer
        raise PrinterSpecError(f"printer {spec!r}: expected {FORMS}")
    return port, baud


@dataclass(frozen=True)
class PrinterSpec:
    language: str
    port: str
    baud: int = DEFAULT_BAUD

    @classmethod
    def parse(cls, text: str) -> PrinterSpec:
        """``LANG:PORT[:BAUD]``; PORT a device path, a file, or a pyserial URL.

        Raises:
            PrinterSpecError: one line naming the spec and what is wrong with it.
        """
        spec = text.strip()
        name = spec if len(spec) <= 80 else spec[:79] + "…"  # for messages
        language, _, rest = spec.partition(":")
        if language not in LANGUAGES or not rest or any(c.isspace() or c == "\0" for c in rest):
            raise PrinterSpecError(f"printer {name!r}: expected {FORMS}")
        port, baud = _split_url(rest, name) if "://" in rest else _split_path(rest, name)
        return cls(language, port, baud)

    def __str__(self) -> str:
        return f"{self.language}:{self.port}:{self.baud}"


class Port(Protocol):
    def write(self, data: bytes) -> int | None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


class RawPort:
    """USB printer class (``/dev/usb/lp*``) or a file: plain writes, no line settings."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        os.close(self.fd)


def is_raw(port: str) -> bool:
    """USB printer class devices and regular files take raw bytes; the rest is a serial port."""
    if "://" in port:
        return False
    return "/usb/lp" in port or os.path.basename(port).startswith("lp") or os.path.isfile(port)


def open_port(spec: PrinterSpec) -> Port:
    """Open the printer's port; OSError / SerialException when it is not there."""
    if is_raw(spec.port):
        return RawPort(spec.port)
    port: Port = serial.serial_for_url(spec.port, baudrate=spec.baud, timeout=2, write_timeout=10)
    return port


def build_label(language: str, record: Record) -> bytes:
    return build_zpl_label(record) if language == "zpl" else build_escpos_label(record)


def print_once(spec: PrinterSpec, record: Record, opener: Callable[[PrinterSpec], Port]) -> None:
    """Send one label now; raises ReportError saying what went wrong."""
    data = build_label(spec.language, record)
    try:
        port = opener(spec)
        try:
            port.write(data)
            port.flush()
        finally:
            port.close()
    except (OSError, ValueError, serial.SerialException) as e:  # ValueError: pyserial URL options
        raise ReportError(f"label printer {spec.port}: {e}") from e


class LabelPrinter:
    """One queue, one thread; ``state`` is what the screen shows."""

    def __init__(
        self,
        spec: PrinterSpec,
        *,
        opener: Callable[[PrinterSpec], Port] = open_port,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self.spec = spec
        self.opener = opener
        self.retry_delays = retry_delays
        self.printed = 0
        self._queue: deque[Record] = deque()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._busy = False
        self._error = ""
        self._thread: threading.Thread | None = None

    @classmethod
    def from_spec(cls, text: str) -> LabelPrinter:
        return cls(PrinterSpec.parse(text))

    @property
    def state(self) -> str:
        with self._cond:
            if self._error:
                return f"error: {self._error} (retrying, {len(self._queue) + 1} waiting)"
            return "printing" if self._busy or self._queue else "ready"

    def submit(self, record: Record) -> None:
        """Queue a label; returns at once."""
        with self._cond:
            self._queue.append(record)
            self._cond.notify_all()
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="label-printer", daemon=True)
            self._thread.start()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _next(self) -> Record | None:
        with self._cond:
            self._cond.wait_for(lambda: self._queue or self._stop.is_set())
            if self._stop.is_set():
                return None
            self._busy = True
            return self._queue.popleft()

    def _loop(self) -> None:
        while (record := self._next()) is not None:
            self._print_with_retry(record)
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _print_with_retry(self, record: Record) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                print_once(self.spec, record, self.opener)
            except ReportError as e:
                delay = self.retry_delays[min(attempt, len(self.retry_delays) - 1)]
                log.warning("%s; retrying in %.0f s", e, delay)
                with self._cond:
                    self._error = str(e)
                attempt += 1
                self._stop.wait(delay)
                continue
            with self._cond:
                self._error = ""
                self.printed += 1
            return
