"""The PDFs rendered in a process of their own, beside the one that wipes (issue 18).

Why: reportlab is pure Python and holds the GIL for the whole of a certificate (~0.1 s), and a
wipe thread gives the GIL up at every read, write and hash and must wait up to the interpreter's
switch interval (5 ms) to take it back. Measured on a 64 MiB loop: the job's 64-block
fingerprint took 0.3 s instead of 0.01 s while reportlab was imported beside it. In a process
of its own the renderer imports reportlab and parses the fonts on another core while the drives
are probed and wiped; the wiping process never loads reportlab at all.

A worker renders one request at a time. A request is one length-prefixed JSON frame on its
stdin (a certificate: the signed record; a session summary: the records and the station), its
reply one status byte and a length-prefixed frame on its stdout: the PDF, or the error's text.
A worker that fails or dies raises ``RenderError``; the caller renders in its own process then.

Workers run at the wipe threads' priority (``WORKER_NICE``): paperwork is background work as
the wipes are. ``wipestation wipe`` starts its first worker before it imports anything else
(``start_early``), so reportlab's import overlaps the command's own imports too.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from wipestation.errors import WipestationError

if TYPE_CHECKING:  # imported by ``start_early`` before the rest of the command: kept light
    from wipestation.reports.record import Record, StationInfo

OK, FAILED = b"0", b"1"
#: How long a close waits for a worker to exit before it is killed.
CLOSE_WAIT_S = 5.0
#: Certificates one worker renders before another is worth its start (~0.25 s of CPU: an
#: interpreter, reportlab and the fonts, against ~0.05 s a certificate). Measured (issue 18,
#: 8 drives, 2 cores): fixed cost 0.95 s with 2 workers against 1.07-1.21 s with one.
REPORTS_PER_WORKER = 4
#: ``engine.job.WORKER_NICE``, not imported from there: ``start_early`` runs before the engine
#: is imported (tests/reports/test_render_worker.py checks that the two agree).
RENDER_NICE = 19


def workers_for(reports: int) -> int:
    """Workers for ``reports`` certificates due at about the same time: one per
    ``REPORTS_PER_WORKER``, no more than there are cores."""
    return max(1, min(os.cpu_count() or 1, -(-reports // REPORTS_PER_WORKER)))


class RenderError(WipestationError):
    """A worker could not render: it failed, or it is gone."""


def write_frame(out: IO[bytes], data: bytes) -> None:
    out.write(len(data).to_bytes(4, "big") + data)
    out.flush()


def read_exact(src: IO[bytes], n: int) -> bytes:
    """``n`` bytes; fewer only at end of stream."""
    chunks, left = [], n
    while left and (chunk := src.read(left)):
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(src: IO[bytes]) -> bytes | None:
    """One frame, or None at end of stream (a frame cut short counts as the end)."""
    head = read_exact(src, 4)
    data = read_exact(src, int.from_bytes(head, "big")) if len(head) == 4 else b""
    if len(head) < 4 or len(data) < int.from_bytes(head, "big"):
        return None
    return data


# ---- the worker process ----------------------------------------------------------------------


def render(request: dict[str, Any]) -> bytes:
    """The PDF a request asks for (in the worker; reportlab on first use)."""
    from wipestation.reports import pdf, summary
    from wipestation.reports.record import StationInfo

    if request["kind"] == "certificate":
        return pdf.render_certificate(request["record"], request["paper"])
    station = StationInfo(**request["station"])
    return summary.render_pdf(request["records"], station, request["started"], request["paper"])


def warm() -> None:
    """reportlab imported and the fonts parsed before the first request arrives."""
    from wipestation.reports import pdf, summary  # noqa: F401
    from wipestation.reports.fonts import fonts

    fonts()


def serve(src: IO[bytes], out: IO[bytes]) -> None:
    """Answer requests until the parent closes the pipe."""
    warm()
    while (frame := read_frame(src)) is not None:
        try:
            data, status = render(json.loads(frame)), OK
        except Exception as e:  # noqa: BLE001 - the parent renders it itself and reports it
            data, status = f"{type(e).__name__}: {e}".encode(), FAILED
        out.write(status)
        write_frame(out, data)


def main() -> int:
    # Ctrl-C reaches the whole process group: the command cancels its jobs and still wants
    # their records rendered; the worker ends with its input (or ``close``), never with a
    # KeyboardInterrupt's traceback on the operator's terminal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must never corrupt a reply
    serve(sys.stdin.buffer, out)
    return 0


# ---- the wiping process's side -----------------------------------------------------------------


def package_root() -> str:
    """The directory this ``wipestation`` was imported from: the worker imports the same one."""
    return str(Path(__file__).resolve().parents[2])


class RenderWorker:
    """One worker process; ``call`` is not thread-safe (``RenderPool`` hands workers out)."""

    def __init__(self, python: str = sys.executable) -> None:
        path = os.pathsep.join(p for p in (package_root(), os.environ.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [python, "-m", "wipestation.reports.render_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
        )
        with contextlib.suppress(OSError):  # never above the caller's own (a nicer process)
            nice = max(RENDER_NICE, os.getpriority(os.PRIO_PROCESS, 0))
            os.setpriority(os.PRIO_PROCESS, self.proc.pid, nice)

    def call(self, request: dict[str, Any]) -> bytes:
        """Raises RenderError: the worker failed to render, or is gone."""
        stdin, stdout = self.proc.stdin, self.proc.stdout
        if stdin is None or stdout is None:  # never: both are pipes (__init__)
            raise RenderError("renderer process has no pipes")
        try:
            write_frame(stdin, json.dumps(request).encode())
            status = stdout.read(1)
            data = read_frame(stdout)
        except (OSError, ValueError) as e:  # a broken pipe, or closed by ``close``
            raise RenderError(f"renderer process gone: {e}") from e
        if status not in (OK, FAILED) or data is None:
            raise RenderError(f"renderer process gone (exit status {self.proc.poll()})")
        if status == FAILED:
            raise RenderError(data.decode(errors="replace"))
        return data

    def close(self) -> None:
        """Ended at once: it holds nothing but what it was asked for, and its interpreter's
        own exit (reportlab's modules torn down) would cost the command a tenth of a second."""
        self.proc.terminate()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):  # what a dead worker left unsent
                    pipe.close()
        try:
            self.proc.wait(CLOSE_WAIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class RenderPool:
    """``size`` workers started now (they warm up at once); any thread may ``certificate``."""

    def __init__(self, size: int = 1, python: str = sys.executable) -> None:
        self.python = python
        self.workers: list[RenderWorker] = []
        self.idle: queue.SimpleQueue[RenderWorker] = queue.SimpleQueue()
        self.grow(size)

    def grow(self, size: int) -> None:
        """Start workers until there are ``size`` (at least one)."""
        while len(self.workers) < max(1, size):
            worker = RenderWorker(self.python)
            self.workers.append(worker)
            self.idle.put(worker)

    def certificate(self, record: Record, paper: str) -> bytes:
        """Raises RenderError."""
        return self._call({"kind": "certificate", "record": record, "paper": paper})

    def summary(
        self, records: list[Record], station: StationInfo, started: str, paper: str
    ) -> bytes:
        """Raises RenderError."""
        request = {
            "kind": "summary",
            "records": records,
            "station": asdict(station),
            "started": started,
            "paper": paper,
        }
        return self._call(request)

    def _call(self, request: dict[str, Any]) -> bytes:
        worker = self.idle.get()
        try:
            return worker.call(request)
        finally:
            self.idle.put(worker)

    def close(self) -> None:
        for w in self.workers:
            w.close()


_early: RenderPool | None = None


def start_early() -> None:
    """One worker, started now by a command that will render (``wipestation wipe``) before
    it imports the rest of itself; ``adopt`` hands it to the report writer. Not adopted, it
    is ended at exit (and would end anyway at its end of input)."""
    global _early
    if _early is None:
        _early = RenderPool(1)
        atexit.register(_close_unadopted)


def adopt(size: int) -> RenderPool:
    """The early pool grown to ``size`` workers, or a new one."""
    global _early
    pool, _early = _early, None
    if pool is None:
        return RenderPool(size)
    pool.grow(size)
    return pool


def _close_unadopted() -> None:
    if _early is not None:
        _early.close()


if __name__ == "__main__":
    sys.exit(main())
