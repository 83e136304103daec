"""Issue 18: a CLI command run as its own process skips the interpreter's last collection at
exit (gc.freeze); called in-process (tests, the station) nothing is frozen."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest
from wipestation import __main__ as entry

PROBE = """
import atexit, gc, sys
sys.argv = ["wipestation", "methods"]
from wipestation.__main__ import main
atexit.register(lambda: print("frozen", gc.get_freeze_count() > 0))
sys.exit(main())
"""


def test_the_commands_own_process_exits_without_its_last_collection() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[-1] == "frozen True"
    assert any(line.startswith("nist-clear ") for line in lines)  # all of its output came


def test_a_command_called_in_process_freezes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    before = gc.get_freeze_count()
    assert entry.main(["methods"]) == 0
    assert gc.get_freeze_count() == before
    assert "nist-clear" in capsys.readouterr().out
