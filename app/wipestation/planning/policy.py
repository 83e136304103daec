"""Which erase a drive gets: ``plan(drive, caps, method, verify)`` — pure, given the probe.

Why here and nowhere else: "is this drive purged?" must have one answer with its reasons.
``auto`` picks the strongest Purge the drive *reports* it supports (``AUTO_ORDER``: NVMe sanitize
crypto → block → format; ATA sanitize; SCSI sanitize), refuses nothing silently (every skipped
candidate is a reason in the plan), and falls back to a verified overwrite (Clear) when the
firmware command is refused, fails, times out or leaves data behind. A named method the drive
cannot run is refused before anything is written. The steps themselves run in ``steps/``.
"""

from __future__ import annotations

from dataclasses import replace

from wipestation.discovery.controllers import not_a_drive
from wipestation.discovery.identity import probe_disagreement
from wipestation.errors import UnsupportedError
from wipestation.model import (
    VERIFY_MODES,
    Drive,
    DriveFacts,
    HiddenAreas,
    SectorFormat,
    Transport,
    VerifyMode,
)
from wipestation.planning import catalogue, health, locks
from wipestation.planning.capabilities import Capabilities
from wipestation.planning.catalogue import Method, MethodKind
from wipestation.planning.checks import DEFAULT_OPTIONS, PolicyOptions, usb_gate
from wipestation.planning.medium import Medium, medium_of
from wipestation.steps.plan import Expect, Expectation, Plan
from wipestation.steps.secret import Secret
from wipestation.steps.sector_format import SectorReformatStep

FALLBACK_METHOD = "nist-clear"

#: auto: the candidates, strongest first, per interface.
AUTO_ORDER: dict[str, tuple[str, ...]] = {
    "nvme": ("nvme-sanitize-crypto", "nvme-sanitize-block", "nvme-format-crypto", "nvme-format"),
    "ata-ssd": ("ata-sanitize-crypto", "ata-sanitize-block"),
    "ata-hdd": ("ata-sanitize-overwrite", "ata-sanitize-crypto", "ata-secure-erase-enhanced"),
    "scsi": ("scsi-sanitize-crypto", "scsi-sanitize-block", "scsi-sanitize-overwrite"),
    "emmc": ("mmc-sanitize", "mmc-secure-erase", "mmc-secure-trim", "mmc-discard-overwrite"),
    "sd": ("mmc-discard-overwrite",),
}


def plan(
    drive: Drive,
    caps: Capabilities,
    method: str,
    verify: VerifyMode,
    options: PolicyOptions = DEFAULT_OPTIONS,
    secret: Secret | None = None,
) -> Plan:
    """The plan for ``method`` on ``drive``, with the probe's facts for the record.

    ``secret``: the password or PSID the operator gave for this drive (``planning/locks.py``).

    Raises:
        UnsupportedError: unknown method, bad verify mode, or the drive cannot run it (a locked
            drive without its secret: the refusal says what the operator can do).
    """
    if verify not in VERIFY_MODES:
        raise UnsupportedError(f"verify must be one of {', '.join(VERIFY_MODES)}, not {verify!r}")
    m = catalogue.get(method)
    if drive.transport not in m.transports:
        raise UnsupportedError(f"{m.name} is not supported on {drive.transport} drives")
    if m.kind == MethodKind.AUTO and not_a_drive(drive):
        raise UnsupportedError(f"auto plans nothing for {drive.path}: {not_a_drive(drive)}")
    if drive.size_bytes <= 0 and not caps.nonstandard_sectors:
        raise UnsupportedError(empty_drive(drive, caps))
    lock = locks.lock_of(caps)
    if m.kind == MethodKind.AUTO and lock and secret is not None:
        m = catalogue.get(locks.method_for(secret))
    if m.name in locks.SECRET_METHODS:
        chosen = locks.secret_plan(m, drive, caps, verify, secret, refusal(m, drive, caps, options))
        chosen = replace(chosen, reasons=(*locks.lock_reason(method, lock), *chosen.reasons))
    elif lock:
        raise UnsupportedError(f"{drive.path}: {lock}; {m.name} was not planned")
    elif m.kind == MethodKind.AUTO:
        chosen = auto_plan(drive, caps, verify, options)
    elif m.kind == MethodKind.OVERWRITE:
        chosen = overwrite_plan(m, verify)
    else:
        chosen = firmware_plan(m, drive, caps, verify, None, options)
    chosen = health.shape(chosen, drive.path, caps)
    chosen = replace(chosen, reasons=(*chosen.reasons, *locks.unasked_note(drive, caps)))
    chosen = reformat_first(chosen, drive, caps)
    chosen = on_purpose(chosen, drive)
    return replace(chosen, requested=m.name, facts=facts_of(drive, caps))


def on_purpose(p: Plan, drive: Drive) -> Plan:
    """A volume or BMC medium the operator named a method for: wiped, but at no NIST level
    (the physical disks behind it are neither reached nor identified)."""
    why = not_a_drive(drive)
    if not why:
        return p
    note = f"no NIST level: {why}"
    return replace(p, level="none", standard=note, reasons=(*p.reasons, note))


