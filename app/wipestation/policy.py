"""Which erase a drive gets: the firmware methods, their level per medium, and ``auto``.

Why here and nowhere else: "is this drive purged?" must have one answer with its reasons. Each
method carries the NIST SP 800-88 level it reaches per medium, recorded by the **stricter** of
Rev. 1 Appendix A and IEEE 2883-2022 (as Seagate's openSeaChest classifies it) where they
disagree (reference/standards.md §0.2, §1.2): ATA enhanced security erase is Clear on flash,
NVMe Format SES=1/2 is Clear. ``auto`` picks the strongest Purge the drive *reports* it supports
(probe.py), refuses nothing silently (every skipped candidate is a reason in the plan), and
falls back to a verified overwrite (Clear) when the firmware command is refused, fails, times out
or leaves data behind. A named method the drive cannot run is refused before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from wipestation import methods
from wipestation.engine import firmware_steps as fw
from wipestation.engine.plan import Expect, Expectation, Plan, Step
from wipestation.errors import UnsupportedError
from wipestation.model import Drive, Transport
from wipestation.probe import Capabilities, probe_cached
from wipestation.tools import blkdev
from wipestation.tools.nvme import SanitizeAction, controller_of

R1 = "NIST SP 800-88 Rev. 1 Appendix A"
IEEE = "IEEE 2883-2022 (openSeaChest classification)"
BOTH = f"{R1} and {IEEE} agree"
STRICTER = f"stricter of {R1} and {IEEE}"
FALLBACK_METHOD = "nist-clear"

ATA_TRANSPORTS = (Transport.SATA, Transport.USB)
SCSI_TRANSPORTS = (Transport.SAS, Transport.SCSI)
ALL = tuple(Transport)


@dataclass(frozen=True)
class PolicyOptions:
    reset_hpa: bool = True
    reset_dco: bool = True
    #: one rtcwake -m mem cycle for a frozen ATA drive, only when S3 ("deep") is offered
    unfreeze: bool = True


OPTIONS = PolicyOptions()

Check = Callable[[Capabilities], str]
Steps = Callable[[Drive, Capabilities], tuple[Step, ...]]


@dataclass(frozen=True)
class FirmwareMethod:
    name: str
    title: str
    description: str
    levels: dict[str, str]  # methods.MEDIA key → "clear" | "purge"
    standard: str
    expect: Expect
    transports: tuple[Transport, ...]
    check: Check  # "" when the drive supports it, else the reason it is refused
    steps: Steps


# ---- support checks (pure: Capabilities → reason or "") ------------------------------------


def _usb_gate(c: Capabilities) -> str:
    if c.transport == "usb" and not c.usb_passthrough:
        return (
            f"USB bridge {c.usb_id or '(unknown VID:PID)'} is not on the pass-through allow-list: "
            "firmware commands through USB bridges are unreliable and can brick drives"
        )
    return ""


def _nvme(flag: str, what: str, all_ns: bool = True) -> Check:
    def check(c: Capabilities) -> str:
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


def _nvme_format(crypto: bool) -> Check:
    base = _nvme("format_supported", "Format NVM (OACS bit 1)", all_ns=False)

    def check(c: Capabilities) -> str:
        why = base(c)
        if why or not c.nvme:
            return why
        if crypto and not c.nvme.crypto_format_supported:
            return f"FNA 0x{c.nvme.fna:x} does not offer cryptographic erase in Format"
        if c.nvme.format_applies_to_all_namespaces and len(c.namespaces) > 1:
            return "Format applies to every namespace of this controller (FNA bit 0)"
        return ""

    return check


def _ata_sanitize(flag: str, what: str) -> Check:
    def check(c: Capabilities) -> str:
        why = _usb_gate(c)
        if why:
            return why
        if c.ata is None:
            return "no ATA identify data (hdparm -I gave none)"
        if not c.ata.sanitize_supported or not getattr(c.ata, flag):
            return f"hdparm -I does not list the SANITIZE feature set with {what}"
        return ""

    return check


def _ata_security(enhanced: bool, opts: PolicyOptions | None = None) -> Check:
    def check(c: Capabilities) -> str:
        o = opts or OPTIONS
        why = _usb_gate(c)
        if why:
            return why
        sec = c.ata.security if c.ata else None
        if sec is None or not sec.supported:
            return "hdparm -I shows no supported Security feature set"
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


def _scsi(flag: str, what: str) -> Check:
    def check(c: Capabilities) -> str:
        why = _usb_gate(c)
        if why:
            return why
        if c.scsi_opcodes is None:
            return "sg_opcodes gave no list of supported commands"
        if not getattr(c.scsi_opcodes, flag):
            return f"REPORT SUPPORTED OPERATION CODES does not list {what}"
        return ""

    return check


def _queue(flag: str, what: str) -> Check:
    def check(c: Capabilities) -> str:
        if c.queue is None or not getattr(c.queue, flag):
            return f"the kernel reports no {what} for this device (sysfs queue limits)"
        return ""

    return check


def _always(c: Capabilities) -> str:
    return ""


def _mmc_only(c: Capabilities) -> str:
    return "" if c.transport == "mmc" else "BLKSECDISCARD is offered for eMMC/SD only"


# ---- step builders --------------------------------------------------------------------------


def _ata_prepare(d: Drive, c: Capabilities, opts: PolicyOptions | None = None) -> tuple[Step, ...]:
    o = opts or OPTIONS
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
    return (fw.ScsiFormatStep(dev=d.path, size=512, kind="prepare"),)


def _nvme_sanitize_steps(action: SanitizeAction) -> Steps:
    return lambda d, c: (fw.NvmeSanitizeStep(ctrl=controller_of(d.path), action=action),)


def _nvme_format_steps(ses: int) -> Steps:
    return lambda d, c: (
        fw.NvmeFormatStep(
            ctrl=controller_of(d.path), namespaces=c.namespaces or (d.path,), ses=ses
        ),
    )


def _ata_sanitize_steps(mode: str) -> Steps:
    return lambda d, c: (*_ata_prepare(d, c), fw.AtaSanitizeStep(dev=d.path, mode=mode))


def _ata_security_steps(enhanced: bool) -> Steps:
    def steps(d: Drive, c: Capabilities) -> tuple[Step, ...]:
        sec = c.ata.security if c.ata else None
        minutes = (sec.enhanced_erase_minutes if enhanced else sec.erase_minutes) if sec else None
        timeout = max(600.0, 2 * 60.0 * minutes) if minutes else 4 * 3600.0
        erase = fw.AtaSecurityEraseStep(dev=d.path, enhanced=enhanced, erase_timeout_s=timeout)
        return (*_unfreeze(d, c), *_ata_prepare(d, c), erase)

    return steps


def _scsi_sanitize_steps(mode: str) -> Steps:
    return lambda d, c: (*_scsi_prepare(d, c), fw.ScsiSanitizeStep(dev=d.path, mode=mode))


def _ioctl_steps(request: int) -> Steps:
    return lambda d, c: (fw.BlockIoctlStep(request=request),)


# ---- the method table -----------------------------------------------------------------------

P, C = "purge", "clear"


def _lv(**kw: str) -> dict[str, str]:
    return dict(kw)


METHODS: tuple[FirmwareMethod, ...] = (
    FirmwareMethod("nvme-sanitize-crypto", "NVMe sanitize, crypto erase",
        "Sanitize (SANACT=4): the controller destroys its media keys, whole controller.",
        _lv(nvme=P), BOTH, Expect.CHANGED, (Transport.NVME,),
        _nvme("sanitize_crypto", "Sanitize crypto erase (SANICAP bit 0)"),
        _nvme_sanitize_steps(SanitizeAction.CRYPTO_ERASE)),
    FirmwareMethod("nvme-sanitize-block", "NVMe sanitize, block erase",
        "Sanitize (SANACT=2): every NAND block erased, including spare area.",
        _lv(nvme=P), BOTH, Expect.CHANGED, (Transport.NVME,),
        _nvme("sanitize_block", "Sanitize block erase (SANICAP bit 1)"),
        _nvme_sanitize_steps(SanitizeAction.BLOCK_ERASE)),
    FirmwareMethod("nvme-sanitize-overwrite", "NVMe sanitize, overwrite",
        "Sanitize (SANACT=3): one firmware overwrite pass of zeros.",
        _lv(nvme=P), BOTH, Expect.ZEROS, (Transport.NVME,),
        _nvme("sanitize_overwrite", "Sanitize overwrite (SANICAP bit 2)"),
        _nvme_sanitize_steps(SanitizeAction.OVERWRITE)),
    FirmwareMethod("nvme-format-crypto", "NVMe format, cryptographic erase (SES=2)",
        "Format NVM per namespace with SES=2. Purge in Rev. 1, 'clear, possible purge' in "
        "IEEE 2883: recorded as Clear.",
        _lv(nvme=C), STRICTER, Expect.CHANGED, (Transport.NVME,),
        _nvme_format(crypto=True), _nvme_format_steps(2)),
    FirmwareMethod("nvme-format", "NVMe format, user data erase (SES=1)",
        "Format NVM per namespace with SES=1. Purge in Rev. 1, Clear in IEEE 2883: Clear.",
        _lv(nvme=C), STRICTER, Expect.CHANGED, (Transport.NVME,),
        _nvme_format(crypto=False), _nvme_format_steps(1)),
    FirmwareMethod("ata-sanitize-crypto", "ATA sanitize, crypto scramble",
        "SANITIZE CRYPTO SCRAMBLE EXT: the drive changes its internal encryption key.",
        _lv(ssd=P, hdd=P), BOTH, Expect.CHANGED, ATA_TRANSPORTS,
        _ata_sanitize("sanitize_crypto", "CRYPTO_SCRAMBLE_EXT"), _ata_sanitize_steps("crypto")),
    FirmwareMethod("ata-sanitize-block", "ATA sanitize, block erase",
        "SANITIZE BLOCK ERASE EXT: every flash block erased, including spare area.",
        _lv(ssd=P, hdd=P), BOTH, Expect.CHANGED, ATA_TRANSPORTS,
        _ata_sanitize("sanitize_block", "BLOCK_ERASE_EXT"), _ata_sanitize_steps("block")),
    FirmwareMethod("ata-sanitize-overwrite", "ATA sanitize, overwrite",
        "SANITIZE OVERWRITE EXT with a zero pattern. Rev. 1 Table A-8 does not list it for "
        "SSDs: Clear there, Purge on HDDs.",
        _lv(hdd=P, ssd=C), STRICTER, Expect.ZEROS, ATA_TRANSPORTS,
        _ata_sanitize("sanitize_overwrite", "OVERWRITE_EXT"), _ata_sanitize_steps("overwrite")),
    FirmwareMethod("ata-secure-erase-enhanced", "ATA enhanced security erase",
        "SECURITY SET PASSWORD + ERASE UNIT (enhanced); the password is always removed again. "
        "Purge on HDDs; on SSDs Rev. 1 says Clear (IEEE 2883: purge): Clear.",
        _lv(hdd=P, ssd=C, flash=C), STRICTER, Expect.CHANGED, ATA_TRANSPORTS,
        _ata_security(True), _ata_security_steps(True)),
    FirmwareMethod("ata-secure-erase", "ATA security erase (normal)",
        "SECURITY ERASE UNIT (normal): user LBAs only, replaced by 0s or 1s. Clear.",
        _lv(hdd=C, ssd=C, flash=C), BOTH, Expect.CHANGED, ATA_TRANSPORTS,
        _ata_security(False), _ata_security_steps(False)),
    FirmwareMethod("scsi-sanitize-crypto", "SCSI sanitize, cryptographic erase",
        "SANITIZE service action CRYPTOGRAPHIC ERASE.",
        _lv(hdd=P, ssd=P), BOTH, Expect.CHANGED, SCSI_TRANSPORTS + (Transport.USB,),
        _scsi("sanitize_crypto", "SANITIZE (48h) crypto erase"), _scsi_sanitize_steps("crypto")),
    FirmwareMethod("scsi-sanitize-block", "SCSI sanitize, block erase",
        "SANITIZE service action BLOCK ERASE.",
        _lv(hdd=P, ssd=P), BOTH, Expect.CHANGED, SCSI_TRANSPORTS + (Transport.USB,),
        _scsi("sanitize_block", "SANITIZE (48h) block erase"), _scsi_sanitize_steps("block")),
    FirmwareMethod("scsi-sanitize-overwrite", "SCSI sanitize, overwrite",
        "SANITIZE service action OVERWRITE with zeros.",
        _lv(hdd=P, ssd=C), STRICTER, Expect.ZEROS, SCSI_TRANSPORTS + (Transport.USB,),
        _scsi("sanitize_overwrite", "SANITIZE (48h) overwrite"), _scsi_sanitize_steps("overwrite")),
    FirmwareMethod("scsi-format", "SCSI format unit",
        "FORMAT UNIT (native SAS: Clear; through a SAT translator it may be a no-op, which "
        "verification catches).",
        _lv(hdd=C, ssd=C), BOTH, Expect.CHANGED, SCSI_TRANSPORTS,
        _scsi("format_unit", "FORMAT UNIT (04h)"),
        lambda d, c: (fw.ScsiFormatStep(dev=d.path, size=512 if c.nonstandard_sectors else None),)),
    FirmwareMethod("blkdiscard", "Discard (TRIM/UNMAP/deallocate) + zero read-back",
        "BLKDISCARD over the whole device, then every sampled LBA must read zeros. Clear only "
        "where discard is the documented Clear (virtual and thin-provisioned disks).",
        _lv(hdd=C, ssd=C, nvme=C, flash=C), R1, Expect.ZEROS, ALL,
        _queue("discard", "discard support"), _ioctl_steps(blkdev.BLKDISCARD)),
    FirmwareMethod("blkzeroout", "Write zeroes (BLKZEROOUT)",
        "The kernel zeroes every LBA (Write Zeroes/WRITE SAME offload, or written zeros).",
        _lv(hdd=C, ssd=C, nvme=C, flash=C), R1, Expect.ZEROS, ALL,
        _always, _ioctl_steps(blkdev.BLKZEROOUT)),
    FirmwareMethod("blksecdiscard", "Secure discard (eMMC/SD)",
        "BLKSECDISCARD: the card erases all copies of the discarded blocks.",
        _lv(flash=C), R1, Expect.CHANGED, (Transport.MMC,),
        _mmc_only, _ioctl_steps(blkdev.BLKSECDISCARD)),
)  # fmt: skip

BY_NAME = {m.name: m for m in METHODS}

#: auto: the candidates, strongest first, per interface and medium (issue 4 "Policy").
AUTO_ORDER: dict[str, tuple[str, ...]] = {
    "nvme": ("nvme-sanitize-crypto", "nvme-sanitize-block", "nvme-format-crypto", "nvme-format"),
    "ata-ssd": ("ata-sanitize-crypto", "ata-sanitize-block"),
    "ata-hdd": ("ata-sanitize-overwrite", "ata-sanitize-crypto", "ata-secure-erase-enhanced"),
    "scsi": ("scsi-sanitize-crypto", "scsi-sanitize-block", "scsi-sanitize-overwrite"),
}


# ---- plans ---------------------------------------------------------------------------------


def medium_key(drive: Drive, caps: Capabilities) -> str:
    """Capabilities' medium → the key of ``levels`` (methods.MEDIA)."""
    return {"usb-flash": "flash", "virtual": methods.medium_of(drive)}.get(caps.medium, caps.medium)


