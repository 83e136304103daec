"""``auto`` and the named firmware methods, decided from real captured capabilities."""

from __future__ import annotations

from dataclasses import replace

import pytest
from wipestation.errors import UnsupportedError
from wipestation.model import Transport
from wipestation.planning import catalogue, policy
from wipestation.steps import firmware as fw
from wipestation.steps.plan import Expect
from wipestation.steps.sector_format import SectorReformatStep
from wipestation.tools.hdparm import DcoState, HpaState
from wipestation.tools.nvme import SanitizeAction

from tests.policy import drives as d


def kinds(plan) -> list[type]:
    return [type(s) for s in plan.steps]


def test_nvme_with_crypto_and_block_sanitize_chooses_crypto_sanitize():
    drv = d.drive(Transport.NVME, "nvme0n1")
    plan = policy.plan(drv, d.caps(drv, nvme=d.wdc_sn730()), "auto", "sample")
    assert plan.method == "nvme-sanitize-crypto"  # the plan names what auto chose
    assert (plan.level, plan.expect.kind) == ("purge", Expect.CHANGED)
    (step,) = plan.steps
    assert isinstance(step, fw.NvmeSanitizeStep)
    assert (step.ctrl, step.action) == ("/dev/nvme0", SanitizeAction.CRYPTO_ERASE)
    assert plan.fallback is not None
    assert plan.fallback.method == "nist-clear"
    assert plan.fallback.level == "clear"
    assert any("chose nvme-sanitize-crypto" in r for r in plan.reasons)


def test_nvme_with_block_sanitize_only_chooses_block():
    drv = d.drive(Transport.NVME, "nvme0n1")
    ctrl = replace(d.wdc_sn730(), sanicap=0x2)  # SK hynix PC801 shape (standards.md §1.2)
    plan = policy.plan(drv, d.caps(drv, nvme=ctrl), "auto", "sample")
    assert plan.steps[0].action == SanitizeAction.BLOCK_ERASE
    assert any("skipped nvme-sanitize-crypto" in r for r in plan.reasons)


def test_nvme_without_sanitize_formats_with_ses1_as_clear():
    drv = d.drive(Transport.NVME, "nvme0n1")
    plan = policy.plan(drv, d.caps(drv, nvme=d.qemu_nvme()), "auto", "sample")
    (step,) = plan.steps
    assert isinstance(step, fw.NvmeFormatStep)
    assert step.ses == 1
    assert plan.level == "clear"  # Rev. 1 says purge, IEEE 2883 clear: the stricter is recorded
    assert "stricter" in plan.standard
    assert any("nvme-format-crypto" in r and "FNA 0x0" in r for r in plan.reasons)


def test_nvme_crypto_format_when_fna_offers_it_but_no_sanitize():
    drv = d.drive(Transport.NVME, "nvme0n1")
    ctrl = replace(d.wdc_sn730(), sanicap=0)
    plan = policy.plan(drv, d.caps(drv, nvme=ctrl, namespaces=("/dev/nvme0n1",)), "auto", "sample")
    assert plan.steps[0].ses == 2


def test_nvme_sanitize_refused_when_the_controller_has_other_namespaces():
    drv = d.drive(Transport.NVME, "nvme0n1")
    c = d.caps(drv, nvme=d.wdc_sn730(), namespaces=("/dev/nvme0n1", "/dev/nvme0n2"))
    plan = policy.plan(drv, c, "auto", "sample")
    assert isinstance(plan.steps[0], fw.NvmeFormatStep)
    assert plan.steps[0].namespaces == ("/dev/nvme0n1", "/dev/nvme0n2")
    with pytest.raises(UnsupportedError, match="all 2 namespaces"):
        policy.plan(drv, c, "nvme-sanitize-crypto", "sample")


def test_nvme_without_format_or_sanitize_falls_to_verified_overwrite():
    drv = d.drive(Transport.NVME, "nvme0n1")
    ctrl = replace(d.qemu_nvme(), oacs=0)
    plan = policy.plan(drv, d.caps(drv, nvme=ctrl), "auto", "sample")
    assert plan.expect.kind == Expect.ZEROS
    assert plan.level == "clear"
    assert plan.fallback is None
    assert any("no firmware purge" in r for r in plan.reasons)


