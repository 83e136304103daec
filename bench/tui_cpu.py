"""How much CPU the station screen itself uses with 48 drives whose progress changes at 10 Hz.

Runs the real App on a pseudo-terminal (so rendering and terminal output are paid for, as on the
console) against a fake engine whose 48 jobs advance every 100 ms, and reads the App process's
CPU time from /proc. The fake engine's own cost is measured alone and subtracted. Prints the
number; never asserts (style.md: measure, don't assert).

    .venv/bin/python bench/tui_cpu.py [--seconds 20] [--size 80x24] [--term linux]
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wipestation.model import JobState  # noqa: E402

from tests.tui.fakes import FakeEngine, FakeInventory, make_drive, services  # noqa: E402

DRIVES = 48
HZ = 10.0


def bench_engine() -> tuple[FakeEngine, FakeInventory]:
    drives = [make_drive(f"sd{chr(97 + i // 26)}{chr(97 + i % 26)}") for i in range(DRIVES)]
    engine = FakeEngine()
    for d in drives:
        job = engine.start_method(d, "nist-clear")
        engine.advance(job, state=JobState.ERASING, bytes_total=d.size_bytes, pass_count=2)
    return engine, FakeInventory(drives)


def drive_progress(engine: FakeEngine, stop: threading.Event) -> None:
    """Every job advances every 1/HZ s; every 5 s one job changes state (a message)."""
    tick = 0
    while not stop.wait(1 / HZ):
        tick += 1
        for job_id, p in engine.snapshot().items():
            done = (p.bytes_done + 37 * 1024 * 1024 * (1 + hash(job_id) % 7)) % p.bytes_total
            engine._snap[job_id] = replace(
                p, bytes_done=done, rate_bps=150e6 + tick % 50 * 1e6, eta_s=3600 - tick % 3600
            )
        if tick % int(5 * HZ) == 0:
            job_id = sorted(engine._snap)[tick // int(5 * HZ) % DRIVES]
            engine.advance(job_id, notify=True, phase=f"pass {tick}")


def child(
    seconds: float, ascii_only: bool, with_engine: Callable[[FakeEngine], None] | None = None
) -> None:
    """The real App for ``seconds``; ``with_engine`` gets its engine first (tui_keys.py)."""
    from wipestation.config import StationConfig
    from wipestation.tui.app import WipestationApp

    engine, inventory = bench_engine()
    if with_engine is not None:
        with_engine(engine)
    stop = threading.Event()
    threading.Thread(target=drive_progress, args=(engine, stop), daemon=True).start()
    cfg = StationConfig(station="bench", method="nist-clear")
    app = WipestationApp(services=services(engine, inventory.drives(), cfg), ascii_only=ascii_only)
    app.call_later(lambda: app.set_timer(seconds, app.exit))
    app.run()
    stop.set()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def feeder_cost(seconds: float) -> float:
    """CPU of the fake engine's updater alone, to subtract."""
    engine, _ = bench_engine()
    stop = threading.Event()
    t0 = time.process_time()
    t = threading.Thread(target=drive_progress, args=(engine, stop))
    t.start()
    time.sleep(seconds)
    stop.set()
    t.join()
    return time.process_time() - t0


def run_on_pty(seconds: float, cols: int, rows: int, term: str) -> tuple[float, float, int]:
    warmup = 3.0
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(TERM=term, COLUMNS=str(cols), LINES=str(rows))
        child(warmup + seconds, ascii_terminal_for(term))
        os._exit(0)
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    out_bytes, start = 0, time.monotonic()
    cpu0: float | None = None
    while True:
        if cpu0 is None and time.monotonic() - start >= warmup:
            cpu0, t0 = cpu_seconds(pid), time.monotonic()
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if cpu0 is not None:
                out_bytes += len(chunk)
        if cpu0 is not None and time.monotonic() - t0 >= seconds:
            cpu1, wall = cpu_seconds(pid), time.monotonic() - t0
            break
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)
    return cpu1 - cpu0, wall, out_bytes


def ascii_terminal_for(term: str) -> bool:
    from wipestation.tui.format import ascii_terminal

    return ascii_terminal(term)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--size", default="160x50")
    ap.add_argument("--term", default="xterm-256color")
    args = ap.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    cpu, wall, out = run_on_pty(args.seconds, cols, rows, args.term)
    feeder = feeder_cost(min(args.seconds, 10.0)) * wall / min(args.seconds, 10.0)
    tui = max(0.0, cpu - feeder)
    print(
        f"TUI CPU: {100 * tui / wall:.1f}% of one core "
        f"({DRIVES} drives at {HZ:.0f} Hz, {cols}x{rows}, TERM={args.term}, {wall:.0f} s; "
        f"process {100 * cpu / wall:.1f}% minus fake engine {100 * feeder / wall:.1f}%; "
        f"terminal output {out / wall / 1024:.1f} KiB/s)"
    )


if __name__ == "__main__":
    main()
