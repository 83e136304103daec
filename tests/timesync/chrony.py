"""A real NTP server for the tests: chronyd (Debian's, unpacked by ``make tools``) on 127.0.0.1.

Run with ``-x`` (it never touches this machine's clock), as root without dropping privileges
(the package's user is not created: nothing is installed), with no command port or socket, and
``local stratum N``: it answers as a synchronised server from this host's clock. Stopped by PID.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from wipestation import sntp

REPO = Path(__file__).resolve().parents[2]
CHRONYD = Path(os.environ.get("WIPESTATION_CHRONYD", REPO / "build/tools/chrony/usr/sbin/chronyd"))


@dataclass(frozen=True)
class Chrony:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def server(self) -> sntp.Server:
        return sntp.Server("127.0.0.1", self.port)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(port: int, workdir: Path, stratum: int | None = 8, extra: str = "") -> str:
    lines = [
        f"port {port}",
        "bindaddress 127.0.0.1",
        "allow 127.0.0.1",
        "cmdport 0",
        "bindcmdaddress /",
        f"pidfile {workdir / 'chronyd.pid'}",
    ]
    lines += [f"local stratum {stratum}"] if stratum is not None else []
    return "\n".join([*lines, extra]) + "\n"


@contextlib.contextmanager
def running(workdir: Path, stratum: int | None = 8, extra: str = "") -> Iterator[Chrony]:
    """chronyd answering on a free port of 127.0.0.1 until the block ends."""
    if not CHRONYD.is_file():
        raise RuntimeError(f"{CHRONYD} missing: run 'make tools' (unpacks Debian's chrony)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_udp_port()
    conf = workdir / "chrony.conf"
    conf.write_text(config(port, workdir, stratum, extra))
    log = workdir / "chronyd.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(CHRONYD), "-d", "-x", "-u", "root", "-f", str(conf)],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_listening(port, proc, log)
        yield Chrony(port, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until chronyd's socket is bound (``/proc/net/udp``: asking it would spend a query)."""
    want = f"0100007F:{port:04X}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chronyd exited ({proc.returncode}): {log.read_text()[-500:]}")
        if want in Path("/proc/net/udp").read_text():
            return
        time.sleep(0.05)
    raise RuntimeError(f"chronyd did not bind 127.0.0.1:{port}: {log.read_text()[-500:]}")
