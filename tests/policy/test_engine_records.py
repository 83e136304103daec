"""What the engine records when the policy's plans run against simulated firmware: failed firmware
steps, the fallback's reason, health and HPA/DCO from one probe per job, and the level of the plan
that actually passed. Real loop devices behind the tool simulators in tests/sim/."""

from __future__ import annotations

from dataclasses import replace

import pytest
from wipestation.model import JobResult, JobState, Transport
from wipestation.planning.planner import Planner

from tests.engine.conftest import drive_of, read_all

MiB = 1 << 20
SIZE = 8 * MiB
ORIGINAL = b"patient records 7 "
NVME_WDC = {"kind": "nvme", "sanicap": 0x60000003, "fna": 4, "oacs": 23}
NVME_QEMU = {"kind": "nvme", "sanicap": 0, "fna": 0, "oacs": 0x10A}
ATA_SSD = {"fixture": "sata-ssd-micron-5300-frozen-sanitize-all.txt", "frozen": True}


def run(engine, dev: str, transport: Transport, method: str = "auto", verify: str = "sample"):
    drive = replace(drive_of(dev), transport=transport)
    job = engine.start(drive, method, verify)
    assert engine.wait(timeout=120)
    result: JobResult = engine.results()[job]
    return result


def smartctl_calls(sim) -> int:
    return [c[0] for c in sim.read()["calls"]].count("smartctl")


# ---- 1. a refused firmware command is a failed step, and the fallback says why ------------------


def test_refused_sanitize_is_a_failed_step_with_its_command(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, **NVME_WDC, behaviour="reject")
    result = run(engine, dev, Transport.NVME)
    assert result.state == JobState.PASSED, result.reason
    assert [(s.name, s.ok) for s in result.steps] == [
        ("nvme sanitize (crypto erase)", False),
        ("overwrite pass 1/2 (random)", True),
        ("overwrite pass 2/2 (zeros)", True),
    ]
    failed = result.steps[0]
    assert failed.command.startswith("nvme sanitize ")
    assert "--sanact=4" in failed.command
    assert failed.started_at
    assert failed.ended_at
    assert "(0x4001)" in failed.error  # nvme.py names the NVMe status it refused with
    (line,) = result.fallbacks
    assert line.startswith(
        f"nvme-sanitize-crypto: nvme sanitize (crypto erase) failed: {failed.error}"
    )
    assert line.endswith("; fallback → nist-clear")


def test_lying_sanitize_fallback_names_the_step_that_did_not_erase(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, **NVME_WDC, behaviour="lying")
    result = run(engine, dev, Transport.NVME)
    assert result.state == JobState.PASSED, result.reason
    assert result.steps[0].ok  # the command "succeeded": only verification showed otherwise
    assert result.fallbacks[0].startswith(
        "nvme-sanitize-crypto: nvme sanitize (crypto erase) did not erase: verification failed ("
    )


# ---- 2. health and HPA/DCO from one probe per job -----------------------------------------------


def test_health_and_hpa_come_from_a_single_probe(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, kind="ata", ata=ATA_SSD)
    drive = replace(drive_of(dev), transport=Transport.SATA)
    assert engine.check(drive, "ata-sanitize-block") == ""
    result = run(engine, dev, Transport.SATA, "ata-sanitize-block")
    assert result.state == JobState.PASSED, result.reason
    assert smartctl_calls(sim) == 1  # check, start and the worker shared one probe
    assert result.health is not None
    assert result.health.power_on_hours == 14551  # the simulated drive's SMART fixture
    assert result.health.model == "Samsung SSD 860 EVO 500GB"
    assert result.hpa_dco is not None
    assert result.hpa_dco["hpa"]["hidden"] == 0
    assert result.hpa_dco["hidden_before"] is False
    assert result.hpa_dco["hidden_after"] is False


@pytest.mark.slow
def test_a_job_forgets_its_probe_when_it_ends(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, kind="ata", ata=ATA_SSD)
    run(engine, dev, Transport.SATA, "ata-sanitize-block")
    run(engine, dev, Transport.SATA, "ata-sanitize-block")
    assert smartctl_calls(sim) == 2  # the second job asked the changed drive again


def test_the_probe_cache_expires(make_loop, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, kind="ata", ata=ATA_SSD)
    drive = replace(drive_of(dev), transport=Transport.SATA)
    now = [1000.0]
    planner = Planner(ttl=30, clock=lambda: now[0])
    first = planner.capabilities(drive)
    now[0] += 29
    assert planner.capabilities(drive) is first
    now[0] += 2
    assert planner.capabilities(drive) is not first
    assert smartctl_calls(sim) == 2


def test_a_drive_whose_tools_fail_still_gets_a_result_with_notes(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)  # not in the simulator: smartctl cannot open it
    result = run(engine, dev, Transport.SATA, "overwrite-zero")
    assert result.state == JobState.PASSED, result.reason
    assert result.health is None
    assert result.hpa_dco is None
    assert any(n.startswith("probe: smartctl:") for n in result.notes), result.notes
    assert "no SMART health data for this sata device" in result.notes
    assert read_all(dev) == bytes(SIZE)


def test_a_loop_device_gets_no_health_and_says_so(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    result = run(engine, dev, Transport.LOOP, "overwrite-zero")
    assert result.state == JobState.PASSED, result.reason
    assert result.health is None
    assert "no SMART health data for this loop device" in result.notes
    assert smartctl_calls(sim) == 0


# ---- 5. the level reported is the level of the plan that passed, and only if verified ----------


@pytest.mark.slow
def test_auto_sanitize_that_passes_is_reported_as_purge(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, **NVME_WDC, polls=1)
    result = run(engine, dev, Transport.NVME)
    assert result.state == JobState.PASSED, result.reason
    assert result.method == "auto"
    assert result.level == "purge"
    assert result.standard.endswith("purge on nvme")


def test_auto_fallback_overwrite_is_reported_as_clear(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, **NVME_WDC, behaviour="lying")
    result = run(engine, dev, Transport.NVME)
    assert result.state == JobState.PASSED, result.reason
    assert result.level == "clear"
    assert "Clear" in result.standard
    assert "purge" not in result.standard.lower()


def test_auto_nvme_format_is_reported_as_clear(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, **NVME_QEMU)
    result = run(engine, dev, Transport.NVME)
    assert result.state == JobState.PASSED, result.reason
    assert result.steps[0].name.startswith("nvme format")
    assert result.level == "clear"  # Purge in Rev. 1, Clear in IEEE 2883: the stricter


@pytest.mark.slow
def test_an_unverified_sanitize_claims_no_level(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, **NVME_WDC, polls=1)
    result = run(engine, dev, Transport.NVME, verify="none")
    assert result.state == JobState.PASSED, result.reason
    assert result.verification is not None
    assert result.verification.mode == "none"
    assert result.level == "none"  # nothing was read back: nothing is claimed


def test_a_failed_firmware_method_claims_no_level(make_loop, engine, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, **NVME_WDC, behaviour="reject")
    result = run(engine, dev, Transport.NVME, "nvme-sanitize-crypto")
    assert result.state == JobState.FAILED
    assert result.level == "none"
    assert result.steps[0].ok is False