def empty_drive(drive: Drive, caps: Capabilities) -> str:
    """Why a drive the kernel shows with 0 bytes gets no plan: erasing nothing proves nothing."""
    cap = f"; READ CAPACITY says {caps.readcap.describe()}" if caps.readcap else ""
    return (
        f"{drive.path} shows a size of 0 bytes{cap}: nothing can be written or verified "
        "(a SAS drive left mid-format needs FORMAT UNIT: check its sector format with sg_readcap)"
    )


def reformat_first(p: Plan, drive: Drive, caps: Capabilities) -> Plan:
    """A drive with 520/528-byte sectors is reformatted to 512 before any erase (and before
    its fallback's: the step does nothing on a drive that is already at 512)."""
    if not caps.nonstandard_sectors or caps.readcap is None:
        return p
    if usb_gate(caps):  # FORMAT UNIT is a firmware command: never through an unknown bridge
        raise UnsupportedError(
            f"{drive.path} has {caps.readcap.describe()} and needs a FORMAT UNIT to 512-byte "
            f"sectors first, which is not sent through this bridge: {usb_gate(caps)}"
        )
    fallback = reformat_first(p.fallback, drive, caps) if p.fallback else None
    steps = p.steps
    if not (steps and isinstance(steps[0], SectorReformatStep)):
        steps = (SectorReformatStep(dev=drive.path), *steps)
    why = (
        f"sector format: {caps.readcap.describe()} (Linux shows {drive.size_bytes} bytes): "
        "reformatted to 512-byte sectors first (sg_format --format --size=512, a long FORMAT "
        "UNIT with progress)"
    )
    return replace(p, steps=steps, fallback=fallback, reasons=(*p.reasons, why))


def overwrite_plan(m: Method, verify: VerifyMode) -> Plan:
    return Plan(
        method=m.name,
        level="clear",
        standard=f"{catalogue.NIST} Clear (overwrite of all user-addressable LBAs)",
        steps=catalogue.overwrite_steps(m.patterns),
        expect=m.expect if verify != "none" else Expectation(Expect.NOTHING),
        verify=verify,
        reasons=(f"{m.name}: {len(m.patterns)} overwrite pass(es), then verify={verify}",),
    )


def fallback_plan(verify: VerifyMode, caps: Capabilities) -> Plan:
    """The verified overwrite every firmware plan falls back to."""
    p = overwrite_plan(catalogue.get(FALLBACK_METHOD), verify)
    if caps.hpa and caps.hpa.hidden_sectors:
        note = f"HPA hides {caps.hpa.hidden_sectors} sectors an overwrite cannot reach (recorded)"
        return replace(p, reasons=(*p.reasons, note))
    return p


def refusal(
    m: Method, drive: Drive, caps: Capabilities, options: PolicyOptions = DEFAULT_OPTIONS
) -> str:
    """Why ``m`` cannot run on this drive, or ''."""
    if drive.transport not in m.transports:
        return f"{m.name} needs a {'/'.join(map(str, m.transports))} drive"
    why = m.check(caps, options)
    if why:
        return why
    medium = medium_of(drive, caps)
    if medium not in m.levels:
        return f"{m.name} has no defined result on {medium} media"
    return ""


def firmware_plan(
    m: Method,
    drive: Drive,
    caps: Capabilities,
    verify: VerifyMode,
    fallback: Plan | None,
    options: PolicyOptions = DEFAULT_OPTIONS,
) -> Plan:
    why = refusal(m, drive, caps, options)
    if why:
        raise UnsupportedError(f"{m.name} refused for {drive.path}: {why}")
    assert m.steps is not None, m.name  # every firmware method in the catalogue has steps
    medium = medium_of(drive, caps)
    level = m.levels[medium]
    return Plan(
        method=m.name,
        level=level,
        standard=f"{m.standard}: {level} on {medium}",
        steps=m.steps(drive, caps, options),
        expect=m.expect if verify != "none" else Expectation(Expect.NOTHING),
        verify=verify,
        fallback=fallback,
        reasons=(f"{m.name}: the drive reports support; {m.description}",),
    )


def interface_of(drive: Drive, caps: Capabilities) -> str:
    t = drive.transport
    if t == Transport.NVME:
        return "nvme"
    if t == Transport.SATA or (t == Transport.USB and caps.usb_passthrough and caps.ata):
        return "ata-hdd" if medium_of(drive, caps) == Medium.HDD else "ata-ssd"
    if t in catalogue.SCSI_TRANSPORTS:
        return "scsi"
    if t == Transport.MMC:  # a card sysfs does not call an eMMC gets no eMMC command
        return "emmc" if caps.mmc_card and caps.mmc_card.emmc else "sd"
    return ""


