"""The details screen shows a drive's TCG discovery beside its plan (a real WD NVMe response)."""

from __future__ import annotations

from wipestation.planning import policy
from wipestation.tui.screens.details import plan_lines

from tests.policy.test_tcg import nvme_probe


def test_the_plan_lines_show_the_tcg_discovery(tmp_path) -> None:
    drv, caps, _ = nvme_probe(tmp_path, lambda path: True)
    lines = plan_lines(policy.plan(drv, caps, "auto", "sample"))
    assert (
        "security   TCG Opal 2: locking supported, not enabled, unlocked, media encryption, "
        "MBR shadow off" in lines
    )
    assert lines.index("medium     nvme") < 2
