"""``make bench``: the wipe engine's throughput as ratios against dd and nwipe, measured side by
side on loop devices this script creates and removes.

- disk-backed loops (/var/tmp): one drive, in-process engine vs dd and nwipe;
- the issue-18 scaling table: one ``wipestation wipe`` command over N tmpfs-backed loops vs N
  concurrent dd (N = 1, 2, 4, 8): zero and random overwrite vs ``dd oflag=direct``, the full
  verification read vs ``dd iflag=direct``; the tmpfs sink costs little, so the engine's own
  CPU cost and any serialisation show;
- the same rows pinned with ``taskset`` to 1 and to 2 CPUs: how the aggregate rises with cores;
- records/s delivered to an S3 store: the station's uploader against a SeaweedFS started on
  loopback (``bench/store_rate.py``; ``--store`` for that figure alone, no root needed).

Rates are marginal (a big run minus a small run over the same drives, so start-up, probe,
PDF and signing cancel out; for the command: its erase span and its drives' mean verify time),
the contenders interleaved, medians printed with raw GB/s beside each ratio. Everything runs at
the engine's worker priority (nice 19: its wipe threads take it whatever the caller's), so no
contender gains from priority. It prints; it never asserts (the load average is shown).
tmpfs use stays under ``--scaling-mib`` (3 GiB by default); every loop and file is removed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo: tests.helpers

from wipestation.discovery.inventory import Inventory
from wipestation.engine.jobs import Engine
from wipestation.engine.verify import Verifier, VerifyRequest
from wipestation.planning.planner import Planner
from wipestation.steps.blockio import DEFAULT_BUFFER, FdBlockIO
from wipestation.steps.plan import Expect, Expectation

from tests.helpers.loops import udev_for_the_run  # noqa: E402

MiB = 1024 * 1024
#: how the scaling figures run the command (as a user would: a process of its own)
WIPESTATION = [sys.executable, "-m", "wipestation"]
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
            detach(dev)
    finally:
        os.unlink(name)


@contextlib.contextmanager
def loop_pair(directory: str, big: int, small: int) -> Iterator[tuple[str, str]]:
    """Two loop devices over one backing file: all of it, and its first ``small`` bytes.

    Why: the marginal rate needs a big and a small run on each drive; sharing the file halves
    the tmpfs RAM the scaling figures need (the machine is shared)."""
    with loop_device(directory, big) as dev:
        out = subprocess.run(
            ["losetup", "--find", "--show", "--direct-io=on", f"--sizelimit={small}",
             loop_backing(dev)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        part = out.stdout.strip()
        settle()
        try:
            yield dev, part
        finally:
            detach(part)


def loop_backing(dev: str) -> str:
    name = os.path.basename(dev)
    with open(f"/sys/block/{name}/loop/backing_file", encoding="utf-8") as f:
        return f.read().strip()


def detach(dev: str) -> None:
    for _ in range(20):
        if subprocess.run(["losetup", "-d", dev], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)


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
    return {k: statistics.median(v) for k, v in samples(runs, reps).items()}


def samples(runs: dict[str, Callable[[], float]], reps: int) -> dict[str, list[float]]:
    """Seconds per contender and repetition, the order alternating between repetitions."""
    times: dict[str, list[float]] = {k: [] for k in runs}
    for i in range(reps):
        order = list(runs) if i % 2 == 0 else list(reversed(runs))
        for k in order:
            times[k].append(runs[k]())
    return times


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


# ---- scaling: one command over N drives vs N concurrent dd (issue 18) -------------------------


def pinned(cpus: str) -> list[str]:
    return ["taskset", "-c", cpus] if cpus else []


def dd_many(devs: list[str], op: str, cpus: str = "") -> float:
    """Wall seconds for N concurrent dd, one per device (``op``: write zeros | read)."""
    argvs = [
        ["dd", "if=/dev/zero", f"of={d}", "bs=4M", f"count={dev_size(d) // (4 * MiB)}",
         "oflag=direct", "status=none"]
        if op == "write"
        else ["dd", f"if={d}", "of=/dev/null", "bs=4M", "iflag=direct", "status=none"]
        for d in devs
    ]  # fmt: skip
    t = time.perf_counter()
    procs = [subprocess.Popen([*pinned(cpus), *a]) for a in argvs]
    if any(p.wait() for p in procs):
        raise SystemExit(f"bench: dd {op} failed")
    return time.perf_counter() - t


def wipe_command(devs: list[str], method: str, verify: str, cpus: str = "") -> dict[str, float]:
    """One ``wipestation wipe`` over ``devs``: seconds per phase, from its ``--json-progress``
    events (``phase_times``).

    Why phase times and not the wall time: the command's start-up (imports, probe) varies by a
    second on a busy machine and would drown the marginal rate."""
    settle()  # udev re-reads a drive after the last run closed it: until then it is refused
    with tempfile.TemporaryDirectory() as tmp:
        argv = [
            *pinned(cpus), *WIPESTATION, "wipe", *devs,
            "--method", method, "--verify", verify, "--yes", "--json-progress",
            "--report-dir", f"{tmp}/r", "--key-dir", f"{tmp}/k", "--journal-dir", f"{tmp}/j",
        ]  # fmt: skip
        out = subprocess.run(argv, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"bench: wipe {method} failed: {out.stderr.strip()[-400:]}")
    events = [json.loads(ln) for ln in out.stdout.splitlines() if ln.startswith("{")]
    return phase_times(events)


def phase_times(events: list[dict[str, object]]) -> dict[str, float]:
    """``erasing``: first drive entering it to last drive leaving it (everything that delays a
    drive's start counts). ``verifying``: the mean time a drive spends in it; the span would
    also hold the erase of drives that finished erasing later, in proportion to the size."""
    changes: dict[object, list[tuple[float, object]]] = {}
    for e in events:
        if e.get("event") != "progress":
            continue
        seq = changes.setdefault(e["job_id"], [])
        if not seq or seq[-1][1] != e["state"]:
            seq.append((float(e["time"]), e["state"]))  # type: ignore[arg-type]
    spans: dict[str, list[tuple[float, float]]] = {"erasing": [], "verifying": []}
    for seq in changes.values():
        for (t, state), (t_next, _) in zip(seq, seq[1:], strict=False):
            if state in spans:
                spans[state].append((t, t_next))
    nan = float("nan")
    erase, verify = spans["erasing"], spans["verifying"]
    return {
        "erasing": max(e for _, e in erase) - min(s for s, _ in erase) if erase else nan,
        "verifying": statistics.mean(e - s for s, e in verify) if verify else nan,
    }


def marginal(big: float, small: float, nbytes: int) -> float:
    """MB/s of the extra bytes: (big run - small run) cancels start-up, probe, PDF and signing."""
    return nbytes / (big - small) / 1e6 if big > small else float("nan")


#: contender -> (what it runs, its reference): the three ratios of the table
RATIOS = {"zero": "dd", "random": "dd", "verify": "read"}


def scaling_runs(
    big: list[str], small: list[str], cpus: str, kinds: tuple[str, ...]
) -> dict[str, Callable[[], float]]:
    """The contenders of one row (``kinds`` of RATIOS and their references), big and small."""

    def span(devs: list[str], method: str, verify: str, phase: str) -> Callable[[], float]:
        return lambda: wipe_command(devs, method, verify, cpus)[phase]

    def one(kind: str, devs: list[str]) -> Callable[[], float]:
        if kind in ("dd", "read"):
            return lambda: dd_many(devs, "write" if kind == "dd" else "read", cpus)
        if kind == "verify":
            return span(devs, "overwrite-zero", "full", "verifying")
        return span(devs, f"overwrite-{kind}", "none", "erasing")

    wanted = dict.fromkeys([*kinds, *(RATIOS[k] for k in kinds)])
    return {
        f"{k}-{which}": one(k, devs)
        for k in wanted
        for which, devs in (("big", big), ("small", small))
    }


Rates = dict[str, list[float]]  # contender -> marginal MB/s per repetition


def scaling_row(
    n: int, total: int, reps: int, cpus: str = "", kinds: tuple[str, ...] = tuple(RATIOS)
) -> Rates:
    """Aggregate marginal MB/s of one command over ``n`` tmpfs-backed loops and of ``n``
    concurrent dd, per repetition (big and small run of the same repetition paired), for each
    contender in ``kinds`` and its reference."""
    size = max(64 * MiB, total // n // (4 * MiB) * 4 * MiB)
    small = size // 4
    extra = n * (size - small)
    with contextlib.ExitStack() as stack:  # each exit detaches its loops and deletes the file
        pairs = [stack.enter_context(loop_pair("/dev/shm", size, small)) for _ in range(n)]
        runs = scaling_runs([p[0] for p in pairs], [p[1] for p in pairs], cpus, kinds)
        t = samples(runs, reps)
    keys = dict.fromkeys(k.rsplit("-", 1)[0] for k in t)
    return {
        k: [marginal(b, s, extra) for b, s in zip(t[f"{k}-big"], t[f"{k}-small"], strict=True)]
        for k in keys
    }


def median(values: list[float]) -> float:
    real = [v for v in values if not math.isnan(v)]
    return statistics.median(real) if real else float("nan")


def ratio_cell(r: Rates, ours: str) -> str:
    """Median of the per-repetition ratios [their range: the noise], raw GB/s beside."""
    theirs = RATIOS[ours]
    if ours not in r:
        return ""
    ratios = [o / t for o, t in zip(r[ours], r[theirs], strict=True)]
    real = [x for x in ratios if not math.isnan(x)] or [float("nan")]
    spread = f"[{min(real):.2f}-{max(real):.2f}]"
    gbs = f"({median(r[ours]) / 1e3:5.2f} vs {median(r[theirs]) / 1e3:5.2f} GB/s)"
    return f"{median(ratios):5.2f} {spread} {gbs}"


def print_row(label: str, r: Rates) -> None:
    print(f"{label:<12}" + "".join(f"{ratio_cell(r, k):>42}" for k in RATIOS), flush=True)


def bench_scaling(counts: list[int], total: int, reps: int) -> None:
    """The issue-18 table: one command over N drives vs N concurrent dd, N = ``counts``."""
    print(
        "tmpfs loops, marginal aggregate rates (big run - small run): median of "
        f"{reps} interleaved repetitions' ratios [their range], {total // MiB} MiB per row",
        flush=True,
    )
    heads = ("zero / dd write (>=0.95|0.90)", "random / dd write", "full verify / dd read (>=0.90)")
    print(f"{'drives':<12}" + "".join(f"{h:>42}" for h in heads), flush=True)
    for n in counts:
        print_row(f"N={n}", scaling_row(n, total, reps))


def bench_cores(n: int, total: int, reps: int) -> None:
    """How the aggregate rises with cores: the same row pinned (taskset) to 1 and to 2 CPUs.
    The loop devices' kernel workers are not pinned: they are the sink, not the contender."""
    print(f"N={n} under taskset (engine and dd alike):", flush=True)
    rows: dict[str, Rates] = {}
    for cpus in ("0", "0,1"):
        rows[cpus] = r = scaling_row(n, total, reps, cpus, ("zero", "random"))
        print_row(f"cpus {cpus}", r)
    one, two = rows["0"], rows["0,1"]
    gains = "  ".join(
        f"{k} x{median(two[k]) / median(one[k]):.2f}" for k in ("zero", "random", "dd")
    )
    print(f"2 cores / 1 core: {gains}", flush=True)


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


def at_worker_priority() -> None:
    """This process and what it starts (dd, nwipe, the command) at the wipe threads' nice."""
    from wipestation.engine.job import WORKER_NICE

    os.setpriority(os.PRIO_PROCESS, 0, max(WORKER_NICE, os.getpriority(os.PRIO_PROCESS, 0)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size-mib", type=int, default=512, help="device size for the disk figures")
    p.add_argument("--nwipe-size-mib", type=int, default=128, help="device size vs nwipe")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--counts", default="1,2,4,8", help="drive counts of the scaling table")
    p.add_argument("--scaling-mib", type=int, default=3072, help="bytes per scaling row, in all")
    p.add_argument("--cores-n", type=int, default=4, help="drive count of the taskset rows")
    p.add_argument("--scaling", action="store_true", help="only the scaling table and cores")
    p.add_argument("--buffers", action="store_true", help="only measure engine buffer sizes")
    p.add_argument("--store", action="store_true", help="only the store's records/s")
    p.add_argument("--store-records", type=int, default=200, help="records sent to the store")
    args = p.parse_args(argv)
    import store_rate  # beside this script (run as one: bench/ is on sys.path); starts SeaweedFS

    if args.store:
        return store_rate.main(["--records", str(args.store_records)])
    if os.geteuid() != 0:
        print("bench: needs root (loop devices)", file=sys.stderr)
        return 2
    try:
        counts = [int(c) for c in args.counts.split(",")]
    except ValueError:
        print(f"bench: --counts wants numbers like 1,2,4,8, not {args.counts!r}", file=sys.stderr)
        return 2
    with udev_for_the_run():
        return run_benches(args, counts)


def run_benches(args: argparse.Namespace, counts: list[int]) -> int:
    import store_rate  # beside this script

    at_worker_priority()
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)", flush=True)
    total = args.scaling_mib * MiB
    if args.buffers:
        bench_buffers(args.size_mib * MiB, args.reps)
    else:
        if not args.scaling:
            bench_backing("disk", "/var/tmp", args.size_mib * MiB, args.nwipe_size_mib * MiB,
                          args.reps)  # fmt: skip
        bench_scaling(counts, total, args.reps)
        bench_cores(args.cores_n, total, args.reps)
        store_rate.bench_store(args.store_records)
    print(f"load average after:  {os.getloadavg()[0]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
