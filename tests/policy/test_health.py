"""Health shapes the plan: a read-only medium gets no write, a failing drive is told, all recorded.

From real smartctl JSON: a WD3200BEVT whose SMART self-assessment FAILED (smart-prom-next's
capture), and a Samsung 970 EVO's NVMe health log. No real capture of an NVMe drive with its
media-read-only bit set was found: the read-only cases set bit 3 of that real capture's
``critical_warning`` (the only change) and say so.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from wipestation.cli import probe_cmd
from wipestation.errors import UnsupportedError
from wipestation.model import Transport
from wipestation.planning import policy
from wipestation.planning.health import FAILING_NOTE, READ_ONLY_NOTE
from wipestation.reports.record import build_record
from wipestation.steps import firmware as fw
from wipestation.tools import smartctl
from wipestation.tools.smartctl import HealthState

from tests.policy import drives as d
from tests.reports.factory import STATION, job, validate
from tests.tools.fakes import fixture

FAILED_WD = "smartctl/ata-hdd-wdc-wd3200bevt-usbjmicron-smart-failed-now.json"
SAMSUNG_NVME = "smartctl/nvme-samsung-970evo-x.json"


def failed_wd() -> smartctl.SmartSummary:
    return smartctl.parse(fixture(FAILED_WD))


def samsung_with_warning(bits: int) -> smartctl.SmartSummary:
    """The real 970 EVO capture with ``critical_warning`` set to ``bits`` (nothing else)."""
    d = json.loads(fixture(SAMSUNG_NVME))
    d["nvme_smart_health_information_log"]["critical_warning"] = bits
    return smartctl.parse(json.dumps(d))


def test_parse_keeps_smart_failed_and_the_critical_warning_bits():
    wd = failed_wd()
    assert (wd.passed, wd.exit_status, wd.reallocated_sectors) == (False, 216, 535)
    assert smartctl.parse(fixture(SAMSUNG_NVME)).critical_warning == 0
    warned = samsung_with_warning(0x1F)
    assert warned.warnings == (
        "available spare below threshold",
        "temperature outside its thresholds",
        "NVM subsystem reliability degraded",
        "media placed in read-only mode",
        "volatile memory backup failed",
    )
    assert warned.media_read_only
    assert warned.to_json()["critical_warning"] == 0x1F


@pytest.mark.parametrize(
    ("smart", "state"),
    [
        (lambda: smartctl.parse(fixture(SAMSUNG_NVME)), HealthState.OK),
        (failed_wd, HealthState.FAILING),
        (lambda: samsung_with_warning(0x04), HealthState.FAILING),
        (lambda: samsung_with_warning(0x08), HealthState.READ_ONLY),
        (lambda: None, HealthState.UNKNOWN),
        (
            lambda: smartctl.parse(fixture("smartctl/loop-unable-to-detect.json")),
            HealthState.UNKNOWN,
        ),
    ],
)
def test_health_of_real_captures(smart, state):
    assert smartctl.health_of(smart()).state == state


def test_smart_failed_hdd_still_gets_its_overwrite_and_the_plan_says_why():
    drv = d.drive(Transport.SATA, rotational=True)
    plan = policy.plan(drv, d.caps(drv, smart=failed_wd()), "auto", "sample")
    assert plan.method == "nist-clear"
    assert "health: failing (SMART overall-health self-assessment: FAILED)" in plan.reasons
    assert FAILING_NOTE in plan.reasons


def test_read_only_nvme_keeps_its_firmware_sanitize_but_loses_the_overwrite_fallback():
    drv = d.drive(Transport.NVME, "nvme0n1")
    c = d.caps(drv, nvme=d.wdc_sn730(), smart=samsung_with_warning(0x08))
    plan = policy.plan(drv, c, "auto", "sample")
    assert isinstance(plan.steps[0], fw.NvmeSanitizeStep)
    assert plan.fallback is None
    assert READ_ONLY_NOTE in plan.reasons
    assert any(r.startswith("health: read_only") and "read-only mode" in r for r in plan.reasons)


def test_read_only_nvme_without_a_firmware_erase_gets_no_plan_and_says_what_could_work():
    drv = d.drive(Transport.NVME, "nvme0n1")
    ctrl = replace(d.qemu_nvme(), oacs=0, sanicap=0)  # no sanitize, no format
    c = d.caps(drv, nvme=ctrl, smart=samsung_with_warning(0x08))
    with pytest.raises(UnsupportedError, match="refuses writes; only a firmware sanitize") as e:
        policy.plan(drv, c, "auto", "sample")
    assert "skipped nvme-sanitize-crypto" in str(e.value)
    assert "destroy the drive" in str(e.value)
    for named in ("nist-clear", "overwrite-zero", "blkdiscard"):
        with pytest.raises(UnsupportedError, match="read_only"):
            policy.plan(drv, c, named, "sample")


def test_healthy_and_unknown_health_are_stated_in_the_plan():
    drv = d.drive(Transport.NVME, "nvme0n1")
    ok = policy.plan(
        drv, d.caps(drv, nvme=d.wdc_sn730(), smart=samsung_with_warning(0)), "auto", "sample"
    )
    assert "health: ok (SMART overall-health self-assessment: PASSED)" in ok.reasons
    assert ok.fallback is not None
    unknown = policy.plan(drv, d.caps(drv, nvme=d.wdc_sn730()), "auto", "sample")
    assert any(r.startswith("health: unknown") for r in unknown.reasons)


@pytest.mark.parametrize(
    ("smart", "state"),
    [
        (failed_wd, "failing"),
        (lambda: samsung_with_warning(0x08), "read_only"),
        (lambda: None, "unknown"),
    ],
)
def test_the_record_carries_the_health_that_shaped_the_plan(smart, state):
    rec = validate(build_record(job(health=smart()), STATION))
    assert rec["health"]["state"] == state
    assert rec["health"]["reasons"]
    if state == "read_only":
        assert rec["health"]["critical_warning"] == 0x08
        assert "media placed in read-only mode" in rec["health"]["critical_warnings"]


def test_probe_capabilities_json_shows_the_health():
    drv = d.drive(Transport.SATA)
    out = d.caps(drv, smart=failed_wd()).to_json()
    assert out["health"] == {
        "state": "failing",
        "reasons": ["SMART overall-health self-assessment: FAILED"],
    }


def test_probe_text_shows_the_health_line():
    drv = d.drive(Transport.NVME, "nvme0n1")
    caps = d.caps(drv, nvme=d.wdc_sn730(), smart=samsung_with_warning(0x08))
    out = {"drive": {"path": drv.path}, "medium": "nvme", "capabilities": caps.to_json()}
    text = probe_cmd.format_text({**out, "plan": None, "refused": "-"})
    assert "  health: read_only; NVMe critical warning: media placed in read-only mode" in text
