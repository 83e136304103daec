"""The one subprocess runner every tool module uses.

Why one: every command line and its output must reach the session log and the report appendix, the
locale must be C so parsers see stable text, and missing tools / timeouts / failures must become
specific errors. Never ``shell=True``. Tests inject a fake with the same ``run`` signature.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Protocol

from wipestation.errors import ToolFailedError, ToolMissingError, ToolTimeoutError

log = logging.getLogger("wipestation.commands")

#: Where tools live on Debian and in the image; searched before $PATH so busybox applets never win.
TOOL_DIRS = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class Runner(Protocol):
    def __call__(
        self, argv: list[str], *, timeout: float, input: str | None = None, check: bool = True
    ) -> Completed: ...


#: Directories searched before TOOL_DIRS (os.pathsep-separated); the tests point it at the tool
#: simulators in tests/sim/. Unset on the station.
TOOL_DIR_ENV = "WIPESTATION_TOOL_DIR"


def which(tool: str) -> str | None:
    """Absolute path of ``tool``, preferring the system directories over $PATH."""
    extra = [d for d in os.environ.get(TOOL_DIR_ENV, "").split(os.pathsep) if d]
    for d in (*extra, *TOOL_DIRS):
        p = os.path.join(d, tool)
        if os.access(p, os.X_OK):
            return p
    return shutil.which(tool)


def run(
    argv: list[str], *, timeout: float, input: str | None = None, check: bool = True
) -> Completed:
    """Run ``argv`` with LC_ALL=C and a timeout.

    Raises:
        ToolMissingError: the executable does not exist.
        ToolTimeoutError: it ran longer than ``timeout`` seconds.
        ToolFailedError: it exited non-zero and ``check`` is true.
    """
    exe = argv[0] if os.path.isabs(argv[0]) else which(argv[0])
    if exe is None:
        raise ToolMissingError(f"{argv[0]} not found: install it or use another method")
    full = [exe, *argv[1:]]
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    log.info("run: %s", " ".join(full))
    try:
        proc = subprocess.run(
            full,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            errors="replace",
        )
    except FileNotFoundError as e:
        raise ToolMissingError(f"{argv[0]} not found: install it or use another method") from e
    except subprocess.TimeoutExpired as e:
        raise ToolTimeoutError(
            f"{argv[0]} did not finish within {timeout:g} s and was killed"
        ) from e
    done = Completed(tuple(full), proc.returncode, proc.stdout, proc.stderr)
    log.info(
        "exit %d: %s\nstdout: %s\nstderr: %s",
        proc.returncode,
        argv[0],
        proc.stdout[-2000:],
        proc.stderr[-2000:],
    )
    if check and proc.returncode != 0:
        raise ToolFailedError(full, proc.returncode, tail(proc.stderr or proc.stdout))
    return done


def tail(text: str, lines: int = 3) -> str:
    """The last few non-empty lines of a tool's output, for error messages."""
    kept = [ln for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(kept[-lines:])
