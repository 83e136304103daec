"""sg3_utils: SCSI/SAS capability (sg_opcodes, sg_readcap -l) and SANITIZE / FORMAT UNIT.

Why distrust: ``sg_format`` printed "FORMAT UNIT Complete" and exited 0 without erasing, and
``sg_sanitize --overwrite`` exited 0 after a transport error (reference/qemu.md §0.4). So these
wrappers also scan the output for failure text, and the engine always verifies afterwards.
``--quick`` skips the 15 s "reconsider" pause of sg_sanitize and sg_format; ``--early`` returns at
once so the step can poll progress with ``sg_requests``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wipestation.errors import ToolError, ToolFailedError, UnsupportedError
from wipestation.tools.runner import Completed, Runner, run

TIMEOUT = 60.0
SANITIZE_OPCODE = 0x48
FORMAT_UNIT_OPCODE = 0x04
#: SANITIZE service actions
SA_OVERWRITE, SA_BLOCK, SA_CRYPTO = 0x01, 0x02, 0x03
_FAILURE_TEXT = ("Invalid opcode", "Illegal request", "DID_ERROR", "Hardware Error", "failed")


@dataclass(frozen=True)
class Opcodes:
    """What REPORT SUPPORTED OPERATION CODES listed, as (opcode, service action) pairs."""

    supported: frozenset[tuple[int, int | None]]

    def has(self, opcode: int, service_action: int | None = None) -> bool:
        return any(
            op == opcode and (service_action is None or sa == service_action)
            for op, sa in self.supported
        )

    @property
    def sanitize_overwrite(self) -> bool:
        return self.has(SANITIZE_OPCODE, SA_OVERWRITE)

    @property
    def sanitize_block(self) -> bool:
        return self.has(SANITIZE_OPCODE, SA_BLOCK)

    @property
    def sanitize_crypto(self) -> bool:
        return self.has(SANITIZE_OPCODE, SA_CRYPTO)

    @property
    def format_unit(self) -> bool:
        return self.has(FORMAT_UNIT_OPCODE)


@dataclass(frozen=True)
class ReadCap:
    blocks: int
    block_length: int
    physical_block_length: int
    lbpme: bool
    lbprz: bool
    protection: bool
    #: P_TYPE (protection type - 1) when ``protection``; None when READ CAPACITY(16) gave none
    protection_type: int | None = None

    @property
    def nonstandard_sectors(self) -> bool:
        """520/528-byte (or other) sectors: the disk came from an array and needs a reformat."""
        return self.block_length not in (512, 4096)

    @property
    def size_bytes(self) -> int:
        """The capacity the drive reports, also where the kernel shows 0 (520-byte sectors)."""
        return self.blocks * self.block_length

    @property
    def protection_text(self) -> str:
        if not self.protection:
            return "no protection information"
        if self.protection_type is None:
            return "protection enabled (type unknown)"
        return f"protection type {self.protection_type + 1}"

    def describe(self) -> str:
        """``520-byte logical blocks, 3674210304 blocks, ...`` for plans, probes and records."""
        return (
            f"{self.block_length}-byte logical blocks, {self.blocks} blocks, {self.protection_text}"
        )


# ---- argv builders -------------------------------------------------------------------------


def build_opcodes_argv(dev: str) -> list[str]:
    return ["sg_opcodes", dev]


def build_readcap_argv(dev: str) -> list[str]:
    return ["sg_readcap", "-l", dev]


SANITIZE_MODES = {
    "overwrite": ["--overwrite", "--zero"],
    "block": ["--block"],
    "crypto": ["--crypto"],
}


def build_sanitize_argv(dev: str, mode: str) -> list[str]:
    return ["sg_sanitize", "--quick", "--early", *SANITIZE_MODES[mode], dev]


def build_format_argv(dev: str, size: int | None = None) -> list[str]:
    argv = ["sg_format", "--format", "--quick", "--early"]
    if size:
        argv.append(f"--size={size}")
    return [*argv, dev]


def build_requests_argv(dev: str) -> list[str]:
    return ["sg_requests", "--progress", dev]


# ---- parsers -------------------------------------------------------------------------------

_OPCODE_ROW = re.compile(r"^\s*([0-9a-fA-F]{2})\s+(?:([0-9a-fA-F]{1,4})\s+)?(\d{1,2})\s+\S")


def parse_opcodes(text: str) -> Opcodes:
    """Rows of ``sg_opcodes``: `` 48        2        10    Sanitize, block erase``.

    Raises:
        ToolError: the table's ``-----`` rule is there but no row under it can be read.
    """
    found: set[tuple[int, int | None]] = set()
    body = text.split("-----", 1)[-1] if "-----" in text else text
    for line in body.splitlines():
        m = _OPCODE_ROW.match(line)
        if m:
            sa = int(m.group(2), 16) if m.group(2) else None
            found.add((int(m.group(1), 16), sa))
    if "-----" in text and not found:
        first = next((ln.strip() for ln in body.splitlines() if ln.strip("- \t")), "")
        raise ToolError(f"sg_opcodes: no readable opcode row under the table rule ({first!r})")
    return Opcodes(frozenset(found))


def _readcap_int(text: str, label: str) -> int | None:
    """``label=<digits>`` as a whole number; a label followed by anything else is an error."""
    line = next((ln.strip() for ln in text.splitlines() if f"{label}=" in ln), None)
    if line is None:
        return None
    m = re.search(rf"{re.escape(label)}=(\d+)(?![\w.])", line)
    if m is None:
        raise ToolError(f"sg_readcap: unreadable line {line!r}")
    return int(m.group(1))


def parse_readcap(text: str) -> ReadCap | None:
    """``sg_readcap -l``; None when there are no results (the command failed).

    Raises:
        ToolError: a results block without readable block count and length (names the line).
    """
    blocks = _readcap_int(text, "Number of logical blocks")
    length = _readcap_int(text, "Logical block length")
    if blocks is None or length is None:
        if "Read Capacity results" in text:
            raise ToolError("sg_readcap: results without a block count and block length")
        return None
    size = re.search(r"Device size:\s*(\d+) bytes", text)
    if size is None or int(size.group(1)) != blocks * length:
        raise ToolError(
            "sg_readcap: the device size does not confirm the block count and length "
            f"({blocks} x {length}; {size.group(0) if size else 'no Device size line'})"
        )
    phys = _readcap_int(text, "physical block length")
    lbp = re.search(r"lbpme=(\d), lbprz=(\d)", text)
    prot = re.search(r"prot_en=(\d), p_type=(\d)", text)
    return ReadCap(
        blocks=blocks,
        block_length=length,
        physical_block_length=phys or length,
        lbpme=bool(lbp and lbp.group(1) == "1"),
        lbprz=bool(lbp and lbp.group(2) == "1"),
        protection=bool(prot and prot.group(1) == "1"),
        protection_type=int(prot.group(2)) if prot else None,
    )


def parse_progress(text: str) -> float | None:
    """``Progress indication: 45.23% done`` → 0.4523; None when the device gave none."""
    m = re.search(r"Progress indication:\s*(\d{1,3}(?:\.\d+)?)%", text)
    value = float(m.group(1)) / 100 if m else None
    return value if value is not None and value <= 1.0 else None


def failure_in(text: str) -> str:
    """The failure line an exit-0 sg tool printed anyway, or ''."""
    for line in text.splitlines():
        if any(t in line for t in _FAILURE_TEXT):
            return line.strip()
    return ""


# ---- combinators ---------------------------------------------------------------------------


def opcodes(dev: str, *, runner: Runner = run) -> Opcodes:
    return parse_opcodes(runner(build_opcodes_argv(dev), timeout=TIMEOUT).stdout)


def readcap(dev: str, *, runner: Runner = run) -> ReadCap | None:
    return parse_readcap(runner(build_readcap_argv(dev), timeout=TIMEOUT).stdout)


def progress(dev: str, *, runner: Runner = run) -> float | None:
    done = runner(build_requests_argv(dev), timeout=TIMEOUT, check=False)
    return parse_progress(done.stdout + done.stderr)


def sanitize(dev: str, mode: str, *, runner: Runner = run) -> Completed:
    return _checked(build_sanitize_argv(dev, mode), runner)


def format_unit(dev: str, size: int | None = None, *, runner: Runner = run) -> Completed:
    return _checked(build_format_argv(dev, size), runner)


def _checked(argv: list[str], runner: Runner) -> Completed:
    done = runner(argv, timeout=TIMEOUT, check=False)
    text = done.stdout + done.stderr
    if "Invalid opcode" in text or "Invalid field in cdb" in text:
        raise UnsupportedError(f"{argv[0]}: the device rejected the command ({failure_in(text)})")
    bad = failure_in(text)
    if done.returncode != 0 or bad:
        raise ToolFailedError(list(done.argv), done.returncode, bad or text.strip()[-300:])
    return done
