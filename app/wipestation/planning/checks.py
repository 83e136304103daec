"""Whether a drive supports a firmware method: pure functions of what the probe read.

Each check returns ``""`` when the drive reports support, else the reason in words an operator
understands. A missing answer (``None``) is a refusal, never a permission.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wipestation.planning.capabilities import Capabilities


@dataclass(frozen=True)
class PolicyOptions:
    """What a station may do to a drive before its erase (all on by default)."""

    reset_hpa: bool = True
    reset_dco: bool = True
    #: one rtcwake -m mem cycle for a frozen ATA drive, only when S3 ("deep") is offered
    unfreeze: bool = True


#: HPA/DCO removed before a firmware erase, one unfreeze attempt: what a station does unless told.
DEFAULT_OPTIONS = PolicyOptions()

Check = Callable[[Capabilities, PolicyOptions], str]


def usb_gate(c: Capabilities) -> str:
    if c.transport == "usb" and not c.usb_passthrough:
        return (
            f"USB bridge {c.usb_id or '(unknown VID:PID)'} is not on the pass-through allow-list: "
            "firmware commands through USB bridges are unreliable and can brick drives"
        )
    return ""


def nvme(flag: str, what: str, all_ns: bool = True) -> Check:
    def check(c: Capabilities, o: PolicyOptions) -> str:
        if c.nvme is None:
            return "no NVMe identify data (nvme id-ctrl failed or not an NVMe drive)"
        if not getattr(c.nvme, flag):
            return (
                f"the controller does not report {what} (SANICAP 0x{c.nvme.sanicap:x}, "
                f"FNA 0x{c.nvme.fna:x}, OACS 0x{c.nvme.oacs:x})"
            )
        if all_ns and len(c.namespaces) > 1:
            return f"it would erase all {len(c.namespaces)} namespaces of the controller"
        return ""

    return check


def nvme_format(crypto: bool) -> Check:
    base = nvme("format_supported", "Format NVM (OACS bit 1)", all_ns=False)

    def check(c: Capabilities, o: PolicyOptions) -> str:
        why = base(c, o)
        if why or not c.nvme:
            return why
        if crypto and not c.nvme.crypto_format_supported:
            return f"FNA 0x{c.nvme.fna:x} does not offer cryptographic erase in Format"
        if c.nvme.format_applies_to_all_namespaces and len(c.namespaces) > 1:
            return "Format applies to every namespace of this controller (FNA bit 0)"
        return ""

    return check


def ata_sanitize(flag: str, what: str) -> Check:
    def check(c: Capabilities, o: PolicyOptions) -> str:
        why = usb_gate(c)
        if why:
            return why
        if c.ata is None:
            return "no ATA identify data (hdparm -I gave none)"
        if not c.ata.sanitize_supported or not getattr(c.ata, flag):
            return f"hdparm -I does not list the SANITIZE feature set with {what}"
        return ""

    return check


def ata_security(enhanced: bool) -> Check:
    def check(c: Capabilities, o: PolicyOptions) -> str:
        why = usb_gate(c)
        if why:
            return why
        sec = c.ata.security if c.ata else None
        if sec is None or not sec.supported:
            return "hdparm -I shows no supported Security feature set"
        if sec.unknown:
            return f"hdparm -I security state unreadable ({', '.join(sec.unknown)} unknown)"
        if sec.enabled or sec.locked:
            return (
                "ATA security is already enabled/locked with a password this station does not know"
            )
        if sec.count_expired:
            return "the security attempt counter expired: power-cycle the drive"
        if enhanced and not sec.enhanced_supported:
            return "the drive does not support ENHANCED SECURITY ERASE"
        if sec.frozen and not (o.unfreeze and c.mem_sleep_deep):
            return (
                "ATA security is frozen (by the BIOS) and this platform offers no S3 suspend to "
                "unfreeze it: hot-replug the drive (unplug and replug it while the station runs), "
                "then probe again"
            )
        return ""

    return check


def scsi(flag: str, what: str) -> Check:
    def check(c: Capabilities, o: PolicyOptions) -> str:
        why = usb_gate(c)
        if why:
            return why
        if c.scsi_opcodes is None:
            return "sg_opcodes gave no list of supported commands"
        if not getattr(c.scsi_opcodes, flag):
            return f"REPORT SUPPORTED OPERATION CODES does not list {what}"
        return ""

    return check


def queue(flag: str, what: str) -> Check:
    def check(c: Capabilities, o: PolicyOptions) -> str:
        if c.queue is None or not getattr(c.queue, flag):
            return f"the kernel reports no {what} for this device (sysfs queue limits)"
        return ""

    return check


def always(c: Capabilities, o: PolicyOptions) -> str:
    return ""


def mmc_only(c: Capabilities, o: PolicyOptions) -> str:
    return "" if c.transport == "mmc" else "BLKSECDISCARD is offered for eMMC/SD only"


def emmc(bits: int, what: str, min_rev: int = 0) -> Check:
    """An eMMC command needs the card to say it is an eMMC, an EXT_CSD whose SEC_FEATURE_SUPPORT
    has all of ``bits``, and a SEC_COUNT (sector addresses for ``mmc erase``)."""

    def check(c: Capabilities, o: PolicyOptions) -> str:
        card, ext = c.mmc_card, c.ext_csd
        if card is None or not card.emmc:
            kind = card.type if card and card.type else "unknown"
            return f"not an eMMC (sysfs card type: {kind}): {what} is an eMMC command"
        if ext is None or ext.sec is None:
            return "no EXT_CSD SEC_FEATURE_SUPPORT (mmc extcsd read failed or did not show it)"
        if ext.sec.raw & bits != bits:
            return f"EXT_CSD SEC_FEATURE_SUPPORT 0x{ext.sec.raw:02x} does not offer {what}"
        if ext.rev < min_rev:
            return f"EXT_CSD rev 1.{ext.rev} is older than the first with {what}"
        if not ext.block_addressed:
            return "EXT_CSD gives no SEC_COUNT: the erase range is unknown"
        return ""

    return check


def ata_password(c: Capabilities, o: PolicyOptions) -> str:
    """SECURITY ERASE UNIT with the operator's password: security must be set (enabled, usually
    locked) and the drive must still take an attempt."""
    why = usb_gate(c)
    if why:
        return why
    sec = c.ata.security if c.ata else None
    if sec is None or not sec.supported:
        return "hdparm -I shows no supported Security feature set"
    if sec.enabled is not True:
        return "ATA security is not enabled (no password set): nothing to erase with a password"
    if sec.count_expired is not False:
        return (
            "expired: security count: the drive refuses passwords until it is power-cycled"
            if sec.count_expired
            else "hdparm -I: the security attempt counter cannot be read"
        )
    if sec.frozen and not sec.locked:
        return "ATA security is frozen: hot-replug the drive, then probe again"
    return ""


def tcg_psid(c: Capabilities, o: PolicyOptions) -> str:
    """A PSID revert through the kernel: the drive must report an Opal SSC with locking."""
    why = usb_gate(c)
    if why:
        return why
    if c.tcg is None:
        return "no TCG Level 0 Discovery answer: not a self-encrypting drive, or not askable"
    if c.tcg.locking is None or not c.tcg.locking.supported:
        return "its TCG Level 0 Discovery shows no (supported) Locking feature"
    if c.tcg.primary not in ("Opal 2", "Opal 1"):
        ssc = c.tcg.primary or "an SSC the response did not show"
        return f"the kernel's sed-opal reverts Opal 1/2 drives only (this one reports {ssc})"
    return ""
