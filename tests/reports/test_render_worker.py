"""Issue 18: PDFs rendered in a worker process, so the wiping process's job threads never wait
for the GIL behind reportlab; the same PDFs, and a failing worker never loses one."""

from __future__ import annotations

import ast
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from wipestation.engine.job import WORKER_NICE
from wipestation.reports import render_worker
from wipestation.reports.record import build_record
from wipestation.reports.render_worker import (
    RENDER_NICE,
    RenderError,
    RenderPool,
    read_frame,
    workers_for,
    write_frame,
)
from wipestation.reports.sign import Signer
from wipestation.reports.writer import ReportWriter

from tests.reports.factory import STATION, job

ROOT = Path(__file__).resolve().parents[2]
SIGNER = Signer.generate()


def text_of(tmp_path: Path, data: bytes, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode()


def test_a_frame_cut_short_is_the_end_of_the_stream() -> None:
    buf = io.BytesIO()
    write_frame(buf, b"hello")
    whole = buf.getvalue()
    assert read_frame(io.BytesIO(whole)) == b"hello"
    assert read_frame(io.BytesIO(whole[:-1])) is None
    assert read_frame(io.BytesIO(whole[:2])) is None
    assert read_frame(io.BytesIO(b"")) is None


def test_one_worker_per_four_certificates_and_never_more_than_the_cores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert [workers_for(n) for n in (0, 1, 4, 5, 8, 48)] == [1, 1, 1, 2, 2, 2]
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert [workers_for(n) for n in (1, 8, 9, 48)] == [1, 2, 3, 12]
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert workers_for(48) == 1


def test_workers_run_at_the_wipe_threads_priority() -> None:
    """Paperwork is background work, as the wipes are (engine/job.py)."""
    assert RENDER_NICE == WORKER_NICE
    pool = RenderPool(1)
    try:
        nice = os.getpriority(os.PRIO_PROCESS, pool.workers[0].proc.pid)
    finally:
        pool.close()
    assert nice == max(WORKER_NICE, os.getpriority(os.PRIO_PROCESS, 0))


def test_the_commands_early_worker_is_the_writers_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render_worker, "_early", None)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    render_worker.start_early()
    early = render_worker._early
    assert early is not None
    (first,) = early.workers
    w = ReportWriter(tmp_path / "r", station=STATION, key_home=tmp_path / "k")
    w.warm(8)  # two workers: the early one and one more
    assert w._pool is early
    assert render_worker._early is None
    assert [x is first for x in early.workers] == [True, False]
    paths = w.write(job())
    w.close()
    assert paths[1].read_bytes().startswith(b"%PDF")
    assert all(x.proc.poll() is not None for x in early.workers)


def test_the_renderers_start_loads_only_what_rendering_needs() -> None:
    """Its start is on a one-drive wipe's critical path: no urllib, http or email (that
    ``xml.sax.saxutils`` would load), nothing of the screen, none of the station's modules but
    the reports'."""
    probe = (
        "import sys\nfrom wipestation.reports import render_worker\nrender_worker.warm()\n"
        "print(sorted(m for m in ('urllib.request', 'http.client', 'email.parser', 'textual',"
        " 'cryptography') if m in sys.modules))\n"
        "print(sorted(m for m in sys.modules if m.startswith('wipestation.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    libraries, ours = out.stdout.splitlines()
    assert libraries == "[]", out.stdout
    # a record is read there, never built: no model, discovery, planning or tools (~0.05 s)
    assert {m.split(".")[1] for m in ast.literal_eval(ours)} <= {"errors", "units", "reports"}, ours


def test_the_worker_renders_the_certificate_and_summary_this_process_would(
    tmp_path: Path,
) -> None:
    from wipestation.reports import pdf, summary

    record = SIGNER.sign(build_record(job(), STATION, asset_tag="AT-7"))
    pool = RenderPool(1)
    try:
        there = pool.certificate(record, "Letter")
        there_summary = pool.summary([record], STATION, "2026-12-06T10:00:00+00:00", "A4")
    finally:
        pool.close()
    here = pdf.render_certificate(record, "Letter")
    here_summary = summary.render_pdf([record], STATION, "2026-12-06T10:00:00+00:00", "A4")
    assert text_of(tmp_path, there, "a.pdf") == text_of(tmp_path, here, "b.pdf")
    assert "AT-7" in text_of(tmp_path, there, "a.pdf")
    assert text_of(tmp_path, there_summary, "c.pdf") == text_of(tmp_path, here_summary, "d.pdf")


def test_a_request_the_worker_cannot_render_is_an_error_and_the_worker_lives_on() -> None:
    record = SIGNER.sign(build_record(job(), STATION))
    pool = RenderPool(1)
    try:
        with pytest.raises(RenderError, match="KeyError"):
            pool.certificate({"no": "record"}, "A4")
        assert pool.certificate(record, "A4").startswith(b"%PDF")
    finally:
        pool.close()
    (worker,) = pool.workers
    assert worker.proc.poll() is not None  # closed: no process left behind


def test_ctrl_c_leaves_the_worker_rendering_for_the_cancelled_jobs_records() -> None:
    """Ctrl-C reaches the whole process group; the command still wants its records rendered."""
    record = SIGNER.sign(build_record(job(), STATION))
    pool = RenderPool(1)
    try:
        assert pool.certificate(record, "A4").startswith(b"%PDF")  # warmed up: SIGINT is set
        (worker,) = pool.workers
        os.kill(worker.proc.pid, signal.SIGINT)
        assert pool.certificate(record, "A4").startswith(b"%PDF")
        assert worker.proc.poll() is None
    finally:
        pool.close()


def test_a_dead_worker_is_an_error_and_the_writer_renders_the_pdf_itself(
    tmp_path: Path,
) -> None:
    w = ReportWriter(tmp_path / "r", station=STATION, key_home=tmp_path / "k")
    w.warm(1)
    assert w._pool is not None
    (worker,) = w._pool.workers
    os.kill(worker.proc.pid, signal.SIGKILL)
    worker.proc.wait(30)
    with pytest.raises(RenderError, match="gone"):
        w._pool.certificate(SIGNER.sign(build_record(job(), STATION)), "A4")
    paths = w.write(job())
    w.close()
    assert [p.suffix for p in paths] == [".json", ".pdf"]
    assert paths[1].read_bytes().startswith(b"%PDF")
    (summary,) = (tmp_path / "r" / "reports").glob("*/session-*.pdf")
    assert summary.read_bytes().startswith(b"%PDF")


@pytest.mark.slow
def test_the_wipe_command_never_loads_reportlab_and_still_writes_every_pdf(
    make_loop: object, tmp_path: Path
) -> None:
    devs = [make_loop(4 * 1024 * 1024, b"old data ") for _ in range(2)]  # type: ignore[operator]
    argv = [
        "wipe", *devs, "--method", "overwrite-zero", "--verify", "none", "--yes",
        "--report-dir", str(tmp_path / "r"), "--key-dir", str(tmp_path / "k"),
    ]  # fmt: skip
    probe = (
        "import sys\nfrom wipestation import cli\n"
        f"rc = cli.run({argv!r})\n"
        "print('RESULT', rc, 'reportlab' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert "RESULT 0 False" in out.stdout, out.stdout + out.stderr
    pdfs = sorted((tmp_path / "r" / "reports").glob("*/*.pdf"))
    assert len(pdfs) == 3  # two certificates and the session summary
    assert all(p.read_bytes().startswith(b"%PDF") for p in pdfs)
