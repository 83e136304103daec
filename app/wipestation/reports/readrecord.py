"""Reading a record file someone handed us: bounded in size and nesting, one clear error.

Why bounds: records come from sticks and folders anyone may have filled. A station's record is
a few KiB (a hundred steps and mismatches stay well under 100 KiB), so anything over
``MAX_BYTES`` (1 MiB) is not one and is refused before it is read whole. Python's JSON parser
recurses per nesting level: a file nested a thousand levels deep raises RecursionError, which
used to escape as a traceback and stop the checking of every file after it. A record nests 6
levels; ``MAX_DEPTH`` is checked by a linear scan before parsing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from wipestation.errors import ReportError

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def read_capped(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The file's bytes; ReportError when it cannot be read or is larger than ``limit``."""
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise ReportError(f"cannot read ({e.strerror or e})") from e
    if len(data) > limit:
        raise ReportError(
            f"larger than {limit // 1024} KiB: not a Wipestation record (records are a few KiB)"
        )
    return data


def nesting_depth(data: bytes) -> int:
    """The deepest nesting of ``[`` and ``{`` outside strings (no recursion)."""
    depth = deepest = 0
    for m in _BRACKET.finditer(_STRING.sub(b'""', data)):
        depth += 1 if m[0] in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def parse_object(data: bytes, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """A JSON object from ``data``; ReportError (one line) for anything else."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ReportError(f"not UTF-8 text at byte {e.start}") from e
    if nesting_depth(data) > max_depth:
        raise ReportError(f"nested deeper than {max_depth} levels: not a Wipestation record")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ReportError(f"not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from e
    except RecursionError as e:  # belt and braces: the scan above should have refused it
        raise ReportError("nested too deeply: not a Wipestation record") from e
    if not isinstance(value, dict):
        raise ReportError("not a Wipestation record (top level is not an object)")
    return value


def read_object(path: Path) -> dict[str, Any]:
    """``read_capped`` + ``parse_object``."""
    return parse_object(read_capped(path))
