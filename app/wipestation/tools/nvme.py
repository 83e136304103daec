"""nvme-cli: what an NVMe controller can erase (id-ctrl), and the Sanitize / Format commands.

Why JSON: ``nvme ... -o json`` is stable across nvme-cli 1.x and 2.x, the text layout is not.
Sanitize acts on the controller (``/dev/nvme0``), Format on one namespace (``/dev/nvme0n1``).
Nothing here trusts an exit status as proof of erasure: the sanitize log is read back, and the
engine verifies the medium afterwards.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

from wipestation.errors import ToolError, ToolFailedError, UnsupportedError
from wipestation.tools.runner import Completed, Runner, run

TIMEOUT = 30.0
#: nvme format blocks until the controller finishes; big drives take minutes.
FORMAT_TIMEOUT = 3600.0
_NO_ESTIMATE = 0xFFFFFFFF


class SanitizeAction(IntEnum):
    """SANACT values of the Sanitize command."""

    EXIT_FAILURE = 1
    BLOCK_ERASE = 2
    OVERWRITE = 3
    CRYPTO_ERASE = 4


class SanitizeStatus(IntEnum):
    """SSTAT bits 2:0 of the sanitize log."""

    NEVER = 0
    COMPLETED = 1
    IN_PROGRESS = 2
    FAILED = 3
    COMPLETED_NO_DEALLOC = 4


@dataclass(frozen=True)
class IdCtrl:
    """The Identify Controller fields that decide which erase commands exist."""

    vid: int
    model: str
    serial: str
    firmware: str
    oacs: int
    oncs: int
    fna: int
    sanicap: int
    nn: int

    @property
    def format_supported(self) -> bool:
        return bool(self.oacs & 0x2)

    @property
    def security_send_receive(self) -> bool:
        """OACS bit 0: TCG (Opal) commands can be sent."""
        return bool(self.oacs & 0x1)

    @property
    def crypto_format_supported(self) -> bool:
        """FNA bit 2: Format with SES=2 (cryptographic erase)."""
        return bool(self.fna & 0x4)

    @property
    def format_applies_to_all_namespaces(self) -> bool:
        return bool(self.fna & 0x1)

    @property
    def sanitize_crypto(self) -> bool:
        return bool(self.sanicap & 0x1)

    @property
    def sanitize_block(self) -> bool:
        return bool(self.sanicap & 0x2)

    @property
    def sanitize_overwrite(self) -> bool:
        return bool(self.sanicap & 0x4)

    @property
    def write_zeroes(self) -> bool:
        return bool(self.oncs & 0x8)

    @property
    def dsm(self) -> bool:
        return bool(self.oncs & 0x4)

    def to_json(self) -> dict[str, object]:
        return {
            "vid": f"0x{self.vid:04x}",
            "model": self.model,
            "serial": self.serial,
            "firmware": self.firmware,
            "oacs": f"0x{self.oacs:x}",
            "oncs": f"0x{self.oncs:x}",
            "fna": f"0x{self.fna:x}",
            "sanicap": f"0x{self.sanicap:x}",
            "format": self.format_supported,
            "crypto_format": self.crypto_format_supported,
            "format_all_namespaces": self.format_applies_to_all_namespaces,
            "sanitize": {
                "crypto": self.sanitize_crypto,
                "block": self.sanitize_block,
                "overwrite": self.sanitize_overwrite,
            },
        }


@dataclass(frozen=True)
class SanitizeLog:
    sprog: int  # 0..65535, progress of the running (or last) sanitize
    status: SanitizeStatus
    passes: int
    global_erased: bool
    #: seconds per action, None when the drive reports no estimate
    estimates: dict[str, int | None]

    @property
    def fraction(self) -> float:
        if self.status in (SanitizeStatus.COMPLETED, SanitizeStatus.COMPLETED_NO_DEALLOC):
            return 1.0
        return min(self.sprog, 65535) / 65536


# ---- argv builders (pure) ------------------------------------------------------------------


def controller_of(path: str) -> str:
    """``/dev/nvme0n1`` → ``/dev/nvme0``; anything else (a simulator's loop device) unchanged."""
    m = re.fullmatch(r"(/dev/nvme\d+)n\d+", path)
    return m.group(1) if m else path


def build_id_ctrl_argv(ctrl: str) -> list[str]:
    return ["nvme", "id-ctrl", ctrl, "-o", "json"]


def build_sanitize_argv(ctrl: str, action: SanitizeAction) -> list[str]:
    argv = ["nvme", "sanitize", ctrl, f"--sanact={int(action)}"]
    if action == SanitizeAction.OVERWRITE:
        argv += ["--owpass=1", "--ovrpat=0"]
    return argv


def build_sanitize_log_argv(ctrl: str) -> list[str]:
    return ["nvme", "sanitize-log", ctrl, "-o", "json"]


def build_format_argv(namespace: str, ses: int) -> list[str]:
    return ["nvme", "format", namespace, f"--ses={ses}", "--force"]


def build_ns_rescan_argv(ctrl: str) -> list[str]:
    return ["nvme", "ns-rescan", ctrl]


# ---- parsers (pure) ------------------------------------------------------------------------


_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|\d+")
#: The id-ctrl numbers IdCtrl reads (all required) and its texts (a publisher may elide one).
_ID_NUMBERS = ("vid", "oacs", "oncs", "fna", "sanicap", "nn")
_ID_TEXTS = ("mn", "sn", "fr")


def _num(v: object, where: str, tool: str = "nvme id-ctrl") -> int:
    """A JSON int or a decimal / ``0x`` hex string — nothing else.

    Raises:
        ToolError: the value is empty, signed, or carries other text; names ``where``.
    """
    if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
        return v
    s = v.strip() if isinstance(v, str) else ""
    if not _NUMBER.fullmatch(s):
        raise ToolError(f"{tool}: unreadable number at {where}")
    return int(s, 16) if s[:2].lower() == "0x" else int(s)


def _json_object(text: str, tool: str) -> dict[str, object]:
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise ToolError(f"{tool}: unreadable JSON output ({e})") from e
    if not isinstance(d, dict):
        raise ToolError(f"{tool}: JSON output is not an object ({type(d).__name__})")
    return d


def parse_id_ctrl(text: str) -> IdCtrl:
    """``nvme id-ctrl -o json`` → IdCtrl.

    Raises:
        ToolError: not the JSON object, or a field nvme-cli would not print (names the key).
    """
    d = _json_object(text, "nvme id-ctrl")
    return _id_ctrl_from({k: (v, f"{k!r}: {v!r}") for k, v in d.items()})


def parse_id_ctrl_text(text: str) -> IdCtrl:
    """Plain ``nvme id-ctrl`` (``key : value`` lines), for older stations and captures.

    Raises:
        ToolError: a field IdCtrl reads has a value with other text (names the line).
    """
    d: dict[str, tuple[object, str]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        key, sep, value = line.partition(":")
        if sep and re.fullmatch(r"\s*[a-z0-9]+\s*", key):
            d.setdefault(key.strip(), (value.strip(), f"line {n} {line.strip()!r}"))
    return _id_ctrl_from(d)


def _id_ctrl_from(d: Mapping[str, tuple[object, str]]) -> IdCtrl:
    """Fields as ``key -> (value, where)``; ``where`` names the line or key in errors.

    Every number IdCtrl reads is required: a missing FNA or SANICAP is unknown, and 0 in its
    place would read as "no restriction" (FNA bit 0) or "no such command".
    """
    missing = [k for k in _ID_NUMBERS if k not in d]
    if missing:
        raise ToolError(f"nvme id-ctrl: no {', '.join(missing)} field in the output")
    nums = {k: _num(*d[k]) for k in _ID_NUMBERS}
    texts = {k: _text(*d[k]) if k in d else "" for k in _ID_TEXTS}
    return IdCtrl(model=texts["mn"], serial=texts["sn"], firmware=texts["fr"], **nums)


def _text(v: object, where: str) -> str:
    if not isinstance(v, str):
        raise ToolError(f"nvme id-ctrl: a text field is not text at {where}")
    return v.strip()


_EST_KEYS = {
    "overwrite": "time_over_write",
    "block_erase": "time_block_erase",
    "crypto_erase": "time_crypto_erase",
}
_LOG = "nvme sanitize-log"


def parse_sanitize_log(text: str) -> SanitizeLog:
    """``nvme sanitize-log -o json``: ``{"nvme0": {"sprog":…, "sstat": {…}, "time_…":…}}``.

    Raises:
        ToolError: not that JSON, or a value that is not a number or a known status.
    """
    root = _json_object(text, _LOG)
    dev = next(iter(root.values()), None) if root and "sprog" not in root else root
    if not isinstance(dev, dict) or "sprog" not in dev:
        raise ToolError(f"{_LOG}: no sanitize log (sprog) in the JSON output")
    sstat = dev.get("sstat", {})
    if isinstance(sstat, dict):
        status = _status_of_text(" ".join(str(v) for v in sstat.values()))
        passes = _num(sstat.get("no_cmplted_passes", 0), "no_cmplted_passes", _LOG)
        erased = bool(_num(sstat.get("global_erased", 0), "global_erased", _LOG))
    else:
        bits = _num(sstat, f"'sstat': {sstat!r}", _LOG)
        status, passes, erased = (
            _status(bits & 0x7, "sstat"),
            (bits >> 3) & 0x1F,
            bool(bits & 0x100),
        )
    return SanitizeLog(
        sprog=_num(dev["sprog"], f"'sprog': {dev['sprog']!r}", _LOG),
        status=status,
        passes=passes,
        global_erased=erased,
        estimates={k: _estimate(dev.get(v), v) for k, v in _EST_KEYS.items()},
    )


def _status_of_text(text: str) -> SanitizeStatus:
    """``"(2) In Progress"`` → IN_PROGRESS; nvme-cli writes the SSTAT value in parentheses."""
    m = re.search(r"\((\d)\)", text)
    if m is None:
        raise ToolError(f"{_LOG}: no sanitize status in sstat ({text!r})")
    return _status(int(m.group(1)), text)


def _status(value: int, where: str) -> SanitizeStatus:
    """A status the NVMe spec does not define is an error, never "never sanitized"."""
    if value not in SanitizeStatus._value2member_map_:
        raise ToolError(f"{_LOG}: unknown sanitize status {value} at {where}")
    return SanitizeStatus(value)


def parse_sanitize_log_text(text: str) -> SanitizeLog:
    """Plain ``nvme sanitize-log`` (``Sanitize Progress (SPROG) : N`` lines).

    Raises:
        ToolError: SPROG/SSTAT missing or not a number (names the line).
    """
    fields: dict[str, tuple[str, str]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        key, sep, value = line.partition(":")
        if sep:
            first = value.strip().split()[0] if value.strip() else ""
            fields[re.sub(r"\s+", " ", key).strip()] = (first, f"line {n} {line.strip()!r}")
    sprog, sstat = _field(fields, "(SPROG)"), _field(fields, "(SSTAT)")
    if sprog is None or sstat is None:
        raise ToolError(f"{_LOG}: no SPROG/SSTAT lines in the output")
    bits = _num(*sstat, _LOG)
    est = {
        k: _estimate(*fields[f"Estimated Time For {label}"], _LOG)
        if f"Estimated Time For {label}" in fields
        else None
        for k, label in (
            ("overwrite", "Overwrite"),
            ("block_erase", "Block Erase"),
            ("crypto_erase", "Crypto Erase"),
        )
    }
    return SanitizeLog(
        sprog=_num(*sprog, _LOG),
        status=_status(bits & 0x7, sstat[1]),
        passes=(bits >> 3) & 0x1F,
        global_erased=bool(bits & 0x100),
        estimates=est,
    )


def _field(fields: dict[str, tuple[str, str]], tag: str) -> tuple[str, str] | None:
    return next((v for k, v in fields.items() if k.endswith(tag)), None)


def _estimate(v: object, where: str, tool: str = _LOG) -> int | None:
    if v is None:
        return None
    n = _num(v, where, tool)
    return None if n == _NO_ESTIMATE else n


def status_code(output: str) -> int | None:
    """The NVMe status code nvme-cli printed, e.g. ``...(0x4001)`` → 0x4001."""
    m = re.search(r"NVMe status:.*\((0x[0-9a-fA-F]+)\)", output)
    return int(m.group(1), 16) if m else None


# ---- combinators ---------------------------------------------------------------------------


def id_ctrl(ctrl: str, *, runner: Runner = run) -> IdCtrl:
    done = runner(build_id_ctrl_argv(ctrl), timeout=TIMEOUT)
    return parse_id_ctrl(done.stdout)


def sanitize_log(ctrl: str, *, runner: Runner = run) -> SanitizeLog:
    done = runner(build_sanitize_log_argv(ctrl), timeout=TIMEOUT)
    return parse_sanitize_log(done.stdout)


def sanitize(ctrl: str, action: SanitizeAction, *, runner: Runner = run) -> Completed:
    """Start a sanitize (it runs in the background; poll ``sanitize_log``).

    Raises:
        UnsupportedError: the controller rejected the action as invalid (0x4001/0x4002).
        ToolFailedError: any other failure.
    """
    return _checked(build_sanitize_argv(ctrl, action), TIMEOUT, runner)


def format_namespace(namespace: str, ses: int, *, runner: Runner = run) -> Completed:
    return _checked(build_format_argv(namespace, ses), FORMAT_TIMEOUT, runner)


def ns_rescan(ctrl: str, *, runner: Runner = run) -> Completed:
    return runner(build_ns_rescan_argv(ctrl), timeout=TIMEOUT)


def _checked(argv: list[str], timeout: float, runner: Runner) -> Completed:
    done = runner(argv, timeout=timeout, check=False)
    if done.returncode == 0:
        return done
    text = done.stderr + done.stdout
    code = status_code(text)
    if code is not None and code & 0x7FF in (0x001, 0x002):
        raise UnsupportedError(f"{' '.join(argv[:2])}: the controller rejected it (0x{code:04x})")
    raise ToolFailedError(list(done.argv), done.returncode, text.strip()[-300:])
