"""The label printer: a background queue that never blocks or fails a wipe.

``escpos:/dev/ttyS1:9600`` or ``zpl:/dev/usb/lp0`` (config key ``printer``). Serial ports go
through pyserial (any pyserial URL works too, e.g. ``loop://`` in tests); USB printer-class
devices (``/dev/usb/lp*``) and plain files are written raw. A failing printer (off, no paper,
unplugged) is shown in ``state`` and the label is retried with growing pauses until it prints or
the station shuts down; jobs queue behind it in order.
"""

from __future__ import annotations

import logging
import os
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


@dataclass(frozen=True)
class PrinterSpec:
    language: str
    port: str
    baud: int = 9600

    @classmethod
    def parse(cls, text: str) -> PrinterSpec:
        """``LANG:PORT[:BAUD]``; PORT may be a pyserial URL such as ``loop://``."""
        language, _, rest = text.strip().partition(":")
        if language not in LANGUAGES or not rest:
            raise ReportError(f"printer {text!r}: expected escpos:/dev/ttyS1[:9600] or zpl:PORT")
        port, baud = rest, 9600
        head, _, tail = rest.rpartition(":")
        if head and tail.isdigit():
            port, baud = head, int(tail)
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
    except (OSError, serial.SerialException) as e:
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