def interface_of(drive: Drive, caps: Capabilities) -> str:
    t = drive.transport
    if t == Transport.NVME:
        return "nvme"
    if t == Transport.SATA or (t == Transport.USB and caps.usb_passthrough and caps.ata):
        return "ata-hdd" if caps.medium == "hdd" else "ata-ssd"
    if t in SCSI_TRANSPORTS:
        return "scsi"
    return ""


def refusal(method: FirmwareMethod, drive: Drive, caps: Capabilities) -> str:
    """Why ``method`` cannot run on this drive, or ''."""
    if drive.transport not in method.transports:
        return f"{method.name} needs a {'/'.join(map(str, method.transports))} drive"
    why = method.check(caps)
    if why:
        return why
    if method.levels.get(medium_key(drive, caps)) is None:
        return f"{method.name} has no defined result on {caps.medium} media"
    return ""


def overwrite_plan(drive: Drive, verify: str, caps: Capabilities | None = None) -> Plan:
    """The verified overwrite every firmware plan falls back to."""
    plan = methods.get(FALLBACK_METHOD).plan(drive, verify)
    notes = list(plan.reasons)
    if caps and caps.hpa and caps.hpa.hidden_sectors:
        notes.append(
            f"HPA hides {caps.hpa.hidden_sectors} sectors an overwrite cannot reach (recorded)"
        )
    return replace(plan, reasons=tuple(notes))


