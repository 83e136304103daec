"""Self-encrypting drives: Level 0 Discovery read by the probe, a locked SED gets no overwrite.
Real responses from tests/fixtures/opal (PROVENANCE.md there)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from wipestation.errors import UnsupportedError
from wipestation.model import Transport
from wipestation.planning import policy
from wipestation.planning.probe import probe
from wipestation.tools import nvme, opal, smartctl

from tests.policy import drives as d
from tests.tools.fakes import FakeRunner, done, fixture

WD730 = "opal/sedutil-507-wd730-nvme-opal2-locking-not-enabled-d0.txt"
MX500 = "opal/sedutil-340-crucial-mx500-sata-opal2-locking-enabled-d0.txt"


def discovery(name: str) -> opal.Discovery:
    return opal.parse_discovery(opal.hex_bytes(fixture(name)))


def locked(disc: opal.Discovery) -> opal.Discovery:
    """Derived, not captured: the same response with the Locked bit set (no raw response of a
    locked drive was found published; see the fixtures' PROVENANCE.md)."""
    assert disc.locking is not None
    return replace(disc, locking=replace(disc.locking, locked=True))


def nvme_probe(tmp_path, read_first_block):
    drv = d.drive(Transport.NVME, "nvme0n1")
    (tmp_path / "nvme0n1").mkdir()
    idc, sm = nvme.build_id_ctrl_argv("/dev/nvme0"), smartctl.build_argv("/dev/nvme0n1")
    sec = opal.build_nvme_argv("/dev/nvme0")
    runner = FakeRunner(
        {
            tuple(idc): done(idc, fixture("nvme/wdc-pc-sn730-id-ctrl.json")),  # OACS bit 0 set
            tuple(sm): done(sm, fixture("smartctl/nvme-samsung-970evo-x.json")),
            # the WD's real response, in sedutil's dump layout (opal.hex_bytes reads it)
            tuple(sec): done(sec, fixture(WD730)),
        }
    )
    caps = probe(
        drv,
        runner=runner,
        sys_block=str(tmp_path),
        mem_sleep="/x",
        read_first_block=read_first_block,
    )
    return drv, caps, runner


def test_the_probe_reads_discovery_and_it_overrides_the_lba0_heuristic(tmp_path):
    drv, caps, runner = nvme_probe(tmp_path, lambda path: False)  # LBA 0 "unreadable"
    assert runner.ran("security-recv", "--secp=1")
    assert caps.tcg is not None
    assert caps.tcg.primary == "Opal 2"
    assert caps.opal_locked is False  # discovery answered: not a locked SED
    assert any(n.startswith("TCG Opal 2: locking supported, not enabled") for n in caps.notes)
    assert "LBA 0 cannot be read (not a locked SED)" in caps.notes
    assert caps.to_json()["tcg"]["ssc"] == ["Opal 2"]
    # an unlocked Opal drive keeps today's auto order, its discovery in the record's notes
    plan = policy.plan(drv, caps, "auto", "sample")
    assert plan.method == "nvme-sanitize-crypto"
    assert plan.facts is not None
    assert any("TCG Opal 2" in n for n in plan.facts.notes)


def test_without_discovery_the_heuristic_is_the_fallback(tmp_path):
    drv = d.drive(Transport.SATA, "sda")
    (tmp_path / "sda").mkdir()
    caps = probe(drv, runner=FakeRunner(), sys_block=str(tmp_path), mem_sleep="/x",
                 read_first_block=lambda path: False)  # fmt: skip
    assert caps.tcg is None  # no sg_raw, no hdparm: nothing was asked of the drive
    assert caps.opal_locked is True
    assert any("may be a locked TCG Opal SED" in n for n in caps.notes)


@pytest.mark.parametrize("method", ["auto", "nist-clear", "nvme-sanitize-crypto"])
def test_a_locked_sed_gets_no_plan_and_is_offered_a_psid_revert(method):
    drv = d.drive(Transport.NVME, "nvme0n1")
    caps = d.caps(drv, nvme=d.wdc_sn730(), tcg=locked(discovery(WD730)))
    with pytest.raises(UnsupportedError) as e:
        policy.plan(drv, caps, method, "sample")
    assert "locked SED (TCG Opal 2): needs its PSID" in str(e.value)
    assert "PSID revert, else destroy" in str(e.value)


def test_an_unlocked_sata_sed_keeps_its_plan():
    drv = d.drive(Transport.SATA, "sda")
    caps = d.caps(drv, ata=d.skhynix_not_frozen(), tcg=discovery(MX500))
    assert policy.plan(drv, caps, "auto", "sample").method == "ata-sanitize-crypto"
