"""Drives and capabilities built from real captured tool output, for the policy tests."""

from __future__ import annotations

from dataclasses import replace

from wipestation.model import Drive, IdentitySource, Transport
from wipestation.planning.capabilities import Capabilities
from wipestation.tools import blkdev, hdparm, nvme, sg

from tests.tools.fakes import fixture

QUEUE_SSD = blkdev.QueueLimits(2147483136, 512, 524288, 512, False)
QUEUE_NONE = blkdev.QueueLimits(0, 0, 0, 512, True)


def drive(transport: Transport, name: str = "sda", rotational: bool = False, **kw) -> Drive:
    return Drive(
        path=f"/dev/{name}",
        name=name,
        transport=transport,
        model="M",
        serial="S1",
        wwn="",
        firmware="1",
        size_bytes=16 << 20,
        logical_block_size=512,
        physical_block_size=512,
        rotational=rotational,
        removable=False,
        read_only=False,
        identity="S1",
        identity_source=IdentitySource.SERIAL,
        **kw,
    )


def caps(d: Drive, **kw) -> Capabilities:
    return replace(Capabilities(path=d.path, transport=str(d.transport), queue=QUEUE_SSD), **kw)


def wdc_sn730() -> nvme.IdCtrl:
    return nvme.parse_id_ctrl(fixture("nvme/wdc-pc-sn730-id-ctrl.json"))


def qemu_nvme() -> nvme.IdCtrl:
    """The id-ctrl values QEMU 7.2 reports (reference/qemu.md §3.1): no sanitize, FNA 0."""
    return replace(wdc_sn730(), sanicap=0, fna=0, oacs=0x10A, oncs=0x15D)


def intel_frozen() -> hdparm.AtaIdentify:
    ident = hdparm.parse_identify(fixture("hdparm/sata-ssd-intel-540s-ssdsc2kw512g8-frozen.txt"))
    assert ident is not None
    return ident


def micron_sanitize_all() -> hdparm.AtaIdentify:
    ident = hdparm.parse_identify(fixture("hdparm/sata-ssd-micron-5300-frozen-sanitize-all.txt"))
    assert ident is not None
    return ident


def skhynix_not_frozen() -> hdparm.AtaIdentify:
    ident = hdparm.parse_identify(
        fixture("hdparm/sata-ssd-skhynix-hfs128g39tnd-not-frozen-sanitize-crypto-block-spaces.txt")
    )
    assert ident is not None
    return ident


def as_hdd(ident: hdparm.AtaIdentify, frozen: bool) -> hdparm.AtaIdentify:
    """The SK hynix capture as a rotating drive without SANITIZE (an older HDD's shape)."""
    sec = replace(ident.security, frozen=frozen) if ident.security else None
    return replace(
        ident,
        rotational=True,
        sanitize_supported=False,
        sanitize_crypto=False,
        sanitize_block=False,
        sanitize_overwrite=False,
        security=sec,
    )


def sas_opcodes(*modes: str) -> sg.Opcodes:
    sa = {"overwrite": 1, "block": 2, "crypto": 3}
    return sg.Opcodes(frozenset({(0x04, None), *((0x48, sa[m]) for m in modes)}))


def wd_readcap(block_length: int = 512) -> sg.ReadCap:
    cap = sg.parse_readcap(fixture("sg3-utils/usb-hdd-wd-black-p10-game-drive-sg_readcap-l.txt"))
    assert cap is not None
    return replace(cap, block_length=block_length)
