"""A real software TPM 2.0 (Debian's swtpm) on free loopback ports, stopped by its PID."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from wipestation.tools import tpm2

from tests.helpers import procs


def _free_port_pair() -> int:
    """A port P with P+1 free too (swtpm's server and control sockets)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 65535:
            continue
        with socket.socket() as s2:
            try:
                s2.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two adjacent free loopback ports")


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"swtpm exited with status {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("swtpm did not listen")


@pytest.fixture
def swtpm(tmp_path: Path) -> Iterator[str]:
    """A fresh software TPM; yields its TCTI (``swtpm:host=127.0.0.1,port=P``)."""
    exe = shutil.which("swtpm")
    assert exe, "swtpm is not installed (make deps installs it)"
    state = tmp_path / "tpm-state"
    state.mkdir()
    port = _free_port_pair()
    argv = [
        exe, "socket", "--tpmstate", f"dir={state}", "--tpm2",
        "--server", f"type=tcp,port={port},bindaddr=127.0.0.1",
        "--ctrl", f"type=tcp,port={port + 1},bindaddr=127.0.0.1",
        "--flags", "not-need-init,startup-clear",
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_listening(port, proc)
        yield f"swtpm:host=127.0.0.1,port={port}"
    finally:
        procs.stop(proc)


@pytest.fixture
def station_tpm(swtpm: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The software TPM as the station's TPM (``TPM2TOOLS_TCTI``, as a station reads it)."""
    monkeypatch.setenv(tpm2.TCTI_ENV, swtpm)
    return swtpm
