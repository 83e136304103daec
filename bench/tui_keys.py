"""How long the station screen takes to answer a key while many wipe threads want the CPU.

Runs the real App on a pseudo-terminal (``tui_cpu.py``'s harness, 48 drives) with N worker
threads that each spend ``--python-us`` in Python, then ``--io-us`` away from the interpreter
(as a job does around each write) — enough together to saturate the interpreter, as 48 jobs
do on QEMU TCG's two vCPUs. Sends ``?`` and times the help screen's arrival, with the workers at
nice 0 and at the engine's ``WORKER_NICE``, then at ``WORKER_NICE`` stepping aside between
iterations as the job threads do at every chunk (``engine/courtesy.py``: a key holds them).
Prints; never asserts.

    .venv/bin/python bench/tui_keys.py [--workers 48] [--python-us 500] [--io-us 5000]
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import select
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tui_cpu  # noqa: E402
from wipestation.engine.courtesy import Courtesy  # noqa: E402
from wipestation.engine.job import WORKER_NICE  # noqa: E402

from tests.tui.fakes import FakeEngine  # noqa: E402

HELP = b"closes this help"
ANSI = re.compile(rb"\x1b\[[0-9;?]*[a-zA-Z]")


def worker(
    stop: threading.Event, nice: int, python_s: float, io_s: float, courtesy: Courtesy | None
) -> None:
    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    while not stop.is_set():
        until = time.perf_counter() + python_s
        while time.perf_counter() < until:
            pass
        time.sleep(io_s)
        if courtesy is not None:
            courtesy.pause(stop)


def child(args: argparse.Namespace, nice: int, step_aside: bool) -> None:
    stop = threading.Event()

    def start_workers(engine: FakeEngine) -> None:
        courtesy = engine.courtesy if step_aside else None
        for _ in range(args.workers):
            work = (stop, nice, args.python_us / 1e6, args.io_us / 1e6, courtesy)
            threading.Thread(target=worker, args=work, daemon=True).start()

    tui_cpu.child(args.timeout + 10, False, start_workers)


def help_latency(args: argparse.Namespace, nice: int, step_aside: bool) -> float | None:
    """Seconds from ``?`` to the help screen on the terminal, or None after ``--timeout``."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(TERM="xterm-256color", COLUMNS="160", LINES="50")
        child(args, nice, step_aside)
        os._exit(0)
    try:
        return time_help(fd, args.timeout)
    finally:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)


def time_help(fd: int, timeout: float, settle: float = 8.0) -> float | None:
    start, sent, seen = time.monotonic(), 0.0, b""
    while time.monotonic() - start < settle + timeout:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                return None
        if not sent and time.monotonic() - start >= settle:
            seen, sent = b"", time.monotonic()
            os.write(fd, b"?")
        if sent and HELP in ANSI.sub(b"", seen):
            return time.monotonic() - sent
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=48)
    ap.add_argument("--python-us", type=float, default=500.0)
    ap.add_argument("--io-us", type=float, default=5000.0)
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args()
    print(f"help key vs {args.workers} workers ({args.python_us:g} us Python, {args.io_us:g} us "
          f"I/O each), load {os.getloadavg()[0]:.1f}")  # fmt: skip
    for nice, step_aside in ((0, False), (WORKER_NICE, False), (WORKER_NICE, True)):
        got = help_latency(args, nice, step_aside)
        shown = f"{got:.2f} s" if got is not None else f"not within {args.timeout:g} s"
        aside = ", stepping aside for keys" if step_aside else ""
        print(f"  workers at nice {nice:2d}{aside}: help on screen {shown}")


if __name__ == "__main__":
    main()
