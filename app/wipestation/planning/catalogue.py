"""Every erase method an operator can ask for, in one static table: overwrite, firmware, ``auto``.

Why one table: the CLI's ``methods``, the screen's method picker, the config check and the
planner all read the same ``Method`` values, so a name means one thing everywhere. Each method
carries the NIST SP 800-88 level it reaches per medium, recorded by the **stricter** of Rev. 1
Appendix A and IEEE 2883-2022 (as Seagate's openSeaChest classifies it) where they disagree
(reference/standards.md §0.2, §1.2): ATA enhanced security erase is Clear on flash, NVMe Format
SES=1/2 is Clear. Overwrites are Clear on every medium; ``nist-clear`` is our Clear profile: one
pass of the keyed AES-256-CTR stream, then zeros verified by read-back.

``overwrite-byte:0xNN`` is parsed on lookup (``get``), not listed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from wipestation.errors import UnsupportedError
from wipestation.model import Drive, Transport
from wipestation.planning import checks
from wipestation.planning.capabilities import Capabilities
from wipestation.planning.checks import Check, PolicyOptions
from wipestation.planning.medium import Medium
from wipestation.steps import firmware as fw
from wipestation.steps import mmc as mmc_steps
from wipestation.steps.overwrite import OverwriteStep
from wipestation.steps.patterns import ONES, STREAM, ZEROS, Pattern, constant
from wipestation.steps.plan import Expect, Expectation, Step
from wipestation.steps.sector_format import SectorReformatStep
from wipestation.tools import blkdev, mmc
from wipestation.tools.nvme import SanitizeAction, controller_of

R1 = "NIST SP 800-88 Rev. 1 Appendix A"
NIST = "NIST SP 800-88 Rev. 1"
IEEE = "IEEE 2883-2022 (openSeaChest classification)"
BOTH = f"{R1} and {IEEE} agree"
STRICTER = f"stricter of {R1} and {IEEE}"

ATA_TRANSPORTS = (Transport.SATA, Transport.USB)
SCSI_TRANSPORTS = (Transport.SAS, Transport.SCSI)
TCG_TRANSPORTS = (Transport.NVME, Transport.SATA, Transport.SAS, Transport.SCSI)
ALL = tuple(Transport)

Steps = Callable[[Drive, Capabilities, PolicyOptions], tuple[Step, ...]]


class MethodKind(StrEnum):
    OVERWRITE = "overwrite"  # the station writes every LBA itself
    FIRMWARE = "firmware"  # the drive (or the block layer) erases itself
    AUTO = "auto"  # the strongest firmware Purge the drive reports, else an overwrite


@dataclass(frozen=True)
class Method:
    """A named erase method: what it is, the level it reaches per medium, how it becomes steps."""

    name: str
    title: str
    description: str
    kind: MethodKind
    #: medium → "clear" | "purge"; a medium not listed has no defined result
    levels: Mapping[Medium, str]
    standard: str
    transports: tuple[Transport, ...]
    expect: Expectation
    passes: int = 1
    #: overwrite methods: the passes, in order
    patterns: tuple[Pattern, ...] = ()
    #: firmware methods: "" when the drive supports it, else why not (checks.py)
    check: Check = field(default=checks.always, compare=False, repr=False)
    steps: Steps | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "kind": str(self.kind),
            "levels": {str(k): v for k, v in self.levels.items()},
            "standard": self.standard,
            "passes": self.passes,
            "transports": [str(t) for t in self.transports],
        }

    @property
    def level_text(self) -> str:
        """The distinct levels it reaches, e.g. ``clear/purge``, for lists."""
        return "/".join(sorted(set(self.levels.values()))) or "-"


def _levels(**kw: str) -> Mapping[Medium, str]:
    return MappingProxyType({Medium(k): v for k, v in kw.items()})


EVERY_MEDIUM_CLEAR = _levels(hdd="clear", ssd="clear", nvme="clear", flash="clear", virtual="clear")


def _overwrite(
    name: str, title: str, description: str, patterns: tuple[Pattern, ...], expect: Expectation
) -> Method:
    return Method(
        name, title, description, MethodKind.OVERWRITE, EVERY_MEDIUM_CLEAR, NIST, ALL, expect,
        passes=len(patterns), patterns=patterns,
    )  # fmt: skip


def overwrite_steps(patterns: tuple[Pattern, ...]) -> tuple[Step, ...]:
    return tuple(OverwriteStep(p, i + 1, len(patterns)) for i, p in enumerate(patterns))


# ---- firmware step recipes -------------------------------------------------------------------


def _ata_prepare(d: Drive, c: Capabilities, o: PolicyOptions) -> tuple[Step, ...]:
    out: list[Step] = []
    if o.reset_dco and c.dco and c.hpa and c.dco.real_max > c.hpa.native:
        out.append(fw.DcoRestoreStep(dev=d.path))
    if o.reset_hpa and c.hpa and c.hpa.hidden_sectors > 0:
        out.append(fw.HpaResetStep(dev=d.path, native=c.hpa.native))
    return tuple(out)


def _unfreeze(d: Drive, c: Capabilities) -> tuple[Step, ...]:
    return (fw.UnfreezeStep(dev=d.path),) if c.ata_frozen else ()


def _scsi_prepare(d: Drive, c: Capabilities) -> tuple[Step, ...]:
    if not c.nonstandard_sectors:
        return ()
    # kind "prepare": the engine re-reads the drive's size after it, before the sanitize.
    return (SectorReformatStep(dev=d.path),)


def _nonstandard(c: Capabilities, o: PolicyOptions) -> str:
    """scsi-format-512 runs only where READ CAPACITY reports other than 512/4096-byte blocks."""
    if c.readcap is None:
        return "READ CAPACITY(16) gave no sector format (sg_readcap -l failed)"
    if not c.readcap.nonstandard_sectors:
        return f"it already has {c.readcap.block_length}-byte sectors"
    return checks.usb_gate(c)


def _nvme_sanitize(action: SanitizeAction) -> Steps:
    return lambda d, c, o: (fw.NvmeSanitizeStep(ctrl=controller_of(d.path), action=action),)


def _nvme_format(ses: int) -> Steps:
    def steps(d: Drive, c: Capabilities, o: PolicyOptions) -> tuple[Step, ...]:
        ns = c.namespaces or (d.path,)
        return (fw.NvmeFormatStep(ctrl=controller_of(d.path), namespaces=ns, ses=ses),)

    return steps


def _ata_sanitize(mode: str) -> Steps:
    return lambda d, c, o: (*_ata_prepare(d, c, o), fw.AtaSanitizeStep(dev=d.path, mode=mode))


def _ata_security(enhanced: bool) -> Steps:
    def steps(d: Drive, c: Capabilities, o: PolicyOptions) -> tuple[Step, ...]:
        sec = c.ata.security if c.ata else None
        minutes = (sec.enhanced_erase_minutes if enhanced else sec.erase_minutes) if sec else None
        timeout = max(600.0, 2 * 60.0 * minutes) if minutes else 4 * 3600.0
        erase = fw.AtaSecurityEraseStep(dev=d.path, enhanced=enhanced, erase_timeout_s=timeout)
        return (*_unfreeze(d, c), *_ata_prepare(d, c, o), erase)

    return steps


def _scsi_sanitize(mode: str) -> Steps:
    return lambda d, c, o: (*_scsi_prepare(d, c), fw.ScsiSanitizeStep(dev=d.path, mode=mode))


def _scsi_format(d: Drive, c: Capabilities, o: PolicyOptions) -> tuple[Step, ...]:
    if c.nonstandard_sectors:  # the reformat is the FORMAT UNIT, and the size is read again
        return (SectorReformatStep(dev=d.path),)
    return (fw.ScsiFormatStep(dev=d.path),)


def _reformat(d: Drive, c: Capabilities, o: PolicyOptions) -> tuple[Step, ...]:
    return (SectorReformatStep(dev=d.path),)


def _needs_secret(d: Drive, c: Capabilities, o: PolicyOptions) -> tuple[Step, ...]:
    """Methods that carry the operator's secret are planned by ``planning/locks.py``."""
    raise UnsupportedError("this method needs the operator's password or PSID (planning/locks)")