def test_ata_ssd_frozen_with_sanitize_uses_crypto_scramble():
    """Security freeze does not block SANITIZE: the frozen Micron still gets a purge."""
    drv = d.drive(Transport.SATA)
    plan = policy.plan(drv, d.caps(drv, ata=d.micron_sanitize_all()), "auto", "sample")
    assert isinstance(plan.steps[-1], fw.AtaSanitizeStep)
    assert plan.steps[-1].mode == "crypto"
    assert plan.level == "purge"


def test_ata_ssd_without_sanitize_gets_an_overwrite_not_enhanced_erase():
    drv = d.drive(Transport.SATA)
    plan = policy.plan(drv, d.caps(drv, ata=d.intel_frozen()), "auto", "sample")
    assert plan.level == "clear"
    assert plan.expect.kind == Expect.ZEROS
    assert any("skipped ata-sanitize-block" in r for r in plan.reasons)


def test_ata_enhanced_erase_is_clear_on_ssd_and_purge_on_hdd():
    ssd = d.drive(Transport.SATA)
    hdd = d.drive(Transport.SATA, rotational=True)
    ident = d.skhynix_not_frozen()
    on_ssd = policy.plan(ssd, d.caps(ssd, ata=ident), "ata-secure-erase-enhanced", "sample")
    hdd_ident = d.as_hdd(ident, frozen=False)
    on_hdd = policy.plan(hdd, d.caps(hdd, ata=hdd_ident), "ata-secure-erase-enhanced", "sample")
    assert (on_ssd.level, on_hdd.level) == ("clear", "purge")


def test_ata_hdd_not_frozen_without_sanitize_chooses_enhanced_security_erase():
    drv = d.drive(Transport.SATA, rotational=True)
    plan = policy.plan(
        drv, d.caps(drv, ata=d.as_hdd(d.skhynix_not_frozen(), frozen=False)), "auto", "sample"
    )
    step = plan.steps[-1]
    assert isinstance(step, fw.AtaSecurityEraseStep)
    assert step.enhanced
    assert step.erase_timeout_s == 600.0  # 2 min estimate, at least 10 min
    assert plan.level == "purge"
    assert not any(isinstance(s, fw.UnfreezeStep) for s in plan.steps)


def test_ata_hdd_frozen_without_s3_refuses_with_hot_replug_advice():
    drv = d.drive(Transport.SATA, rotational=True)
    c = d.caps(drv, ata=d.as_hdd(d.skhynix_not_frozen(), frozen=True), mem_sleep_deep=False)
    with pytest.raises(UnsupportedError, match="hot-replug"):
        policy.plan(drv, c, "ata-secure-erase-enhanced", "sample")
    plan = policy.plan(drv, c, "auto", "sample")
    assert plan.level == "clear"
    assert any("frozen" in r and "hot-replug" in r for r in plan.reasons)


def test_ata_hdd_frozen_with_s3_unfreezes_once_first():
    drv = d.drive(Transport.SATA, rotational=True)
    c = d.caps(drv, ata=d.as_hdd(d.skhynix_not_frozen(), frozen=True), mem_sleep_deep=True)
    plan = policy.plan(drv, c, "auto", "sample")
    assert kinds(plan) == [fw.UnfreezeStep, fw.AtaSecurityEraseStep]


def test_hpa_and_dco_are_reset_before_an_ata_sanitize():
    drv = d.drive(Transport.SATA)
    c = d.caps(
        drv,
        ata=d.micron_sanitize_all(),
        hpa=HpaState(current=1000, native=2000, enabled=True),
        dco=DcoState(real_max=3000),
    )
    plan = policy.plan(drv, c, "auto", "sample")
    assert kinds(plan) == [fw.DcoRestoreStep, fw.HpaResetStep, fw.AtaSanitizeStep]
    assert plan.steps[1].native == 2000
    assert any("HPA hides 1000 sectors" in r for r in plan.fallback.reasons)


def test_scsi_with_crypto_sanitize():
    drv = d.drive(Transport.SAS, rotational=True)
    c = d.caps(drv, scsi_opcodes=d.sas_opcodes("crypto", "overwrite"), readcap=d.wd_readcap())
    plan = policy.plan(drv, c, "auto", "sample")
    assert kinds(plan) == [fw.ScsiSanitizeStep]
    assert plan.steps[0].mode == "crypto"
    assert plan.level == "purge"


