"""Issue 18: the report writer overlaps what can overlap and keeps every guarantee.

Many jobs finishing at once: each record signed (numbered in signing order) and rendered once,
outside the delivery lock; every record delivered; one session summary that lists them all.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from wipestation.reports import writer as writer_mod
from wipestation.reports.sign import verify_bytes
from wipestation.reports.writer import ReportWriter

from tests.reports.factory import STATION, drive, job

N = 8


def jobs(n: int = N) -> list:  # type: ignore[type-arg]
    return [
        replace(job(), job_id=f"j{i}", drive=drive(serial=f"SER{i:03d}", identity=f"SER{i:03d}"))
        for i in range(n)
    ]


def write_all(w: ReportWriter, results: list) -> list[list[Path]]:  # type: ignore[type-arg]
    """``write`` from one thread per result, all released at once (as jobs that end together)."""
    start = threading.Barrier(len(results))
    out: list[list[Path]] = [[] for _ in results]

    def one(i: int) -> None:
        start.wait(10)
        out[i] = w.write(results[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(results))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def test_records_written_together_are_each_delivered_signed_in_order_and_rendered_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[str] = []
    real = writer_mod.render_certificate

    def counting(record: dict, paper: str) -> bytes:  # type: ignore[type-arg]
        rendered.append(record["report_id"])
        return real(record, paper)

    monkeypatch.setattr(writer_mod, "render_certificate", counting)
    w = ReportWriter(tmp_path / "r", station=STATION, key_home=tmp_path / "k")
    out = write_all(w, jobs())
    assert all(len(paths) == 2 for paths in out), out  # each write returns its JSON and PDF
    records = [verify_bytes(paths[0].read_bytes()) for paths in out]
    assert all(v.ok for v in records), [v.reason for v in records]
    assert all(paths[1].read_bytes().startswith(b"%PDF") for paths in out)
    # numbered 1..N without gaps, and delivered in the order they were numbered
    seqs = [v.record["chain"]["sequence"] for v in records]
    assert sorted(seqs) == list(range(1, N + 1))
    delivered = [r["chain"]["sequence"] for r in w.delivered]
    assert delivered == sorted(delivered)
    assert sorted(rendered) == sorted(v.record["report_id"] for v in records)  # once each
    assert (w._rendering, w._rendered, w._awaiting) == (set(), {}, {})  # nothing left behind
    (summary,) = (tmp_path / "r" / "reports").glob("*/session-*.csv")
    rows = list(csv.DictReader(summary.read_text(encoding="utf-8").splitlines()))
    assert len(rows) == N  # the last writer's summary lists every record


def test_a_certificate_that_fails_to_render_ahead_is_rendered_at_delivery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = writer_mod.render_certificate
    calls: list[int] = []

    def first_fails(record: dict, paper: str) -> bytes:  # type: ignore[type-arg]
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("renderer hiccup")
        return real(record, paper)

    monkeypatch.setattr(writer_mod, "render_certificate", first_fails)
    paths = ReportWriter(tmp_path / "r", station=STATION, key_home=tmp_path / "k").write(job())
    assert [p.suffix for p in paths] == [".json", ".pdf"]
    assert paths[1].read_bytes().startswith(b"%PDF")
    assert len(calls) == 2


def test_warm_renders_in_worker_processes_and_this_process_never_loads_reportlab(
    tmp_path: Path,
) -> None:
    """Issue 18: rendering in the wiping process starved its job threads of the GIL."""
    probe = f"""
import sys
from tests.reports.factory import STATION, job
from wipestation.reports.writer import ReportWriter
w = ReportWriter({str(tmp_path / "r")!r}, station=STATION, key_home={str(tmp_path / "k")!r})
w.warm(8)  # eight records due: two workers on two cores
paths = w.write(job())
w.close()
print(len(paths), "reportlab" in sys.modules, w._pool)
"""
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.split() == ["2", "False", "None"], out.stderr
    (summary,) = (tmp_path / "r" / "reports").glob("*/session-*.pdf")
    (certificate,) = (tmp_path / "r" / "reports").glob("*/[!s]*.pdf")
    assert summary.read_bytes().startswith(b"%PDF")
    assert certificate.read_bytes().startswith(b"%PDF")
