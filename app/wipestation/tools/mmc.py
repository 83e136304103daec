"""mmc-utils and the MMC sysfs: EXT_CSD, SD CSD/SCR, eMMC sanitize and secure erase/trim.

Why here: an eMMC's erase features live in its EXT_CSD (SEC_FEATURE_SUPPORT, ERASE_GROUP_DEF,
SEC_COUNT), which only ``mmc extcsd read`` shows; an SD card has no EXT_CSD (CMD8 means something
else to it), so its CSD/SCR are read from sysfs instead and ``mmc`` is never pointed at it.
Parsers fail closed: a field that is absent is ``None`` (and ``None`` never permits a firmware
command), a field line that is present but cannot be read is a ``ToolError`` naming the line.
``mmc erase`` prints ``<What> Failed!`` and exits non-zero on failure; both are checked.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import StrEnum

from wipestation.errors import ToolError, ToolFailedError, UnsupportedError
from wipestation.tools.runner import Completed, Runner, run, tail

TIMEOUT = 30.0
#: mmc-utils' own CMD38 busy timeout is 300*255*255 ms (5.4 h); the runner waits a little longer.
ERASE_TIMEOUT = 6 * 3600.0
#: A sanitize of a large eMMC can take hours; the kernel's MMC_IOC_CMD has no progress.
SANITIZE_TIMEOUT = 6 * 3600.0
#: Boot partitions and RPMB are 128 KiB × their EXT_CSD multiplier.
MULT_UNIT = 128 * 1024
#: HC_ERASE_GRP_SIZE is in 512 KiB units.
HC_ERASE_UNIT = 512 * 1024


class EraseKind(StrEnum):
    """``mmc erase`` types this station uses (mmc-utils' names, CMD38 arguments in comments)."""

    SECURE_ERASE = "secure-erase"  # 0x80000000, needs SEC_ER_EN
    SECURE_TRIM1 = "secure-trim1"  # 0x80000001, needs SEC_ER_EN and SEC_GB_CL_EN
    SECURE_TRIM2 = "secure-trim2"  # 0x80008000, the second step of a secure trim
    TRIM = "trim"  # 0x00000001, needs SEC_GB_CL_EN; unmaps at sector granularity
    LEGACY = "legacy"  # 0x00000000, ERASE of whole erase groups (every eMMC)
    DISCARD = "discard"  # 0x00000003


#: What mmc-utils calls each type in its ``Executing``/``Succeed!`` lines.
ERASE_WORDS = {
    EraseKind.SECURE_ERASE: "Secure Erase",
    EraseKind.SECURE_TRIM1: "Secure Trim Step 1",
    EraseKind.SECURE_TRIM2: "Secure Trim Step 2",
    EraseKind.TRIM: "Trim",
    EraseKind.LEGACY: "Legacy Erase",
    EraseKind.DISCARD: "Discard",
}


@dataclass(frozen=True)
class SecFeatures:
    """EXT_CSD[231] SEC_FEATURE_SUPPORT, bit by bit (JESD84-B51 §7.4.48)."""

    raw: int

    @property
    def er_en(self) -> bool:
        """SEC_ER_EN (bit 0): secure erase and secure trim."""
        return bool(self.raw & 0x01)

    @property
    def bd_blk_en(self) -> bool:
        """SEC_BD_BLK_EN (bit 2): secure purge of bad blocks."""
        return bool(self.raw & 0x04)

    @property
    def gb_cl_en(self) -> bool:
        """SEC_GB_CL_EN (bit 4): trim and secure trim."""
        return bool(self.raw & 0x10)

    @property
    def sanitize(self) -> bool:
        """SEC_SANITIZE (bit 6): the sanitize operation."""
        return bool(self.raw & 0x40)

    def to_json(self) -> dict[str, object]:
        return {
            "raw": f"0x{self.raw:02x}",
            "sec_er_en": self.er_en,
            "sec_bd_blk_en": self.bd_blk_en,
            "sec_gb_cl_en": self.gb_cl_en,
            "sec_sanitize": self.sanitize,
        }


@dataclass(frozen=True)
class ExtCsd:
    """What ``mmc extcsd read`` says about an eMMC's erase features; ``None``: not shown."""

    rev: int  # EXT_CSD_REV (1.8 → 8)
    spec: str  # "5.1"
    sec: SecFeatures | None
    erase_group_def: int | None
    hc_erase_grp_size: int | None
    sec_count: int | None
    boot_size_mult: int | None
    rpmb_size_mult: int | None
    partition_config: int | None
    erased_mem_cont: int | None

    @property
    def block_addressed(self) -> bool:
        """Sector (not byte) addresses: ``mmc erase`` takes sector numbers only then."""
        return bool(self.sec_count)

    @property
    def user_bytes(self) -> int | None:
        return self.sec_count * 512 if self.sec_count else None

    @property
    def erase_group_bytes(self) -> int | None:
        if self.erase_group_def != 1 or not self.hc_erase_grp_size:
            return None
        return self.hc_erase_grp_size * HC_ERASE_UNIT

    @property
    def boot_bytes(self) -> int | None:
        return None if self.boot_size_mult is None else self.boot_size_mult * MULT_UNIT

    @property
    def rpmb_bytes(self) -> int | None:
        return None if self.rpmb_size_mult is None else self.rpmb_size_mult * MULT_UNIT

    def to_json(self) -> dict[str, object]:
        return {
            "rev": self.rev,
            "spec": self.spec,
            "sec_feature_support": self.sec.to_json() if self.sec else None,
            "erase_group_def": self.erase_group_def,
            "erase_group_bytes": self.erase_group_bytes,
            "sec_count": self.sec_count,
            "boot_bytes": self.boot_bytes,
            "rpmb_bytes": self.rpmb_bytes,
            "partition_config": self.partition_config,
            "erased_mem_cont": self.erased_mem_cont,
        }


@dataclass(frozen=True)
class SdCsd:
    """The SD card's CSD (sysfs ``device/csd``): the fields that bear on erasing it."""

    structure: int  # 0: CSD 1.0 (SDSC), 1: 2.0 (SDHC/SDXC), 2: 3.0 (SDUC)
    ccc: int  # card command classes; bit 5 = erase commands
    erase_blk_en: bool

    @property
    def erase_class(self) -> bool:
        return bool(self.ccc & (1 << 5))


@dataclass(frozen=True)
class SdScr:
    """The SD card's SCR (sysfs ``device/scr``)."""

    sd_spec: int
    data_stat_after_erase: int  # what an erased block reads as: 0 → zeros, 1 → ones
    sd_security: int
    cmd_support: int


@dataclass(frozen=True)
class MmcCard:
    """One mmcblk device as sysfs describes it: card type, registers, hardware partitions."""

    type: str  # "MMC" (eMMC), "SD", "SDIO", or "" when sysfs does not say
    csd: SdCsd | None = None
    scr: SdScr | None = None
    #: /dev paths of the eMMC boot partitions (mmcblkXbootN) and the RPMB (mmcblkXrpmb)
    boot_partitions: tuple[str, ...] = ()
    rpmb: str = ""

    @property
    def emmc(self) -> bool:
        return self.type == "MMC"

    def to_json(self) -> dict[str, object]:
        return {
            "type": self.type or None,
            "csd": vars(self.csd) if self.csd else None,
            "scr": vars(self.scr) if self.scr else None,
            "boot_partitions": list(self.boot_partitions),
            "rpmb": self.rpmb or None,
        }


# ---- argv builders -------------------------------------------------------------------------


def build_extcsd_argv(dev: str) -> list[str]:
    return ["mmc", "extcsd", "read", dev]


def build_sanitize_argv(dev: str) -> list[str]:
    return ["mmc", "sanitize", dev]


def build_erase_argv(dev: str, kind: EraseKind, start: int, end: int) -> list[str]:
    return ["mmc", "erase", str(kind), str(start), str(end), dev]


# ---- EXT_CSD parser ------------------------------------------------------------------------

_HEADER = re.compile(r"^\s*Extended CSD rev 1\.(\d+) \(MMC ([0-9.]+)\)\s*$", re.M)
#: field name → the exact line mmc-utils prints for it (value group 1)
_FIELDS = {
    "SEC_FEATURE_SUPPORT": r"Secure Feature support \[SEC_FEATURE_SUPPORT: 0x([0-9a-f]{2})\]",
    "ERASE_GROUP_DEF": r"High-density erase group definition \[ERASE_GROUP_DEF: 0x([0-9a-f]{2})\]",
    "HC_ERASE_GRP_SIZE": r"High-capacity erase unit size \[HC_ERASE_GRP_SIZE: 0x([0-9a-f]{2})\]",
    "SEC_COUNT": r"Sector Count \[SEC_COUNT: 0x([0-9a-f]{8})\]",
    "BOOT_SIZE_MULTI": r"Boot partition size \[BOOT_SIZE_MULTI: 0x([0-9a-f]{2})\]",
    "RPMB_SIZE_MULT": r"RPMB Size \[RPMB_SIZE_MULT\]: 0x([0-9a-f]{2})",
    "PARTITION_CONFIG": r"Boot configuration bytes \[PARTITION_CONFIG: 0x([0-9a-f]{2})\]",
    "ERASED_MEM_CONT": r"Erased memory content \[ERASED_MEM_CONT: 0x([0-9a-f]{2})\]",
}


def parse_extcsd(text: str) -> ExtCsd:
    """``mmc extcsd read`` → ExtCsd.

    Raises:
        ToolError: no ``Extended CSD rev`` header, or a field line that cannot be read.
    """
    head = _HEADER.search(text)
    if head is None:
        raise ToolError("mmc extcsd read: no 'Extended CSD rev 1.N (MMC X)' header in its output")
    found = {name: _field(text, name) for name in _FIELDS}
    sec = found["SEC_FEATURE_SUPPORT"]
    return ExtCsd(
        rev=int(head.group(1)),
        spec=head.group(2),
        sec=None if sec is None else SecFeatures(sec),
        erase_group_def=found["ERASE_GROUP_DEF"],
        hc_erase_grp_size=found["HC_ERASE_GRP_SIZE"],
        sec_count=found["SEC_COUNT"],
        boot_size_mult=found["BOOT_SIZE_MULTI"],
        rpmb_size_mult=found["RPMB_SIZE_MULT"],
        partition_config=found["PARTITION_CONFIG"],
        erased_mem_cont=found["ERASED_MEM_CONT"],
    )


def _field(text: str, name: str) -> int | None:
    """The value of field ``name``: None when no line names it, ToolError when a line names it
    but is not exactly mmc-utils' line (trailing text, other digits, markup) or repeats."""
    lines = [ln.strip() for ln in text.splitlines() if f"[{name}" in ln]
    if not lines:
        return None
    if len(lines) > 1:
        raise ToolError(f"mmc extcsd read: {name} is printed {len(lines)} times: {lines[1]!r}")
    m = re.fullmatch(_FIELDS[name], lines[0])
    if m is None:
        raise ToolError(f"mmc extcsd read: cannot read {name} from the line {lines[0]!r}")
    return int(m.group(1), 16)


# ---- sysfs ---------------------------------------------------------------------------------


def parse_csd(raw: str) -> SdCsd:
    """The 128-bit SD CSD as sysfs prints it (32 hex digits).

    Raises:
        ToolError: not 32 hex digits.
    """
    bits = _register(raw, 32, "csd")
    return SdCsd(
        structure=(bits >> 126) & 0x3,
        ccc=(bits >> 84) & 0xFFF,
        erase_blk_en=bool((bits >> 46) & 0x1),
    )


def parse_scr(raw: str) -> SdScr:
    """The 64-bit SD SCR as sysfs prints it (16 hex digits).

    Raises:
        ToolError: not 16 hex digits.
    """
    bits = _register(raw, 16, "scr")
    return SdScr(
        sd_spec=(bits >> 56) & 0xF,
        data_stat_after_erase=(bits >> 55) & 0x1,
        sd_security=(bits >> 52) & 0x7,
        cmd_support=(bits >> 32) & 0x3,
    )


def _register(raw: str, digits: int, what: str) -> int:
    value = raw.strip()
    if not re.fullmatch(rf"[0-9a-fA-F]{{{digits}}}", value):
        raise ToolError(f"sysfs {what}: expected {digits} hex digits, read {value!r}")
    return int(value, 16)


def card(name: str, sys_block: str = "/sys/class/block") -> MmcCard:
    """What sysfs says about ``mmcblkN``: type, SD registers, hardware partitions.

    Raises:
        ToolError: a CSD/SCR file that exists but cannot be read as a register.
    """
    dev = os.path.join(sys_block, name, "device")
    kind = _read(os.path.join(dev, "type"))
    csd = _read(os.path.join(dev, "csd")) if kind == "SD" else ""
    scr = _read(os.path.join(dev, "scr")) if kind == "SD" else ""
    return MmcCard(
        type=kind,
        csd=parse_csd(csd) if csd else None,
        scr=parse_scr(scr) if scr else None,
        boot_partitions=hardware_partitions(name, sys_block, r"boot\d+"),
        rpmb=next(iter(hardware_partitions(name, sys_block, "rpmb")), ""),
    )


def hardware_partitions(name: str, sys_block: str, suffix: str) -> tuple[str, ...]:
    """``/dev/<name><suffix>`` for each such node in sysfs (``mmcblk0boot0``, ``mmcblk0rpmb``)."""
    try:
        names = os.listdir(sys_block)
    except OSError:
        return ()
    found = sorted(n for n in names if re.fullmatch(rf"{re.escape(name)}{suffix}", n))
    return tuple(f"/dev/{n}" for n in found)


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""


def force_ro_path(part: str, sys_block: str = "/sys/class/block") -> str:
    return os.path.join(sys_block, os.path.basename(part), "force_ro")


def read_force_ro(part: str, sys_block: str = "/sys/class/block") -> bool | None:
    """A boot partition's ``force_ro`` (the kernel sets it: boot code is not written by
    accident); None when it cannot be read."""
    value = _read(force_ro_path(part, sys_block))
    return {"0": False, "1": True}.get(value)


def write_force_ro(part: str, on: bool, sys_block: str = "/sys/class/block") -> None:
    """Raises OSError when sysfs refuses."""
    with open(force_ro_path(part, sys_block), "w", encoding="ascii") as f:
        f.write("1" if on else "0")


# ---- commands ------------------------------------------------------------------------------


def extcsd(dev: str, *, runner: Runner = run) -> ExtCsd:
    return parse_extcsd(runner(build_extcsd_argv(dev), timeout=TIMEOUT).stdout)


def sanitize(dev: str, *, runner: Runner = run) -> Completed:
    """Raises ToolFailedError when the card refused SANITIZE_START (exit status non-zero)."""
    return runner(build_sanitize_argv(dev), timeout=SANITIZE_TIMEOUT)


def erase(dev: str, kind: EraseKind, start: int, end: int, *, runner: Runner = run) -> Completed:
    """``mmc erase`` over sectors ``start``..``end``, checked by its status *and* its words.

    Raises:
        UnsupportedError: the card's SEC_FEATURE_SUPPORT lacks the bits this type needs.
        ToolFailedError: the erase failed.
    """
    argv = build_erase_argv(dev, kind, start, end)
    done = runner(argv, timeout=ERASE_TIMEOUT, check=False)
    text = done.stdout + done.stderr
    what = ERASE_WORDS[kind]
    if f"{what} is not supported" in text:
        raise UnsupportedError(f"the card does not support {what} (SEC_FEATURE_SUPPORT)")
    if done.returncode != 0 or f"{what} Succeed!" not in text:
        raise ToolFailedError(list(done.argv), done.returncode, tail(text), f"{what} not done")
    return done