def firmware_plan(
    method: FirmwareMethod, drive: Drive, caps: Capabilities, verify: str, fallback: Plan | None
) -> Plan:
    why = refusal(method, drive, caps)
    if why:
        raise UnsupportedError(f"{method.name} refused for {drive.path}: {why}")
    level = method.levels[medium_key(drive, caps)]
    expect = Expectation(method.expect if verify != "none" else Expect.NOTHING)
    return Plan(
        method=method.name,
        level=level,
        standard=f"{method.standard}: {level} on {caps.medium}",
        steps=method.steps(drive, caps),
        expect=expect,
        verify=verify,
        fallback=fallback,
        reasons=(f"{method.name}: the drive reports support; {method.description}",),
    )


def auto_plan(drive: Drive, caps: Capabilities, verify: str) -> Plan:
    """The strongest supported Purge for the drive's interface, else a verified overwrite."""
    fallback = overwrite_plan(drive, verify, caps)
    iface = interface_of(drive, caps)
    reasons = [f"auto: interface {iface or drive.transport}, medium {caps.medium}"]
    if drive.transport == Transport.USB and not caps.usb_passthrough:
        reasons.append(_usb_gate(caps))
    for name in AUTO_ORDER.get(iface, ()):
        why = refusal(BY_NAME[name], drive, caps)
        if why:
            reasons.append(f"skipped {name}: {why}")
            continue
        plan = firmware_plan(BY_NAME[name], drive, caps, verify, fallback)
        reasons.append(f"chose {name} ({plan.level}); fallback: {FALLBACK_METHOD} (clear)")
        # The plan keeps the chosen method's name: results, fallback lines and the report say
        # what ran ("auto" stays the job's requested method).
        return replace(plan, reasons=(*reasons, *plan.reasons))
    reasons.append(f"no firmware purge available: {FALLBACK_METHOD} (verified overwrite, clear)")
    return replace(fallback, reasons=(*reasons, *fallback.reasons))


