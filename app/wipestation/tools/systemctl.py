"""``systemctl poweroff``: the one way the station turns itself off (unattended mode's end, or
the operator's power-off screen)."""

from __future__ import annotations

from wipestation.tools.runner import Runner, run


def build_poweroff_argv() -> list[str]:
    return ["systemctl", "poweroff"]


def poweroff(runner: Runner = run) -> None:
    """Ask systemd to power off. Raises ToolError when it refuses or is not there."""
    runner(build_poweroff_argv(), timeout=30)
