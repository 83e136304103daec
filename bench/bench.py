"""``make bench``: the wipe engine's throughput as ratios against dd and nwipe, measured side by
side on loop devices this script creates and removes (disk-backed under /var/tmp, tmpfs-backed
under /dev/shm; the tmpfs sink makes the engine's own CPU cost visible).

Each figure interleaves the contenders, repeats, and prints the median ratio with the raw MB/s
beside it. It prints; it never asserts (the machine may be shared, so the load average is shown).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator

from wipestation.discovery.inventory import Inventory
from wipestation.engine.jobs import Engine
from wipestation.engine.verify import Verifier, VerifyRequest
from wipestation.planning.planner import Planner
from wipestation.steps.blockio import DEFAULT_BUFFER, FdBlockIO
from wipestation.steps.plan import Expect, Expectation

MiB = 1024 * 1024
NWIPE_PRNG = "isaac"  # fastest of mersenne/isaac/isaac64 in Debian's nwipe 0.34 (measured here)


# ---- loop devices -------------------------------------------------------------------------------


def settle() -> None:
    subprocess.run(["udevadm", "settle", "--timeout=10"], check=False)


@contextlib.contextmanager
def loop_device(directory: str, size: int) -> Iterator[str]:
    fd, name = tempfile.mkstemp(prefix="wipestation-bench-", suffix=".img", dir=directory)
    os.close(fd)
    try:
        subprocess.run(["fallocate", "-l", str(size), name], check=True)
        out = subprocess.run(
            ["losetup", "--find", "--show", "--direct-io=on", name],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        dev = out.stdout.strip()
        settle()
        try:
            dd_zero(dev)  # allocate every block once so no contender pays for it
            yield dev
        finally:
            for _ in range(20):
                if subprocess.run(["losetup", "-d", dev], capture_output=True).returncode == 0:
                    break
                time.sleep(0.1)
    finally:
        os.unlink(name)


# ---- contenders (each returns elapsed seconds) ------------------------------------------------


def timed(argv: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - t


def dev_size(dev: str) -> int:
    fd = os.open(dev, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


def dd_zero(dev: str) -> float:
    """dd stops with ENOSPC at the end of a device unless told the size: give it the count."""
    count = dev_size(dev) // (4 * MiB)
    return timed(
        [
            "dd",
            "if=/dev/zero",
            f"of={dev}",
            "bs=4M",
            f"count={count}",
            "oflag=direct",
            "status=none",
        ]
    )


def dd_read(dev: str) -> float:
    return timed(["dd", f"if={dev}", "of=/dev/null", "bs=4M", "iflag=direct", "status=none"])


def nwipe(dev: str, method: str) -> float:
    argv = ["nwipe", "--autonuke", "--nogui", "--nousb", "--verify=off", "--noblank"]
    extra = [f"--method={method}"] + ([f"--prng={NWIPE_PRNG}"] if method == "random" else [])
    return timed([*argv, *extra, dev])


def engine_wipe(devs: list[str], method: str, buffer: int = DEFAULT_BUFFER) -> float:
    """Wall time for the engine to wipe all ``devs`` at once (verify off)."""
    inventory = Inventory()
    drives = [inventory.get(d) for d in devs]
    with tempfile.TemporaryDirectory() as journal:
        engine = Engine(inventory, journal_dir=journal, buffer_size=buffer)
        planner = Planner()
        t = time.perf_counter()
        plans = [(d, planner.plan(d, method, "none")) for d in drives if d is not None]
        jobs = [engine.start(d, plan) for d, plan in plans]
        engine.wait()
        elapsed = time.perf_counter() - t
        bad = [r.reason for r in engine.results().values() if not r.passed]
        if bad or len(jobs) != len(devs):
            raise SystemExit(f"bench: engine run failed: {bad}")
    return elapsed


def engine_verify(dev: str) -> float:
    """Full verification read of a zeroed device (O_DIRECT, compare every byte)."""
    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    size = os.lseek(fd, 0, os.SEEK_END)
    req = VerifyRequest("full", Expectation(Expect.ZEROS), size, 512)
    io = FdBlockIO(fd)
    try:
        t = time.perf_counter()
        result = Verifier(io, req).run()
        elapsed = time.perf_counter() - t
    finally:
        io.close()
    if not result.passed:
        raise SystemExit("bench: verification of a zeroed device failed")
    return elapsed


# ---- measurement --------------------------------------------------------------------------------


def interleave(runs: dict[str, Callable[[], float]], reps: int) -> dict[str, float]:
    """Median seconds per contender, alternating them so drift hits all alike."""
    times: dict[str, list[float]] = {k: [] for k in runs}
    for i in range(reps):
        order = list(runs) if i % 2 == 0 else list(reversed(runs))
        for k in order:
            times[k].append(runs[k]())
    return {k: statistics.median(v) for k, v in times.items()}


def line(label: str, ours: float, theirs: float, names: tuple[str, str], target: str) -> None:
    """``ours``/``theirs`` are MB/s."""
    ratio = ours / theirs if theirs else float("nan")
    print(
        f"{label:<44} {ratio:5.2f}   ({names[0]} {ours:7.0f} MB/s, {names[1]} {theirs:7.0f} MB/s)"
        f"  target {target}",
        flush=True,
    )


def mbps(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def bench_backing(kind: str, directory: str, size: int, nwipe_size: int, reps: int) -> None:
    with loop_device(directory, size) as dev:
        t = interleave(
            {
                "zero": lambda: engine_wipe([dev], "overwrite-zero"),
                "random": lambda: engine_wipe([dev], "overwrite-random"),
                "dd": lambda: dd_zero(dev),
            },
            reps,
        )
        dd = mbps(size, t["dd"])
        line(f"{kind}: overwrite-zero vs dd oflag=direct", mbps(size, t["zero"]), dd,
             ("engine", "dd"), ">= 0.95")  # fmt: skip
        line(f"{kind}: overwrite-random vs dd oflag=direct", mbps(size, t["random"]), dd,
             ("engine", "dd"), ">= 0.90")  # fmt: skip
        dd_zero(dev)
        t = interleave({"verify": lambda: engine_verify(dev), "dd": lambda: dd_read(dev)}, reps)
        line(f"{kind}: full verify read vs dd iflag=direct", mbps(size, t["verify"]),
             mbps(size, t["dd"]), ("engine", "dd"), ">= 0.95")  # fmt: skip
    with loop_device(directory, nwipe_size) as dev:
        t = interleave(
            {
                "zero": lambda: engine_wipe([dev], "overwrite-zero"),
                "nwipe-zero": lambda: nwipe(dev, "zero"),
                "random": lambda: engine_wipe([dev], "overwrite-random"),
                "nwipe-random": lambda: nwipe(dev, "random"),
            },
            max(1, reps // 2 + 1),
        )
        n = nwipe_size
        line(f"{kind}: overwrite-zero vs nwipe zero", mbps(n, t["zero"]),
             mbps(n, t["nwipe-zero"]), ("engine", "nwipe"), ">= 1.0")  # fmt: skip
        line(f"{kind}: overwrite-random vs nwipe --prng={NWIPE_PRNG}", mbps(n, t["random"]),
             mbps(n, t["nwipe-random"]), ("engine", "nwipe"), ">= 1.0")  # fmt: skip


def bench_parallel(size: int, reps: int) -> None:
    """4 tmpfs-backed devices at once vs 1, overwrite-random (a CPU-bound sink)."""
    with contextlib.ExitStack() as stack:
        devs = [stack.enter_context(loop_device("/dev/shm", size)) for _ in range(4)]
        t = interleave(
            {
                "one": lambda: engine_wipe(devs[:1], "overwrite-random"),
                "four": lambda: engine_wipe(devs, "overwrite-random"),
            },
            reps,
        )
    cores = os.cpu_count() or 1
    single, aggregate = mbps(size, t["one"]), mbps(4 * size, t["four"])
    expected = min(4, cores) * single
    line(f"tmpfs: 4 devices vs min(4,{cores} cores) x 1 device", aggregate, expected,
         ("4 at once", "scaled single"), ">= 0.90")  # fmt: skip
    print(f"{'':<44}        (single device {single:.0f} MB/s)", flush=True)


def bench_buffers(size: int, reps: int) -> None:
    """Why DEFAULT_BUFFER: engine throughput per buffer size on both backings."""
    for kind, directory in (("disk", "/var/tmp"), ("tmpfs", "/dev/shm")):
        with loop_device(directory, size) as dev:
            for method in ("overwrite-zero", "overwrite-random"):
                runs = {
                    b: (lambda b=b, m=method: engine_wipe([dev], m, b * MiB))
                    for b in (1, 2, 4, 8, 16)
                }
                t = interleave(runs, reps)  # type: ignore[arg-type]
                cells = "  ".join(f"{b} MiB {mbps(size, s):6.0f}" for b, s in t.items())
                print(f"{kind}: {method:<17} MB/s by buffer: {cells}", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size-mib", type=int, default=1024, help="device size for the dd figures")
    p.add_argument("--nwipe-size-mib", type=int, default=128, help="device size vs nwipe")
    p.add_argument("--parallel-size-mib", type=int, default=512, help="each of the 4 devices")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--buffers", action="store_true", help="only measure engine buffer sizes")
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        print("bench: needs root (loop devices)", file=sys.stderr)
        return 2
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)", flush=True)
    if args.buffers:
        bench_buffers(args.size_mib * MiB, args.reps)
    else:
        for kind, directory in (("disk", "/var/tmp"), ("tmpfs", "/dev/shm")):
            bench_backing(kind, directory, args.size_mib * MiB, args.nwipe_size_mib * MiB,
                          args.reps)  # fmt: skip
        bench_parallel(args.parallel_size_mib * MiB, args.reps)
    print(f"load average after:  {os.getloadavg()[0]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