def auto_plan(
    drive: Drive, caps: Capabilities, verify: VerifyMode, options: PolicyOptions = DEFAULT_OPTIONS
) -> Plan:
    """The strongest supported Purge for the drive's interface, else a verified overwrite."""
    fallback = fallback_plan(verify, caps)
    iface = interface_of(drive, caps)
    reasons = [f"auto: interface {iface or drive.transport}, medium {medium_of(drive, caps)}"]
    if drive.transport == Transport.USB and not caps.usb_passthrough:
        reasons.append(usb_gate(caps))
    for name in AUTO_ORDER.get(iface, ()):
        m = catalogue.BY_NAME[name]
        why = refusal(m, drive, caps, options)
        if why:
            reasons.append(f"skipped {name}: {why}")
            continue
        chosen = firmware_plan(m, drive, caps, verify, fallback, options)
        reasons.append(f"chose {name} ({chosen.level}); fallback: {FALLBACK_METHOD} (clear)")
        # The plan keeps the chosen method's name: results, fallback lines and the report say
        # what ran ("auto" stays the job's requested method).
        return replace(chosen, reasons=(*reasons, *chosen.reasons))
    reasons.append(f"no firmware purge available: {FALLBACK_METHOD} (verified overwrite, clear)")
    return replace(fallback, reasons=(*reasons, *fallback.reasons))


def facts_of(drive: Drive, caps: Capabilities) -> DriveFacts:
    """What the record states about the drive as probed (never a reason to refuse)."""
    return DriveFacts(
        medium=str(medium_of(drive, caps)),
        health=caps.smart,
        hidden=hidden_areas(caps),
        notes=(*probe_notes(caps), *serial_notes(drive, caps)),
        sector_format=sector_format(caps),
        security=locks.security_facts(caps),
    )


def serial_notes(drive: Drive, caps: Capabilities) -> tuple[str, ...]:
    """The probe's IDENTIFY / id-ctrl serial where it is not the one discovery recorded."""
    said = [("hdparm -I", caps.ata.serial if caps.ata else "")]
    said.append(("nvme id-ctrl", caps.nvme.serial if caps.nvme else ""))
    return tuple(n for src, s in said if (n := probe_disagreement(drive.serial, src, s)))


def sector_format(caps: Capabilities) -> SectorFormat | None:
    """READ CAPACITY's word on the sector format, for the record (SCSI/SAS drives only)."""
    cap = caps.readcap
    if cap is None:
        return None
    return SectorFormat(cap.block_length, cap.blocks, cap.protection_text)


def hidden_areas(caps: Capabilities) -> HiddenAreas | None:
    hpa, dco = caps.hpa, caps.dco
    if hpa is None and dco is None:
        return None
    return HiddenAreas(
        hpa_current=hpa.current if hpa else None,
        hpa_native=hpa.native if hpa else None,
        hpa_enabled=hpa.enabled if hpa else None,
        dco_real_max=dco.real_max if dco else None,
    )


def probe_notes(caps: Capabilities) -> tuple[str, ...]:
    """Why a report has no health (or HPA/DCO) data: the probe's own notes, never a crash."""
    notes = [f"probe: {n}" for n in (*caps.availability_errors, *caps.notes)]
    if caps.smart is None:
        notes.append(f"no SMART health data for this {caps.transport} device")
    return (*notes, *card_notes(caps), *hardware_partition_notes(caps))


def card_notes(caps: Capabilities) -> tuple[str, ...]:
    """What an MMC card's own registers said: the facts its plan was chosen from."""
    card, ext = caps.mmc_card, caps.ext_csd
    if card is None:
        return ()
    if ext is not None:
        sec = f"0x{ext.sec.raw:02x}" if ext.sec else "not shown"
        count = ext.sec_count if ext.sec_count is not None else "not shown"
        return (
            f"eMMC EXT_CSD rev 1.{ext.rev} (MMC {ext.spec}): SEC_FEATURE_SUPPORT {sec}, "
            f"SEC_COUNT {count}",
        )
    if card.csd is not None and card.scr is not None:
        return (
            f"SD card: CSD structure {card.csd.structure}, SCR SD_SPEC {card.scr.sd_spec}, "
            f"DATA_STAT_AFTER_ERASE {card.scr.data_stat_after_erase}",
        )
    return (f"MMC card of type {card.type or 'unknown'} (sysfs)",)


def hardware_partition_notes(caps: Capabilities) -> tuple[str, ...]:
    """An eMMC's boot partitions and RPMB are parts of the drive no plan writes: the record
    says so (they are never listed as drives of their own)."""
    card, ext = caps.mmc_card, caps.ext_csd
    if card is None:
        return ()
    boot = f" ({ext.boot_bytes // 1024} KiB each)" if ext and ext.boot_bytes is not None else ""
    rpmb = f" ({ext.rpmb_bytes // 1024} KiB)" if ext and ext.rpmb_bytes is not None else ""
    notes = []
    if card.boot_partitions:
        notes.append(
            f"eMMC boot partitions {', '.join(card.boot_partitions)}{boot}: NOT erased "
            "(hardware partitions outside the user area; read-only by default, force_ro)"
        )
    if card.rpmb:
        notes.append(
            f"eMMC RPMB {card.rpmb}{rpmb}: NOT erased (written only with the device's "
            "authentication key)"
        )
    return tuple(notes)