def _ioctl(request: int) -> Steps:
    return lambda d, c, o: (fw.BlockIoctlStep(request=request),)


def _emmc_range(c: Capabilities) -> tuple[int, int]:
    """Sectors 0..SEC_COUNT-1: the whole user area (the boot partitions and RPMB are not in it).

    Raises:
        UnsupportedError: SEC_COUNT unknown (the method's check refuses such a card first).
    """
    if c.ext_csd is None or not c.ext_csd.sec_count:
        raise UnsupportedError("EXT_CSD gives no SEC_COUNT: the erase range is unknown")
    return 0, c.ext_csd.sec_count - 1


def _emmc_erase(*kinds: mmc.EraseKind) -> Steps:
    def steps(d: Drive, c: Capabilities, o: PolicyOptions) -> tuple[Step, ...]:
        first, last = _emmc_range(c)
        return tuple(
            mmc_steps.MmcEraseStep(dev=d.path, erase=k, first=first, last=last) for k in kinds
        )

    return steps


def _emmc_sanitize(d: Drive, c: Capabilities, o: PolicyOptions) -> tuple[Step, ...]:
    """A sanitize purges only unmapped blocks: trim (else erase) the whole user area first."""
    sec = c.ext_csd.sec if c.ext_csd else None
    unmap = mmc.EraseKind.TRIM if sec and sec.gb_cl_en else mmc.EraseKind.LEGACY
    return (*_emmc_erase(unmap)(d, c, o), mmc_steps.MmcSanitizeStep(dev=d.path))


