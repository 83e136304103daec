"""``wipestation wipe`` and ``wipestation methods``, run the way users and other tests run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.conftest import MiB, read_all

ROOT = Path(__file__).resolve().parents[2]
SIZE = 4 * MiB


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wipestation", *args],
        capture_output=True, text=True, timeout=300, input=stdin, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def test_methods_json_lists_levels_passes_and_transports():
    out = cli("methods", "--json")
    assert out.returncode == 0, out.stderr
    by_name = {m["name"]: m for m in json.loads(out.stdout)}
    for name in ("overwrite-zero", "overwrite-ones", "overwrite-random", "nist-clear"):
        assert set(by_name[name]["levels"].values()) == {"clear"}
    assert by_name["dod-5220.22-m"]["passes"] == 3
    assert by_name["nist-clear"]["passes"] == 2
    assert "nvme" in by_name["overwrite-zero"]["transports"]


def test_methods_table_names_the_level():
    out = cli("methods")
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("nist-clear "))
    assert "clear" in line.split()[1]


def test_wipe_without_yes_refuses_off_a_terminal(make_loop, tmp_path):
    dev = make_loop(SIZE, b"keep me ")
    before = read_all(dev)
    out = cli("wipe", dev, "--method", "overwrite-zero", "--report-dir", str(tmp_path), stdin="")
    assert out.returncode != 0
    assert "--yes" in out.stderr
    assert read_all(dev) == before


@pytest.mark.slow
def test_wipe_json_progress_and_report(make_loop, tmp_path):
    a, b = make_loop(SIZE, b"one "), make_loop(SIZE + 512, b"two ")
    out = cli(
        "wipe", a, b, "--method", "overwrite-ones", "--verify", "full", "--yes",
        "--report-dir", str(tmp_path / "r"), "--json-progress",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    results = [e for e in events if e["event"] == "result"]
    assert sorted(r["device"] for r in results) == sorted([a, b])
    assert all(r["result"] == "PASS" for r in results)
    states = {e["state"] for e in events if e["event"] == "progress"}
    assert {"erasing", "verifying", "passed"} <= states
    assert read_all(a) == b"\xff" * SIZE
    assert read_all(b) == b"\xff" * (SIZE + 512)
    records = [p for p in (tmp_path / "r").rglob("*.json") if ".journal" not in p.parts]
    assert len(records) >= 2


def test_wipe_unknown_method_refuses_and_writes_nothing(make_loop, tmp_path):
    dev = make_loop(SIZE, b"keep me ")
    before = read_all(dev)
    out = cli("wipe", dev, "--method", "shred-it-all", "--yes", "--report-dir", str(tmp_path))
    assert out.returncode == 1
    assert "unknown method" in out.stderr
    assert read_all(dev) == before
