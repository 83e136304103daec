"""Kill a wipe with SIGKILL half-way, then ``wipestation wipe --resume`` finishes it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from wipestation.engine.journal import Journal

from tests.engine.conftest import MiB, drive_of, read_all
from tests.engine.test_methods_loop import stream_bytes

SIZE = 16 * MiB + 512
ROOT = Path(__file__).resolve().parents[2]


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, "the wipe ended before it reached the stall point"
        assert time.monotonic() < deadline, f"the wipe never reached {path}"
        time.sleep(0.05)


def kill_mid_wipe(dev: str, journal_dir: Path, marker: Path, method: str) -> None:
    """Start a wipe in another process and SIGKILL it half-way (a power cut, as far as the
    journal can tell)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "tests.engine.killable_wipe", dev, str(journal_dir), str(marker)]
    proc = subprocess.Popen([*argv, method], env=env, cwd=ROOT)
    try:
        wait_for(marker, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


@pytest.mark.slow
def test_resume_after_sigkill_completes_and_verifies(make_loop, tmp_path):
    dev = make_loop(SIZE, b"precious ")
    reports = tmp_path / "reports"
    journal_dir = reports / ".journal"
    kill_mid_wipe(dev, journal_dir, tmp_path / "stalled", "overwrite-random")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    entry = Journal(journal_dir).load(drive_of(dev).identity)
    assert entry is not None
    assert entry.method == "overwrite-random"
    assert SIZE // 4 < entry.offset < SIZE - MiB
    key = bytes.fromhex(entry.stream_key)
    before = read_all(dev)
    assert before[: entry.offset] == stream_bytes(key, SIZE)[: entry.offset]
    assert before[-MiB:] != stream_bytes(key, SIZE)[-MiB:]  # the second half was never written

    cli = [sys.executable, "-m", "wipestation", "wipe", "--resume", "--yes", "--verify", "full"]
    done = subprocess.run(
        [*cli, "--report-dir", str(reports), "--json-progress"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = [json.loads(ln) for ln in done.stdout.splitlines() if '"result"' in ln][-1]
    assert result["result"] == "PASS"
    assert result["resumed_from"]["offset"] == entry.offset
    assert read_all(dev) == stream_bytes(key, SIZE)
    assert Journal(journal_dir).load(entry.identity) is None  # finished jobs leave no journal