def _discard_overwrite(d: Drive, c: Capabilities, o: PolicyOptions) -> tuple[Step, ...]:
    """Discard (the card may unmap and erase everything), then the Clear profile's passes."""
    return (fw.BlockIoctlStep(request=blkdev.BLKDISCARD), *overwrite_steps((STREAM, ZEROS)))


def _fw(
    name: str,
    title: str,
    description: str,
    levels: Mapping[Medium, str],
    standard: str,
    expect: Expect,
    transports: tuple[Transport, ...],
    check: Check,
    steps: Steps,
) -> Method:
    return Method(
        name, title, description, MethodKind.FIRMWARE, levels, standard, transports,
        Expectation(expect), check=check, steps=steps,
    )  # fmt: skip


P, C = "purge", "clear"
SCSI_OR_USB = SCSI_TRANSPORTS + (Transport.USB,)

METHODS: tuple[Method, ...] = (
    Method("auto", "Automatic (strongest supported purge)",
        "The strongest firmware Purge the drive reports, proven by read-back; a verified "
        "overwrite (Clear) when there is none or it fails.",
        # The level guaranteed whichever plan runs; the plan that passed has the real one.
        MethodKind.AUTO, EVERY_MEDIUM_CLEAR, STRICTER, ALL, Expectation(Expect.CHANGED)),
    _overwrite("overwrite-zero", "Overwrite with zeros", "One pass of zeros.", (ZEROS,),
        Expectation(Expect.ZEROS)),
    _overwrite("overwrite-ones", "Overwrite with ones", "One pass of 0xFF.", (ONES,),
        Expectation(Expect.ONES)),
    _overwrite("overwrite-random", "Overwrite with random data",
        "One pass of a keyed AES-256-CTR stream, verified by regenerating it.", (STREAM,),
        Expectation(Expect.STREAM)),
    _overwrite("dod-5220.22-m", "DoD 5220.22-M (3 pass)",
        "Zeros, their complement (0xFF), then random; the random pass is verified.",
        (ZEROS, ONES, STREAM), Expectation(Expect.STREAM)),
    _overwrite("nist-clear", "NIST 800-88 Clear",
        "One random pass, then a zero pass verified by read-back (the Clear profile).",
        (STREAM, ZEROS), Expectation(Expect.ZEROS)),
    _fw("nvme-sanitize-crypto", "NVMe sanitize, crypto erase",
        "Sanitize (SANACT=4): the controller destroys its media keys, whole controller.",
        _levels(nvme=P), BOTH, Expect.CHANGED, (Transport.NVME,),
        checks.nvme("sanitize_crypto", "Sanitize crypto erase (SANICAP bit 0)"),
        _nvme_sanitize(SanitizeAction.CRYPTO_ERASE)),
    _fw("nvme-sanitize-block", "NVMe sanitize, block erase",
        "Sanitize (SANACT=2): every NAND block erased, including spare area.",
        _levels(nvme=P), BOTH, Expect.CHANGED, (Transport.NVME,),
        checks.nvme("sanitize_block", "Sanitize block erase (SANICAP bit 1)"),
        _nvme_sanitize(SanitizeAction.BLOCK_ERASE)),
    _fw("nvme-sanitize-overwrite", "NVMe sanitize, overwrite",
        "Sanitize (SANACT=3): one firmware overwrite pass of zeros.",
        _levels(nvme=P), BOTH, Expect.ZEROS, (Transport.NVME,),
        checks.nvme("sanitize_overwrite", "Sanitize overwrite (SANICAP bit 2)"),
        _nvme_sanitize(SanitizeAction.OVERWRITE)),
    _fw("nvme-format-crypto", "NVMe format, cryptographic erase (SES=2)",
        "Format NVM per namespace with SES=2. Purge in Rev. 1, 'clear, possible purge' in "
        "IEEE 2883: recorded as Clear.",
        _levels(nvme=C), STRICTER, Expect.CHANGED, (Transport.NVME,),
        checks.nvme_format(crypto=True), _nvme_format(2)),
    _fw("nvme-format", "NVMe format, user data erase (SES=1)",
        "Format NVM per namespace with SES=1. Purge in Rev. 1, Clear in IEEE 2883: Clear.",
        _levels(nvme=C), STRICTER, Expect.CHANGED, (Transport.NVME,),
        checks.nvme_format(crypto=False), _nvme_format(1)),
    _fw("ata-sanitize-crypto", "ATA sanitize, crypto scramble",
        "SANITIZE CRYPTO SCRAMBLE EXT: the drive changes its internal encryption key.",
        _levels(ssd=P, hdd=P), BOTH, Expect.CHANGED, ATA_TRANSPORTS,
        checks.ata_sanitize("sanitize_crypto", "CRYPTO_SCRAMBLE_EXT"), _ata_sanitize("crypto")),
    _fw("ata-sanitize-block", "ATA sanitize, block erase",
        "SANITIZE BLOCK ERASE EXT: every flash block erased, including spare area.",
        _levels(ssd=P, hdd=P), BOTH, Expect.CHANGED, ATA_TRANSPORTS,
        checks.ata_sanitize("sanitize_block", "BLOCK_ERASE_EXT"), _ata_sanitize("block")),
    _fw("ata-sanitize-overwrite", "ATA sanitize, overwrite",
        "SANITIZE OVERWRITE EXT with a zero pattern. Rev. 1 Table A-8 does not list it for "
        "SSDs: Clear there, Purge on HDDs.",
        _levels(hdd=P, ssd=C), STRICTER, Expect.ZEROS, ATA_TRANSPORTS,
        checks.ata_sanitize("sanitize_overwrite", "OVERWRITE_EXT"), _ata_sanitize("overwrite")),
    _fw("ata-secure-erase-enhanced", "ATA enhanced security erase",
        "SECURITY SET PASSWORD + ERASE UNIT (enhanced); the password is always removed again. "
        "Purge on HDDs; on SSDs Rev. 1 says Clear (IEEE 2883: purge): Clear.",
        _levels(hdd=P, ssd=C, flash=C), STRICTER, Expect.CHANGED, ATA_TRANSPORTS,
        checks.ata_security(True), _ata_security(True)),
    _fw("ata-secure-erase", "ATA security erase (normal)",
        "SECURITY ERASE UNIT (normal): user LBAs only, replaced by 0s or 1s. Clear.",
        _levels(hdd=C, ssd=C, flash=C), BOTH, Expect.CHANGED, ATA_TRANSPORTS,
        checks.ata_security(False), _ata_security(False)),
    _fw("ata-erase-password", "ATA security erase with the operator's password (locked drive)",
        "SECURITY ERASE UNIT with the user or master password the operator gives (a drive left "
        "locked by its previous owner); enhanced where the drive supports it; security is read "
        "back as disabled. Purge on HDDs with enhanced erase; otherwise Clear.",
        _levels(hdd=P, ssd=C, flash=C), STRICTER, Expect.CHANGED, ATA_TRANSPORTS,
        checks.ata_password, _needs_secret),
    _fw("tcg-psid-revert", "TCG PSID revert (self-encrypting drive)",
        "Revert by the PSID authority (the 32 characters on the drive's label), through the "
        "kernel's sed-opal: the drive makes new media keys, a cryptographic erase (Purge on an "
        "encrypting SSC, Clear on Pyrite); opens a locked SED.",
        _levels(hdd=P, ssd=P, nvme=P), BOTH, Expect.CHANGED, TCG_TRANSPORTS,
        checks.tcg_psid, _needs_secret),
    _fw("scsi-sanitize-crypto", "SCSI sanitize, cryptographic erase",
        "SANITIZE service action CRYPTOGRAPHIC ERASE.",
        _levels(hdd=P, ssd=P), BOTH, Expect.CHANGED, SCSI_OR_USB,
        checks.scsi("sanitize_crypto", "SANITIZE (48h) crypto erase"), _scsi_sanitize("crypto")),
    _fw("scsi-sanitize-block", "SCSI sanitize, block erase",
        "SANITIZE service action BLOCK ERASE.",
        _levels(hdd=P, ssd=P), BOTH, Expect.CHANGED, SCSI_OR_USB,
        checks.scsi("sanitize_block", "SANITIZE (48h) block erase"), _scsi_sanitize("block")),
    _fw("scsi-sanitize-overwrite", "SCSI sanitize, overwrite",
        "SANITIZE service action OVERWRITE with zeros.",
        _levels(hdd=P, ssd=C), STRICTER, Expect.ZEROS, SCSI_OR_USB,
        checks.scsi("sanitize_overwrite", "SANITIZE (48h) overwrite"),
        _scsi_sanitize("overwrite")),
    _fw("scsi-format", "SCSI format unit",
        "FORMAT UNIT (native SAS: Clear; through a SAT translator it may be a no-op, which "
        "verification catches).",
        _levels(hdd=C, ssd=C), BOTH, Expect.CHANGED, SCSI_TRANSPORTS,
        checks.scsi("format_unit", "FORMAT UNIT (04h)"), _scsi_format),
    _fw("scsi-format-512", "SCSI format unit to 512-byte sectors",
        "For a drive from an array (520/528-byte sectors, shown as 0 bytes): a long FORMAT UNIT "
        "to 512-byte blocks without protection information (sg_format --size=512), read back "
        "as zeros. auto and every other method run it first on such a drive.",
        _levels(hdd=C, ssd=C), BOTH, Expect.ZEROS, SCSI_TRANSPORTS, _nonstandard, _reformat),
    _fw("blkdiscard", "Discard (TRIM/UNMAP/deallocate) + zero read-back",
        "BLKDISCARD over the whole device, then every sampled LBA must read zeros. Clear only "
        "where discard is the documented Clear (virtual and thin-provisioned disks).",
        EVERY_MEDIUM_CLEAR, R1, Expect.ZEROS, ALL,
        checks.queue("discard", "discard support"), _ioctl(blkdev.BLKDISCARD)),
    _fw("blkzeroout", "Write zeroes (BLKZEROOUT)",
        "The kernel zeroes every LBA (Write Zeroes/WRITE SAME offload, or written zeros).",
        EVERY_MEDIUM_CLEAR, R1, Expect.ZEROS, ALL, checks.always, _ioctl(blkdev.BLKZEROOUT)),
    _fw("blksecdiscard", "Secure discard (eMMC/SD)",
        "BLKSECDISCARD: the card erases all copies of the discarded blocks.",
        _levels(flash=C), R1, Expect.CHANGED, (Transport.MMC,),
        checks.mmc_only, _ioctl(blkdev.BLKSECDISCARD)),
    _fw("mmc-sanitize", "eMMC sanitize (trim or erase, then SANITIZE)",
        "mmc erase trim (legacy erase without SEC_GB_CL_EN) over the whole user area, then mmc "
        "sanitize: the eMMC removes every unmapped block physically (eMMC 4.5+, SEC_SANITIZE). "
        "A purge by JEDEC's definition; NIST SP 800-88 Rev. 1 names no eMMC purge command "
        "(Destroy): recorded as Clear. Boot partitions and RPMB are not erased (recorded).",
        _levels(flash=C), R1, Expect.CHANGED, (Transport.MMC,),
        checks.emmc(0x40, "sanitize (SEC_SANITIZE)", min_rev=6), _emmc_sanitize),
    _fw("mmc-secure-erase", "eMMC secure erase (CMD38 0x80000000)",
        "mmc erase secure-erase over the whole user area: the eMMC erases every copy of the "
        "data, including mapped-out ones (SEC_ER_EN). Clear (Rev. 1: no eMMC purge command).",
        _levels(flash=C), R1, Expect.CHANGED, (Transport.MMC,),
        checks.emmc(0x01, "secure erase (SEC_ER_EN)"), _emmc_erase(mmc.EraseKind.SECURE_ERASE)),
    _fw("mmc-secure-trim", "eMMC secure trim (CMD38 0x80000001, then 0x80008000)",
        "mmc erase secure-trim1 then secure-trim2 over the whole user area (SEC_ER_EN and "
        "SEC_GB_CL_EN). Clear (Rev. 1: no eMMC purge command).",
        _levels(flash=C), R1, Expect.CHANGED, (Transport.MMC,),
        checks.emmc(0x11, "secure trim (SEC_ER_EN + SEC_GB_CL_EN)"),
        _emmc_erase(mmc.EraseKind.SECURE_TRIM1, mmc.EraseKind.SECURE_TRIM2)),
    replace(_fw("mmc-discard-overwrite", "Discard, then verified overwrite (SD card / eMMC)",
        "BLKDISCARD over the whole card, then one random pass and a zero pass verified by "
        "read-back (the Clear profile): for SD cards (no secure erase) and eMMCs without one.",
        _levels(flash=C), NIST, Expect.ZEROS, (Transport.MMC,),
        checks.queue("discard", "discard support"), _discard_overwrite), passes=2),
)  # fmt: skip