def test_scsi_with_520_byte_sectors_is_reformatted_to_512_first():
    drv = d.drive(Transport.SAS, rotational=True)
    c = d.caps(drv, scsi_opcodes=d.sas_opcodes("overwrite"), readcap=d.wd_readcap(520))
    plan = policy.plan(drv, c, "auto", "sample")
    assert kinds(plan) == [SectorReformatStep, fw.ScsiSanitizeStep]
    assert plan.expect.kind == Expect.ZEROS


def test_scsi_without_opcode_list_gets_overwrite():
    drv = d.drive(Transport.SCSI)
    plan = policy.plan(drv, d.caps(drv), "auto", "sample")
    assert plan.level == "clear"
    assert any("sg_opcodes gave no list" in r for r in plan.reasons)


def test_usb_bridge_not_allowlisted_is_overwrite_only_and_names_the_bridge():
    drv = d.drive(Transport.USB, usb_id="152d:0578")
    c = d.caps(drv, ata=d.micron_sanitize_all(), usb_id="152d:0578")
    plan = policy.plan(drv, c, "auto", "sample")
    assert plan.level == "clear"
    assert any("152d:0578" in r and "allow-list" in r for r in plan.reasons)
    with pytest.raises(UnsupportedError, match="152d:0578"):
        policy.plan(drv, c, "ata-sanitize-crypto", "sample")


def test_usb_bridge_on_the_allowlist_may_sanitize():
    drv = d.drive(Transport.USB, usb_id="0bda:9210")
    c = d.caps(drv, ata=d.micron_sanitize_all(), usb_id="0bda:9210", usb_passthrough="tested here")
    plan = policy.plan(drv, c, "auto", "sample")
    assert isinstance(plan.steps[-1], fw.AtaSanitizeStep)


@pytest.mark.parametrize("transport", [Transport.VIRTIO, Transport.LOOP])
def test_virtual_disks_get_the_verified_overwrite(transport):
    drv = d.drive(transport, "vda")
    plan = policy.plan(drv, d.caps(drv), "auto", "full")
    assert plan.method == "nist-clear"
    assert plan.verify == "full"
    assert plan.expect.kind == Expect.ZEROS
    assert [s.kind for s in plan.steps] == ["overwrite", "overwrite"]


def test_named_methods_have_no_fallback_and_refuse_unsupported_drives():
    drv = d.drive(Transport.SATA)
    c = d.caps(drv, ata=d.intel_frozen())
    with pytest.raises(UnsupportedError, match="SANITIZE feature set"):
        policy.plan(drv, c, "ata-sanitize-block", "sample")
    plan = policy.plan(
        drv, d.caps(drv, ata=d.micron_sanitize_all()), "ata-sanitize-block", "sample"
    )
    assert plan.fallback is None


def test_blkdiscard_needs_discard_support():
    drv = d.drive(Transport.VIRTIO, "vda")
    with pytest.raises(UnsupportedError, match="discard"):
        policy.plan(drv, d.caps(drv, queue=d.QUEUE_NONE), "blkdiscard", "sample")
    plan = policy.plan(drv, d.caps(drv), "blkdiscard", "sample")
    assert plan.expect.kind == Expect.ZEROS


def test_verify_none_expects_nothing():
    drv = d.drive(Transport.NVME, "nvme0n1")
    plan = policy.plan(drv, d.caps(drv, nvme=d.wdc_sn730()), "nvme-sanitize-crypto", "none")
    assert plan.expect.kind == Expect.NOTHING


def test_every_firmware_method_is_in_the_catalogue_with_its_levels():
    names = {m.name for m in catalogue.all_methods()}
    assert {m.name for m in catalogue.METHODS} | {"auto"} <= names
    assert catalogue.get("nvme-format").levels == {"nvme": "clear"}
    assert catalogue.get("ata-sanitize-overwrite").levels == {"hdd": "purge", "ssd": "clear"}
    # auto's registered level is what every path guarantees; the plan carries the real one
    assert set(catalogue.get("auto").levels.values()) == {"clear"}
