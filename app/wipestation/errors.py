"""The error hierarchy. Every message is for the operator: what failed and what to do.

Front ends show ``str(error)`` as is, so messages must be specific and never a traceback.
"""

from __future__ import annotations


class WipestationError(Exception):
    """Base of every error the app raises on purpose."""


class SafetyError(WipestationError):
    """A write was refused because the target is protected (boot medium, mounted, excluded, ...)."""


class DeviceGoneError(WipestationError):
    """The device disappeared (pulled, unplugged) while we were using it."""


class ToolError(WipestationError):
    """An external tool could not be run or did not do what was asked."""


class ToolMissingError(ToolError):
    """The tool is not installed on this station."""


class ToolTimeoutError(ToolError):
    """The tool ran longer than its timeout and was killed."""


class ToolFailedError(ToolError):
    """The tool exited non-zero (or reported an abort that we detected in its output)."""

    def __init__(self, argv: list[str], returncode: int, stderr_tail: str, hint: str = "") -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        msg = f"{argv[0]} failed with exit status {returncode}"
        if stderr_tail:
            msg += f": {stderr_tail.strip()}"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


class UnsupportedError(WipestationError):
    """The drive does not support the requested method."""


class ReportError(WipestationError):
    """A report could not be written, signed or read."""


class ConfigError(WipestationError):
    """A station configuration value is invalid; the message names the key and its source."""

    def __init__(self, key: str, source: str, reason: str) -> None:
        self.key, self.source, self.reason = key, source, reason
        super().__init__(f"{source}: {key}: {reason}")
