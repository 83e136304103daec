"""hdparm: ATA identify (security, sanitize, TRIM), HPA/DCO, ATA sanitize and security erase.

Why so suspicious: hdparm exits 0 when the drive aborts a command — the only sign is an
``SG_IO: bad/missing sense data`` line (reference/qemu.md §0.4, and a real Crucial MX500 capture in
tests/fixtures/hdparm). Every command here checks its output for an abort, and callers read the
drive's state back afterwards. Always call it by full path (busybox has a cut-down hdparm).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wipestation.errors import ToolError, ToolFailedError, UnsupportedError
from wipestation.tools.runner import Completed, Runner, run

TIMEOUT = 30.0
YES = "--yes-i-know-what-i-am-doing"
#: Emitted by hdparm when the drive rejected a command but the ioctl itself worked.
_ABORT_MARKERS = ("bad/missing sense data", "failed: Input/output error", "ABRT")
#: AtaSecurity flag → the words of its line in ``hdparm -I`` (``[not] <words>``).
_FLAGS = {
    "supported": "supported",
    "enabled": "enabled",
    "locked": "locked",
    "frozen": "frozen",
    "count_expired": "expired: security count",
    "enhanced_supported": "supported: enhanced erase",
}
#: The unindented section headings of ``hdparm -I``; one that is present must be a line of its own.
_HEADINGS = ("Standards:", "Configuration:", "Capabilities:", "Commands/features:", "Security:")


@dataclass(frozen=True)
class AtaSecurity:
    """The ``Security:`` flags; ``None`` = the flag's line was missing or unreadable (unknown).

    Callers treat an unknown flag as the restrictive answer: unknown frozen/locked/enabled never
    lets a security erase run, unknown supported is not supported.
    """

    supported: bool | None
    enabled: bool | None
    locked: bool | None
    frozen: bool | None
    count_expired: bool | None
    enhanced_supported: bool | None
    erase_minutes: int | None
    enhanced_erase_minutes: int | None

    @property
    def unknown(self) -> tuple[str, ...]:
        """The flags hdparm's output did not state readably."""
        return tuple(k for k in _FLAGS if getattr(self, k) is None)

    def to_json(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class AtaIdentify:
    """What ``hdparm -I`` says about the erase features of one ATA drive."""

    model: str
    serial: str
    firmware: str
    rotational: bool | None  # None when the rotation rate is not reported
    security: AtaSecurity | None  # None: no Security section (feature set absent)
    sanitize_supported: bool
    sanitize_crypto: bool
    sanitize_block: bool
    sanitize_overwrite: bool
    trim: bool
    trim_zeroes: bool
    hpa_feature: bool
    sectors: int

    def to_json(self) -> dict[str, object]:
        out = {k: v for k, v in self.__dict__.items() if k != "security"}
        out["security"] = self.security.to_json() if self.security else None
        return out


@dataclass(frozen=True)
class HpaState:
    current: int
    native: int
    enabled: bool

    @property
    def hidden_sectors(self) -> int:
        return max(0, self.native - self.current)


@dataclass(frozen=True)
class DcoState:
    real_max: int  # sectors the drive really has (DCO identify "Real max sectors")


@dataclass(frozen=True)
class AtaSanitizeStatus:
    state: str  # "SD0".."SD4"
    in_progress: bool
    progress: float | None  # 0..1
    completed_ok: bool
    failed: bool
    frozen: bool


# ---- argv builders -------------------------------------------------------------------------


def build_identify_argv(dev: str) -> list[str]:
    return ["hdparm", "-I", dev]


def build_hpa_argv(dev: str) -> list[str]:
    return ["hdparm", "-N", dev]


def build_hpa_reset_argv(dev: str, native: int) -> list[str]:
    return ["hdparm", YES, "-N", f"p{native}", dev]


def build_dco_identify_argv(dev: str) -> list[str]:
    return ["hdparm", "--dco-identify", dev]


def build_dco_restore_argv(dev: str) -> list[str]:
    return ["hdparm", YES, "--dco-restore", dev]


SANITIZE_MODES = {
    "crypto": ["--sanitize-crypto-scramble"],
    "block": ["--sanitize-block-erase"],
    "overwrite": ["--sanitize-overwrite-passes", "1", "--sanitize-overwrite", "hex:00000000"],
}


def build_sanitize_argv(dev: str, mode: str) -> list[str]:
    return ["hdparm", YES, *SANITIZE_MODES[mode], dev]


def build_sanitize_status_argv(dev: str) -> list[str]:
    return ["hdparm", "--sanitize-status", dev]


def build_set_pass_argv(dev: str, password: str) -> list[str]:
    return ["hdparm", "--user-master", "u", "--security-set-pass", password, dev]


def build_erase_argv(dev: str, password: str, enhanced: bool) -> list[str]:
    opt = "--security-erase-enhanced" if enhanced else "--security-erase"
    return ["hdparm", "--user-master", "u", opt, password, dev]


def build_disable_argv(dev: str, password: str) -> list[str]:
    return ["hdparm", "--user-master", "u", "--security-disable", password, dev]


def build_unlock_argv(dev: str, password: str) -> list[str]:
    return ["hdparm", "--user-master", "u", "--security-unlock", password, dev]


# ---- parsers -------------------------------------------------------------------------------


def aborted(output: str) -> bool:
    """Did the drive abort the command (whatever hdparm's exit status said)?"""
    return any(m in output for m in _ABORT_MARKERS)


def _line_value(text: str, label: str) -> str:
    """The value after ``label:`` on its line; "" for an empty field (never the next line)."""
    m = re.search(rf"^[ \t]*{re.escape(label)}:[ \t]*(.*?)[ \t]*$", text, re.M)
    return m.group(1) if m else ""


def _enabled_features(text: str) -> list[str]:
    return [ln.strip().lstrip("*").strip() for ln in text.splitlines() if ln.strip()]


def _unreadable(lines: list[str], needle: str, why: str) -> ToolError:
    """A ToolError naming the first line that holds ``needle`` (or the first line)."""
    return _error_at(lines, next((i for i, ln in enumerate(lines) if needle in ln), 0), why)


def _error_at(lines: list[str], at: int, why: str) -> ToolError:
    line = lines[at].strip() if lines else ""
    return ToolError(f"hdparm -I: unreadable output at line {at + 1} ({line!r}): {why}")


def _check_structure(text: str) -> None:
    """Raise when the block has identify fields but not the layout hdparm -I prints."""
    lines = text.splitlines()
    if not re.search(r"^[ \t]*Model Number:", text, re.M):
        raise _unreadable(lines, "Model Number:", "'Model Number:' is not a field line")
    for head in _HEADINGS:
        if head in text and not re.search(rf"^{re.escape(head)}[ \t]*$", text, re.M):
            raise _unreadable(lines, head, f"{head!r} is not a section heading")
    if "Commands/features:" not in text:
        raise _unreadable(lines, "Model Number:", "no 'Commands/features:' section")
    if not re.search(r"^(Checksum: |Integrity word not set)", text, re.M):
        raise _error_at(lines, len(lines) - 1, "no 'Checksum:' line at the end (truncated?)")


def _rotational(rate: str) -> bool | None:
    """``Solid State Device`` → False, an rpm figure → True, anything else → unknown."""
    if rate == "Solid State Device":
        return False
    return True if re.fullmatch(r"\d+", rate) else None


def parse_identify(text: str) -> AtaIdentify | None:
    """``hdparm -I`` → AtaIdentify, or None when the device returned no ATA identify data.

    Raises:
        ToolError: the output has identify fields but not hdparm's layout (names the line).
    """
    if "Model Number:" not in text:
        if "ATA device" in text:  # the header is there, the fields are not: cut short
            raise _unreadable(text.splitlines(), "ATA device", "no 'Model Number:' after it")
        return None
    _check_structure(text)
    feats = _enabled_features(text.split("Commands/features:", 1)[-1].split("Security:", 1)[0])

    def has(name: str) -> bool:
        return any(f.startswith(name) for f in feats)

    sectors = re.search(r"LBA48\s+user addressable sectors:\s*(\d+)$", text, re.M) or re.search(
        r"LBA\s+user addressable sectors:\s*(\d+)$", text, re.M
    )
    return AtaIdentify(
        model=_line_value(text, "Model Number"),
        serial=_line_value(text, "Serial Number"),
        firmware=_line_value(text, "Firmware Revision"),
        rotational=_rotational(_line_value(text, "Nominal Media Rotation Rate")),
        security=parse_security(text),
        sanitize_supported=has("SANITIZE feature set"),
        sanitize_crypto=has("CRYPTO_SCRAMBLE_EXT"),
        sanitize_block=has("BLOCK_ERASE_EXT"),
        sanitize_overwrite=has("OVERWRITE_EXT"),
        trim=has("Data Set Management TRIM supported"),
        trim_zeroes=has("Deterministic read ZEROs after TRIM"),
        hpa_feature=has("Host Protected Area feature set"),
        sectors=int(sectors.group(1)) if sectors else 0,
    )


def _flag(section: str, words: str) -> bool | None:
    """``[not] <words>`` on a line of its own, exactly once; anything else is unknown."""
    found = re.findall(rf"^[ \t]*(not[ \t]+)?{re.escape(words)}[ \t]*$", section, re.M)
    return not found[0] if len(found) == 1 else None


#: The feature set is listed but its ``Security:`` section is missing: every flag unknown.
_UNKNOWN_SECURITY = AtaSecurity(None, None, None, None, None, None, None, None)


def parse_security(text: str) -> AtaSecurity | None:
    """The ``Security:`` section; None when the drive has no Security feature set at all.

    Each flag is a line with or without a leading ``not``; a flag whose line is missing,
    repeated or carries other text is unknown (None), never False.

    Raises:
        ToolError: ``Security:`` appears, but not as hdparm's section heading.
    """
    if "Security:" not in text:
        return _UNKNOWN_SECURITY if "Security Mode feature set" in text else None
    head = re.search(r"^Security:[ \t]*$", text, re.M)
    if head is None:
        raise _unreadable(text.splitlines(), "Security:", "'Security:' is not a section heading")
    sec = re.split(r"\n(?=\S)", text[head.end() :], maxsplit=1)[0]
    flags = {k: _flag(sec, words) for k, words in _FLAGS.items()}
    times = re.findall(r"(\d+)min for (ENHANCED )?SECURITY ERASE UNIT", sec)
    return AtaSecurity(
        **flags,
        erase_minutes=next((int(t) for t, enh in times if not enh), None),
        enhanced_erase_minutes=next((int(t) for t, enh in times if enh), None),
    )


def parse_hpa(text: str) -> HpaState | None:
    """``hdparm -N``: `` max sectors   = 976771055/976773168, HPA is enabled``; None without one.

    Raises:
        ToolError: the drive aborted the command (a USB bridge then prints ``0/1``: "restoring"
            that would leave one sector), the line is unreadable, or its counts are impossible.
    """
    line = next((ln.strip() for ln in text.splitlines() if "max sectors" in ln), None)
    if line is None:
        return None
    if aborted(text):
        raise ToolError(f"hdparm -N: the drive aborted the command; {line!r} is not its answer")
    m = re.fullmatch(r"max sectors\s*=\s*(\d+)/(\d+),\s*HPA is (enabled|disabled)", line)
    if m is None:
        raise ToolError(f"hdparm -N: unreadable line {line!r}")
    current, native = int(m.group(1)), int(m.group(2))
    if current == 0 or native < current:
        raise ToolError(f"hdparm -N: impossible sector counts in {line!r}")
    return HpaState(current, native, m.group(3) == "enabled")


def parse_dco(text: str) -> DcoState | None:
    """``hdparm --dco-identify``: the ``Real max sectors:`` line; None without one.

    Raises:
        ToolError: the line is there but holds no whole, non-zero number.
    """
    line = next((ln.strip() for ln in text.splitlines() if "Real max sectors:" in ln), None)
    if line is None:
        return None
    m = re.fullmatch(r"Real max sectors:\s*(\d+)", line)
    if m is None or int(m.group(1)) == 0:
        raise ToolError(f"hdparm --dco-identify: unreadable line {line!r}")
    if "ATA command/feature sets:" not in text:  # always printed next: else the output was cut
        raise ToolError(f"hdparm --dco-identify: output cut short after {line!r}")
    return DcoState(int(m.group(1)))


def parse_sanitize_status(text: str) -> AtaSanitizeStatus | None:
    state = re.search(r"State:\s*(SD\d)", text)
    if not state:
        return None
    prog = re.search(r"Progress:\s*0x([0-9a-fA-F]+)", text)
    sd = state.group(1)
    return AtaSanitizeStatus(
        state=sd,
        in_progress=sd == "SD2",
        progress=int(prog.group(1), 16) / 0x10000 if prog else None,
        completed_ok=sd == "SD4" or "Completed Without Error" in text,
        failed=sd == "SD3" or "completed unsuccessfully" in text,
        frozen=sd == "SD1",
    )


# ---- combinators ---------------------------------------------------------------------------


def _run_checked(argv: list[str], runner: Runner, timeout: float = TIMEOUT) -> Completed:
    """Run hdparm and turn both a non-zero exit and a silent abort into ToolFailedError."""
    done = runner(argv, timeout=timeout, check=False)
    text = done.stdout + done.stderr
    if "not supported" in text and "SANITIZE" in text:
        raise UnsupportedError("the drive does not support the ATA SANITIZE feature set")
    if done.returncode != 0 or aborted(text):
        hint = "the drive aborted the command" if aborted(text) else ""
        raise ToolFailedError(list(done.argv), done.returncode, _tail(text), hint)
    return done


def _tail(text: str) -> str:
    return " | ".join(ln.strip() for ln in text.strip().splitlines()[-3:] if ln.strip())


def identify(dev: str, *, runner: Runner = run) -> AtaIdentify | None:
    return parse_identify(runner(build_identify_argv(dev), timeout=TIMEOUT).stdout)


def hpa(dev: str, *, runner: Runner = run) -> HpaState | None:
    done = runner(build_hpa_argv(dev), timeout=TIMEOUT, check=False)
    return parse_hpa(done.stdout + done.stderr)


def dco(dev: str, *, runner: Runner = run) -> DcoState | None:
    done = runner(build_dco_identify_argv(dev), timeout=TIMEOUT, check=False)
    return parse_dco(done.stdout)


def reset_hpa(dev: str, native: int, *, runner: Runner = run) -> Completed:
    return _run_checked(build_hpa_reset_argv(dev, native), runner)


def restore_dco(dev: str, *, runner: Runner = run) -> Completed:
    return _run_checked(build_dco_restore_argv(dev), runner)


def sanitize(dev: str, mode: str, *, runner: Runner = run) -> Completed:
    return _run_checked(build_sanitize_argv(dev, mode), runner)


def sanitize_status(dev: str, *, runner: Runner = run) -> AtaSanitizeStatus | None:
    done = runner(build_sanitize_status_argv(dev), timeout=TIMEOUT, check=False)
    return parse_sanitize_status(done.stdout)


def set_password(dev: str, password: str, *, runner: Runner = run) -> Completed:
    return _run_checked(build_set_pass_argv(dev, password), runner)


def security_erase(
    dev: str, password: str, enhanced: bool, timeout: float, *, runner: Runner = run
) -> Completed:
    return _run_checked(build_erase_argv(dev, password, enhanced), runner, timeout)


def clear_password(dev: str, password: str, *, runner: Runner = run) -> list[str]:
    """Best effort: unlock, then disable the password. Returns what happened, never raises."""
    notes = []
    for argv in (build_unlock_argv(dev, password), build_disable_argv(dev, password)):
        try:
            _run_checked(argv, runner)
            notes.append(f"{argv[3]}: ok")
        except Exception as e:  # noqa: BLE001 - cleanup must try every step
            notes.append(f"{argv[3]}: {e}")
    return notes


# ---- the operator's password on a locked drive (user or master) -----------------------------


def build_security_argv(dev: str, action: str, who: str, password: str) -> list[str]:
    """``action``: unlock | disable | erase | erase-enhanced; ``who``: ``u`` (user) or ``m``."""
    opt = {
        "unlock": "--security-unlock",
        "disable": "--security-disable",
        "erase": "--security-erase",
        "erase-enhanced": "--security-erase-enhanced",
    }[action]
    return ["hdparm", "--user-master", who, opt, password, dev]


def run_security(
    dev: str, action: str, who: str, password: str, timeout: float, *, runner: Runner = run
) -> Completed:
    """One security command; a refusal (exit status or an abort line) is ToolFailedError."""
    return _run_checked(build_security_argv(dev, action, who, password), runner, timeout)
