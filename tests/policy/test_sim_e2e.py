"""End to end on real loop devices: engine → policy → step → simulated tool → erased (or not).

The loop device stands in for the drive; tests/sim/ plays its firmware. A drive is made to look
like NVMe/SATA/SAS by its transport only; the simulators key their state by device path.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from wipestation.model import JobResult, JobState, Transport

from tests.engine.conftest import drive_of, read_all

MiB = 1 << 20
SIZE = 8 * MiB
ORIGINAL = b"customer ledger #42 "
NVME_WDC = {"kind": "nvme", "sanicap": 0x60000003, "fna": 4, "oacs": 23}
NVME_QEMU = {"kind": "nvme", "sanicap": 0, "fna": 0, "oacs": 0x10A}


def run(engine, dev: str, transport: Transport, method: str = "auto") -> JobResult:
    drive = replace(drive_of(dev), transport=transport)
    job = engine.start(drive, method, "sample")
    assert engine.wait(timeout=120)
    return engine.results()[job]


@pytest.mark.slow
def test_nvme_crypto_sanitize_passes_and_leaves_noise(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, **NVME_WDC, polls=1)
    result = run(engine, dev, Transport.NVME)
    assert result.state == JobState.PASSED, result.reason
    assert [s.name for s in result.steps] == ["nvme sanitize (crypto erase)"]
    assert result.fallbacks == ()
    assert result.verification is not None
    assert result.verification.expected == "differs from pre-erase fingerprint"
    assert result.verification.observed_class == "random-looking"
    assert ORIGINAL not in read_all(dev)
    assert sim.ran("sanitize-log")
    assert sim.ran("ns-rescan")
    assert any("resumes it after a power cycle" in n for n in result.notes)


def test_lying_sanitize_with_the_named_method_ends_failed(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, **NVME_WDC, behaviour="lying")
    result = run(engine, dev, Transport.NVME, "nvme-sanitize-crypto")
    assert result.state == JobState.FAILED
    assert "verification failed" in result.reason
    assert result.level == "none"
    assert read_all(dev)[: len(ORIGINAL)] == ORIGINAL  # the data really is still there


def test_lying_sanitize_under_auto_falls_back_to_a_verified_overwrite(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, **NVME_WDC, behaviour="lying")
    result = run(engine, dev, Transport.NVME)
    assert result.state == JobState.PASSED, result.reason
    assert len(result.fallbacks) == 1
    assert "verification failed" in result.fallbacks[0]
    assert result.fallbacks[0].endswith("→ nist-clear")
    assert [s.kind for s in result.steps] == ["firmware", "overwrite", "overwrite"]
    assert result.level == "clear"
    assert read_all(dev) == bytes(SIZE)


def test_refused_sanitize_falls_back_and_says_why(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, **NVME_WDC, behaviour="reject")
    result = run(engine, dev, Transport.NVME)
    assert result.state == JobState.PASSED, result.reason
    assert "0x4001" in result.fallbacks[0]
    assert read_all(dev) == bytes(SIZE)


def test_nvme_without_sanitize_formats_like_qemu(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, **NVME_QEMU)
    result = run(engine, dev, Transport.NVME)
    assert result.state == JobState.PASSED, result.reason
    assert result.steps[0].name == "nvme format (SES=1, user data erase)"
    assert result.verification.observed_class == "zeros"


def test_ata_ssd_block_erase_sanitize(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    ata = {"fixture": "sata-ssd-micron-5300-frozen-sanitize-all.txt", "frozen": True}
    sim.add(dev, kind="ata", ata=ata)
    result = run(engine, dev, Transport.SATA, "ata-sanitize-block")
    assert result.state == JobState.PASSED, result.reason
    assert result.verification.observed_class == "ones"


def test_ata_silent_abort_falls_back(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    ata = {"fixture": "sata-ssd-micron-5300-frozen-sanitize-all.txt"}
    sim.add(dev, kind="ata", ata=ata, behaviour="abort")
    result = run(engine, dev, Transport.SATA)
    assert result.state == JobState.PASSED, result.reason
    assert "aborted" in result.fallbacks[0]
    assert read_all(dev) == bytes(SIZE)


def test_ata_hdd_security_erase_failure_clears_the_password(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    ata = {"fixture": "sata-ssd-intel-540s-ssdsc2kw512g8-frozen.txt", "frozen": False, "rpm": 7200}
    sim.add(dev, kind="ata", ata=ata, behaviour="fail-erase")
    result = run(engine, dev, Transport.SATA)
    assert result.state == JobState.PASSED, result.reason  # after the fallback overwrite
    # the fallback line names the method auto chose and that failed, and what ran instead
    assert result.fallbacks[0].startswith("ata-secure-erase-enhanced: ATA security erase")
    assert result.fallbacks[0].endswith("fallback → nist-clear")
    assert (result.method, result.executed) == ("auto", "nist-clear")
    assert "aborted" in result.fallbacks[0]
    assert sim.ran("--security-set-pass")
    assert sim.ran("--security-disable")
    assert sim.device(dev)["ata"]["enabled"] is False  # no password left on the drive


def test_ata_hdd_enhanced_security_erase_passes(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    ata = {"fixture": "sata-ssd-intel-540s-ssdsc2kw512g8-frozen.txt", "frozen": False, "rpm": 7200}
    sim.add(dev, kind="ata", ata=ata)
    result = run(engine, dev, Transport.SATA)
    assert result.state == JobState.PASSED, result.reason
    assert result.steps[0].name == "ATA security erase (enhanced)"
    assert sim.device(dev)["ata"]["enabled"] is False


def test_scsi_crypto_sanitize(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, kind="scsi", sanitize=["crypto", "overwrite"])
    result = run(engine, dev, Transport.SAS)
    assert result.state == JobState.PASSED, result.reason
    assert result.steps[0].name == "SCSI sanitize (crypto)"
    assert sim.ran("sg_requests")


def test_scsi_lying_format_is_caught(make_loop, engine, sim):
    """sg_format prints "FORMAT UNIT Complete" and exits 0 without erasing (qemu.md §3.3)."""
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, kind="scsi", sanitize=[], behaviour="lying")
    result = run(engine, dev, Transport.SAS, "scsi-format")
    assert result.state == JobState.FAILED
    assert "verification failed" in result.reason


def test_unsupported_named_method_is_refused_before_anything_is_written(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, **NVME_QEMU)
    drive = replace(drive_of(dev), transport=Transport.NVME)
    why = engine.check(drive, "nvme-sanitize-crypto")
    assert "SANICAP 0x0" in why
    assert read_all(dev)[: len(ORIGINAL)] == ORIGINAL


def test_frozen_hdd_without_s3_gets_an_overwrite_and_no_security_command(make_loop, engine, sim):
    """This host has no /sys/power/mem_sleep "deep": the plan says hot-replug, then overwrites."""
    dev = make_loop(SIZE, ORIGINAL)
    ata = {"fixture": "sata-ssd-intel-540s-ssdsc2kw512g8-frozen.txt", "frozen": True, "rpm": 7200}
    sim.add(dev, kind="ata", ata=ata)
    drive = replace(drive_of(dev), transport=Transport.SATA)
    assert "hot-replug" in engine.check(drive, "ata-secure-erase-enhanced")
    result = run(engine, dev, Transport.SATA)
    assert result.state == JobState.PASSED, result.reason
    assert [s.kind for s in result.steps] == ["overwrite", "overwrite"]
    assert not sim.ran("--security-set-pass")
    assert read_all(dev) == bytes(SIZE)


@pytest.mark.slow
def test_frozen_hdd_with_s3_is_unfrozen_once_then_security_erased(make_loop, engine, sim, tmp_path):
    (tmp_path / "mem_sleep").write_text("s2idle [deep]\n")
    dev = make_loop(SIZE, ORIGINAL)
    ata = {"fixture": "sata-ssd-intel-540s-ssdsc2kw512g8-frozen.txt", "frozen": True, "rpm": 7200}
    sim.add(dev, kind="ata", ata=ata)
    result = run(engine, dev, Transport.SATA)
    assert result.state == JobState.PASSED, result.reason
    assert [s.kind for s in result.steps] == ["prepare", "firmware"]
    assert [c[0] for c in sim.read()["calls"]].count("rtcwake") == 1
    assert sim.device(dev)["ata"]["enabled"] is False
