"""``make bench``: the per-job fixed cost of ``wipestation wipe`` (issue 18) and where it goes.

Fixed cost = a whole run's wall time minus its bytes at ``dd``'s rate: one command over N
tmpfs-backed 64 MiB loop devices with ``--verify none`` (a process of its own, as a user runs
it), against N concurrent ``dd bs=4M oflag=direct`` over the same drives; medians of 3,
interleaved. Targets: <= 0.3 s for one drive, <= 0.5 s for 8 in one command.

The split by phase comes from one more run of the command inside this process, with clocks
around its phases: wall spans (from the command's start) for what runs one after another, and
seconds summed over the job threads for what overlaps (probe, fingerprint, rendering, ...).
Both contenders run at the engine's worker priority (nice 19, ``engine/job.py``: its wipe threads
take it whatever the command's own), so neither gains from it. It prints; it never
asserts (the load average is shown). PYTHONPATH=<another tree>/app measures that tree.

The command runs from compiled bytecode, as on the image (``image/build.sh`` compiles it): an
environment with PYTHONDONTWRITEBYTECODE=1 would otherwise recompile every module of the
command at every run (+0.2-0.6 s). Its bytecode goes to a directory of this run's own
(PYTHONPYCACHEPREFIX), filled by one untimed run first. Beside the wall time, the CPU seconds of
the command and of what it started (its renderer process) are shown: on a busy machine they
say whether the work shrank when the wall time cannot.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

MiB = 1024 * 1024
SIZE = 64 * MiB
WIPESTATION = [sys.executable, "-m", "wipestation"]


@contextlib.contextmanager
def loops(n: int, size: int = SIZE) -> Iterator[list[str]]:
    """``n`` loop devices over files in /dev/shm, every block allocated; removed on exit."""
    files: list[str] = []
    devs: list[str] = []
    try:
        for _ in range(n):
            fd, name = tempfile.mkstemp(prefix="wipestation-fixedcost-", dir="/dev/shm")
            os.close(fd)
            files.append(name)
            subprocess.run(["fallocate", "-l", str(size), name], check=True)
            out = subprocess.run(
                ["losetup", "--find", "--show", "--direct-io=on", name],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            devs.append(out.stdout.strip())
        subprocess.run(["udevadm", "settle", "--timeout=10"], check=False)
        dd(devs)  # allocate every block once so no contender pays for it
        yield devs
    finally:
        for dev in devs:
            for _ in range(20):
                if subprocess.run(["losetup", "-d", dev], capture_output=True).returncode == 0:
                    break
                time.sleep(0.1)
        for name in files:
            os.unlink(name)


def dd(devs: list[str]) -> float:
    """Wall seconds of N concurrent ``dd`` writing zeros over the whole of each drive."""
    t = time.perf_counter()
    procs = [
        subprocess.Popen(
            ["dd", "if=/dev/zero", f"of={d}", "bs=4M", f"count={SIZE // (4 * MiB)}",
             "oflag=direct", "status=none"]
        )
        for d in devs
    ]  # fmt: skip
    if any(p.wait() for p in procs):
        raise SystemExit("fixedcost: dd failed")
    return time.perf_counter() - t


def wipe_argv(devs: list[str], tmp: str) -> list[str]:
    return [
        "wipe", *devs, "--method", "overwrite-zero", "--verify", "none", "--yes",
        "--report-dir", f"{tmp}/r", "--key-dir", f"{tmp}/k", "--journal-dir", f"{tmp}/j",
    ]  # fmt: skip


def keep_bytecode(pycache: str) -> None:
    """The processes started from now on (the command, its renderer) keep their bytecode in
    ``pycache`` (see the docstring); this process stays as it was started."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = pycache


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def command(devs: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``wipestation wipe`` over ``devs``, start-up to exit; CPU
    counts the command and the processes it waited for (its renderer)."""
    with tempfile.TemporaryDirectory() as tmp:
        cpu, t = children_cpu(), time.perf_counter()
        out = subprocess.run([*WIPESTATION, *wipe_argv(devs, tmp)], capture_output=True, text=True)
        elapsed, cpu = time.perf_counter() - t, children_cpu() - cpu
    if out.returncode != 0:
        raise SystemExit(f"fixedcost: wipe failed: {out.stderr.strip()[-400:]}")
    return elapsed, cpu


# ---- the split by phase (one run inside this process) -------------------------------------


class Clocks:
    """Wall spans (first start, last end) and thread-summed seconds per phase label."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.spans: dict[str, list[float]] = {}
        self.summed: dict[str, float] = collections.defaultdict(float)
        self.calls: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()

    def wrap(self, owner: Any, name: str, label: str) -> None:
        fn = getattr(owner, name, None)
        if fn is None:  # an older tree (PYTHONPATH=<its app>: the figures before a change)
            return

        def timed(*a: Any, **k: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                end = time.perf_counter()
                with self.lock:
                    span = self.spans.setdefault(label, [start, end])
                    span[0], span[1] = min(span[0], start), max(span[1], end)
                    self.summed[label] += end - start
                    self.calls[label] += 1

        setattr(owner, name, timed)


def phases(devs: list[str]) -> tuple[Clocks, float]:
    """One command run in-process with its phases clocked; (clocks, seconds of its imports)."""
    clocks = Clocks()
    t = time.perf_counter()
    from wipestation import cli, services
    from wipestation.cli import wipe_cmd
    from wipestation.engine import job, journal
    from wipestation.planning import planner
    from wipestation.reports import writer

    imports = time.perf_counter() - t
    w = clocks.wrap
    w(wipe_cmd, "resolve_targets", "1 resolve DEVICEs")
    w(wipe_cmd, "build_services", "2 build services")
    w(wipe_cmd, "overlap_start", "3 probe (all drives)")
    w(services.Services, "check", "4 check")
    w(services.Services, "start", "5 start jobs")
    w(job.Job, "probe", "6 job: probe + fingerprint")
    w(job.Job, "run_plans", "7 job: erase")
    w(job.Job, "write_report", "8 job: report")
    w(services.Services, "close", "9 close")
    w(planner.Planner, "capabilities", "  probe (per drive)")
    w(job, "take_fingerprint", "  fingerprint")
    w(writer.ReportWriter, "_sign_now", "  sign (+ wait for the lock)")
    w(writer, "render_certificate", "  render certificate (here)")
    w(writer.ReportWriter, "_render", "  render certificate (+ wait)")
    with contextlib.suppress(ImportError):  # an older tree renders in this process
        from wipestation.reports import render_worker

        w(render_worker.RenderPool, "certificate", "  render certificate (worker)")
        w(render_worker.RenderPool, "summary", "  render summary (worker)")
    w(writer.ReportWriter, "flush", "  deliver (+ wait for the lock)")
    w(writer.ReportWriter, "_write_summary", "  session summary")
    w(writer, "syncfs", "  syncfs")
    w(journal.Journal, "save", "  journal save")
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as out:
        clocks.t0 = time.perf_counter()
        with contextlib.redirect_stdout(out):  # its per-drive lines
            rc = cli.run(wipe_argv(devs, tmp))
        clocks.spans["  whole run (after imports)"] = [clocks.t0, time.perf_counter()]
    if rc != 0:
        raise SystemExit(f"fixedcost: in-process wipe exited {rc}")
    return clocks, imports


def print_phases(n: int, clocks: Clocks, imports: float) -> None:
    print(f"  phases, {n} drive(s), one in-process run (imports {imports:.2f} s before it):")
    print(f"    {'phase':34s} {'from':>6s} {'to':>6s} {'summed':>7s} calls")
    for label in sorted(clocks.spans):
        start, end = (x - clocks.t0 for x in clocks.spans[label])
        summed = clocks.summed.get(label, end - start)
        print(f"    {label:34s} {start:6.2f} {end:6.2f} {summed:7.2f} {clocks.calls[label]:5d}")


# ---- main -----------------------------------------------------------------------------------


def fixed_cost(devs: list[str], reps: int) -> tuple[float, float, float, float]:
    """(median whole run, median dd, fixed cost = run - bytes at dd's rate, median CPU of the
    command), interleaved."""
    runs: dict[str, list[float]] = {"wipe": [], "dd": [], "cpu": []}

    def wipe() -> float:
        wall, cpu = command(devs)
        runs["cpu"].append(cpu)
        return wall

    measure: dict[str, Callable[[], float]] = {"wipe": wipe, "dd": lambda: dd(devs)}
    command(devs)  # untimed: compiles the bytecode, warms the page cache
    for _ in range(reps):
        for name, fn in measure.items():
            runs[name].append(fn())
    run, ref = statistics.median(runs["wipe"]), statistics.median(runs["dd"])
    return run, ref, run - ref, statistics.median(runs["cpu"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--counts", default="1,8", help="drive counts (default 1,8)")
    ap.add_argument("--no-phases", action="store_true", help="skip the split by phase")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("fixedcost: needs root (loop devices)", file=sys.stderr)
        return 1
    from bench import udev_for_the_run  # bench/bench.py, beside this script

    with udev_for_the_run():
        return measure_all(args)


def measure_all(args: argparse.Namespace) -> int:
    from bench import at_worker_priority

    at_worker_priority()  # the command and dd alike (inherited), as the wipe threads are
    targets = {1: 0.3, 8: 0.5}
    print(
        f"per-job fixed cost: 64 MiB tmpfs loops, --verify none, whole run minus its bytes at "
        f"dd's rate; median of {args.reps} (load average {os.getloadavg()[0]:.1f})"
    )
    with tempfile.TemporaryDirectory(prefix="fixedcost-pycache-") as pycache:
        keep_bytecode(pycache)
        for n in (int(c) for c in args.counts.split(",")):
            with loops(n) as devs:
                run, ref, cost, cpu = fixed_cost(devs, args.reps)
                target = f"(target <= {targets[n]} s)" if n in targets else ""
                print(
                    f"  {n} drive(s): fixed cost {cost:5.2f} s {target}  "
                    f"[whole run {run:.2f} s, dd {ref:.2f} s; CPU {cpu:.2f} s]"
                )
                if not args.no_phases:
                    print_phases(n, *phases(devs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
