"""FakeRunner: replays captured tool output through the runner interface (no monkeypatching)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from wipestation.errors import ToolFailedError, ToolMissingError
from wipestation.tools.runner import Completed, tail

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

Reply = Completed | Exception | list


def fixture(rel: str) -> str:
    return (FIXTURES / rel).read_text(encoding="utf-8")


def done(argv: Iterable[str], stdout: str = "", rc: int = 0, stderr: str = "") -> Completed:
    return Completed(tuple(argv), rc, stdout, stderr)


class FakeRunner:
    """``replies`` maps an argv tuple to a Completed, an exception, or a list (one per call).

    An argv with no reply raises ToolMissingError, like a station without that tool.
    """

    def __init__(self, replies: dict[tuple[str, ...], Reply] | None = None) -> None:
        self.replies = dict(replies or {})
        self.calls: list[tuple[str, ...]] = []

    def add(self, argv: list[str], reply: Reply) -> None:
        self.replies[tuple(argv)] = reply

    def __call__(
        self, argv: list[str], *, timeout: float, input: str | None = None, check: bool = True
    ) -> Completed:
        key = tuple(argv)
        self.calls.append(key)
        reply = self.replies.get(key)
        if reply is None:
            raise ToolMissingError(f"{argv[0]} not found: install it or use another method")
        if isinstance(reply, list):
            reply = reply.pop(0) if len(reply) > 1 else reply[0]
        if isinstance(reply, Exception):
            raise reply
        if check and reply.returncode != 0:
            raise ToolFailedError(list(argv), reply.returncode, tail(reply.stderr or reply.stdout))
        return reply

    def ran(self, *words: str) -> bool:
        """Was a command containing all ``words`` run?"""
        return any(all(w in call for w in words) for call in self.calls)