BY_NAME: Mapping[str, Method] = MappingProxyType({m.name: m for m in METHODS})


def get(name: str) -> Method:
    """The method called ``name`` (``overwrite-byte:0xNN`` is made on the spot).

    Raises:
        UnsupportedError: no such method.
    """
    if name.startswith("overwrite-byte:"):
        return byte_method(name)
    try:
        return BY_NAME[name]
    except KeyError:
        known = ", ".join(sorted(BY_NAME))
        raise UnsupportedError(f"unknown method {name!r}; known methods: {known}") from None


def known(name: str) -> bool:
    """Whether ``name`` is a method (so a typo in a config is an error, not a surprise)."""
    try:
        get(name)
    except UnsupportedError:
        return False
    return True


def all_methods() -> tuple[Method, ...]:
    return METHODS


def byte_method(name: str) -> Method:
    """``overwrite-byte:0xNN``: one pass of a constant byte."""
    raw = name.split(":", 1)[1]
    try:
        byte = int(raw, 0)
        pat = constant(byte)
    except ValueError as e:
        raise UnsupportedError(f"{name}: expected a byte like 0x5a ({e})") from None
    return _overwrite(
        f"overwrite-byte:0x{byte:02x}",
        f"Overwrite with 0x{byte:02x}",
        "One pass of a constant byte.",
        (pat,),
        Expectation(Expect.BYTE, byte),
    )