def plan_for(drive: Drive, name: str, verify: str, caps: Capabilities) -> Plan:
    """The plan for a named firmware method or ``auto`` (pure given ``caps``)."""
    if name == "auto":
        return auto_plan(drive, caps, verify)
    return firmware_plan(BY_NAME[name], drive, caps, verify, fallback=None)


# ---- registration --------------------------------------------------------------------------


def _builder(name: str) -> methods.PlanBuilder:
    return lambda drive, verify: plan_for(drive, name, verify, probe_cached(drive))


def register_all() -> None:
    for m in METHODS:
        methods.register(
            methods.Method(
                name=m.name,
                title=m.title,
                description=m.description,
                levels=dict(m.levels),
                standard=m.standard,
                passes=1,
                transports=m.transports,
                builder=_builder(m.name),
            )
        )
    methods.register(
        methods.Method(
            name="auto",
            title="Automatic (strongest supported purge)",
            description="The strongest firmware Purge the drive reports, proven by read-back; "
            "a verified overwrite (Clear) when there is none or it fails.",
            # The level guaranteed whichever plan runs; the plan that passed has the real one
            # (Plan.level) — the engine should report that (see the policy README section).
            levels={"nvme": C, "ssd": C, "hdd": C, "flash": C},
            standard=STRICTER,
            passes=1,
            transports=ALL,
            builder=_builder("auto"),
        )
    )


register_all()
