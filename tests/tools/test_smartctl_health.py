"""NVMe Critical Warning bits as smartctl itself decoded them on real drives.

The only real capture of an NVMe drive with a Critical Warning bit set that was found is a
``jq .smart_status`` cut of smartctl's JSON (prometheus-community/smartctl_exporter PR 293; see
tests/fixtures/smartctl/PROVENANCE.md): smartctl's own per-bit decode, not the whole ``--json -x``
document. So it checks the station's bit table and what the health verdict makes of those real
values; ``smartctl.parse`` of a whole warned document is still tested on a real capture with the
bits changed (tests/policy/test_health.py says so). No real media-read-only (bit 3) capture exists.
"""

from __future__ import annotations

import json

from wipestation.tools import smartctl
from wipestation.tools.smartctl import HealthState

from tests.tools.fakes import fixture

PLP_FAILED = "smartctl/nvme-plp-failed-smart-status-jq.txt"
HEALTHY = "smartctl/nvme-healthy-smart-status-jq.txt"

#: smartctl's JSON names for Critical Warning bits 0-5 (smartctl 7.3+ ``smart_status.nvme``)
SMARTCTL_NAMES = {
    0x01: "spare_below_threshold",
    0x02: "temperature_above_or_below_threshold",
    0x04: "reliability_degraded",
    0x08: "media_read_only",
    0x10: "volatile_memory_backup_failed",
    0x20: "persistent_memory_region_unreliable",
}


def status(rel: str) -> dict:
    return json.loads(fixture(rel))


def nvme_summary(passed: bool, critical_warning: int) -> smartctl.SmartSummary:
    """A summary holding only the two values the capture shows (everything else unknown)."""
    return smartctl.SmartSummary(
        protocol="NVMe", device_type="nvme", model="", serial="", firmware="",
        passed=passed, power_on_hours=None, reallocated_sectors=None, pending_sectors=None,
        percentage_used=None, media_errors=None, rotation_rate=None, trim=None,
        security_enabled=None, security_frozen=None, exit_status=0,
        critical_warning=critical_warning,
    )  # fmt: skip


def test_the_station_reads_each_bit_as_smartctl_decoded_it_on_a_real_drive():
    nvme = status(PLP_FAILED)["nvme"]
    assert set(smartctl.CRITICAL_WARNING_BITS) == set(SMARTCTL_NAMES)
    for bit, name in SMARTCTL_NAMES.items():
        assert nvme[name] is bool(nvme["value"] & bit), name
    assert nvme["other"] == 0  # no bit beyond the six the station names


def test_a_real_power_loss_protection_failure_is_a_failing_drive_not_a_read_only_one():
    s = status(PLP_FAILED)
    summary = nvme_summary(s["passed"], s["nvme"]["value"])
    assert summary.warnings == ("volatile memory backup failed",)
    assert not summary.media_read_only
    health = smartctl.health_of(summary)
    assert health.state is HealthState.FAILING
    assert health.reasons == (
        "SMART overall-health self-assessment: FAILED",
        "NVMe critical warning: volatile memory backup failed",
    )


def test_the_healthy_drive_beside_it_is_ok():
    s = status(HEALTHY)  # the same host's other NVMe, same command
    health = smartctl.health_of(nvme_summary(s["passed"], s["nvme"]["value"]))
    assert (health.state, health.reasons) == (
        HealthState.OK,
        ("SMART overall-health self-assessment: PASSED",),
    )
