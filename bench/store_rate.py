"""Records/s delivered to an S3 store (issue 20): the station's real uploader sends N signed
records (JSON + PDF of a real certificate's size) to a SeaweedFS this script starts on loopback
(the tests' launcher, ``tests/store/seaweed.py``), then offers the same N again as a restart does
(every object "already there"). Prints records/s and the median per-object PUT latency; never
asserts (the load average is printed beside).

The PDF is rendered once and sent with every record (rendering is the writer's cost, measured by
``bench/fixedcost.py``); each record is built and signed afresh, so every key differs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from wipestation.reports.record import Record, build_record, serialize  # noqa: E402
from wipestation.reports.store import StoreLocation, StoreSettings  # noqa: E402
from wipestation.reports.store_client import Endpoint, PutResult, StoreClient  # noqa: E402
from wipestation.reports.uploader import StoreStatus, Uploader  # noqa: E402

from tests.reports.factory import STATION, job  # noqa: E402
from tests.store.seaweed import Seaweed, running_seaweed  # noqa: E402

BUCKET = "bench-records"
GIVE_UP_S = 600.0  # a hang guard, not a target


@dataclass(frozen=True)
class Paper:
    record: Record
    json_bytes: bytes
    pdf_bytes: bytes


class TimedClient(StoreClient):
    """The real client, each PUT's wall time kept (what the uploader waits per object)."""

    latencies: list[float]

    def put(self, key: str, body: bytes, retain_until: datetime | None = None) -> PutResult:
        started = time.perf_counter()
        try:
            return super().put(key, body, retain_until)
        finally:
            self.latencies.append(time.perf_counter() - started)


@dataclass
class Clients:
    made: list[TimedClient] = field(default_factory=list)

    def __call__(self, s: StoreSettings) -> StoreClient:
        client = TimedClient(Endpoint(s.endpoint, s.region, s.ca), s.credentials, BUCKET, 20.0)
        client.latencies = []
        self.made.append(client)
        return client

    def latencies(self) -> list[float]:
        return [t for c in self.made for t in c.latencies]


def papers(count: int) -> list[Paper]:
    """``count`` signed records, each with the same real certificate's bytes."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from wipestation.reports.pdf import render_certificate
    from wipestation.reports.sign import Signer

    signer = Signer(Ed25519PrivateKey.generate())
    signed = [signer.sign(build_record(job(), STATION)) for _ in range(count)]
    pdf = render_certificate(signed[0], "A4")
    return [Paper(r, serialize(r), pdf) for r in signed]


@contextmanager
def store() -> Iterator[Seaweed]:
    with (
        tempfile.TemporaryDirectory(prefix="wipestation-bench-store-") as tmp,
        running_seaweed(Path(tmp), BUCKET) as server,
    ):
        yield server


def deliver(server: Seaweed, batch: list[Paper]) -> tuple[float, list[float], StoreStatus]:
    """One uploader takes the whole batch: seconds until the store acknowledged all of it."""
    settings = StoreSettings(
        StoreLocation(BUCKET, "bench"), server.endpoint, "us-east-1", server.credentials
    )
    clients = Clients()
    uploader = Uploader(settings, client=clients)
    started = time.perf_counter()
    for p in batch:
        uploader.submit(p.record, p.json_bytes, p.pdf_bytes)
    done = uploader.wait_idle(GIVE_UP_S)
    elapsed = time.perf_counter() - started
    status = uploader.status()
    uploader.stop()
    if not done:
        print(f"  store: not all delivered in {GIVE_UP_S:g} s: {status.message}", flush=True)
    return elapsed, clients.latencies(), status


def report(label: str, count: int, elapsed: float, latencies: list[float]) -> None:
    ms = sorted(t * 1000 for t in latencies)
    p90 = ms[int(0.9 * (len(ms) - 1))] if ms else float("nan")
    print(
        f"  {label:<34} {count / elapsed:7.1f} records/s  ({elapsed:.2f} s for {count};"
        f" per object: median {statistics.median(ms):.1f} ms, p90 {p90:.1f} ms,"
        f" {len(ms)} PUTs)",
        flush=True,
    )


def bench_store(count: int) -> None:
    batch = papers(count)
    json_kb = statistics.mean(len(p.json_bytes) for p in batch) / 1024
    pdf_kb = len(batch[0].pdf_bytes) / 1024
    print(
        f"store delivery: {count} signed records (JSON {json_kb:.1f} KiB + PDF {pdf_kb:.1f} KiB)"
        f" to SeaweedFS on loopback, one uploader (conditional create + checksums, SigV4)",
        flush=True,
    )
    with store() as server:
        elapsed, latencies, status = deliver(server, batch)
        report(f"new records (created {status.created})", count, elapsed, latencies)
        elapsed, latencies, status = deliver(server, batch)
        report(f"offered again (already {status.already})", count, elapsed, latencies)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=200, help="records to deliver")
    args = p.parse_args(argv)
    if args.records < 1:
        print("store_rate: --records wants a positive number", file=sys.stderr)
        return 2
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)", flush=True)
    bench_store(args.records)
    print(f"load average after:  {os.getloadavg()[0]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
