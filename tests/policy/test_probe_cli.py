"""``wipestation probe`` on a real loop device: capabilities plus the plan auto would run."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from wipestation import cli
from wipestation.discovery.inventory import Inventory
from wipestation.model import Transport
from wipestation.planning.probe import probe


def test_probe_json_on_a_loop_device(make_loop, capsys):
    dev = make_loop(4 << 20, b"payload")
    assert cli.run(["probe", dev, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["drive"]["path"] == dev
    assert out["medium"] == "virtual"
    assert out["plan"]["medium"] == "virtual"  # the medium the plan's level is for
    assert out["capabilities"]["queue"]["discard_max_bytes"] > 0
    plan = out["plan"]
    assert plan["method"] == "nist-clear"  # what auto chose for a virtual disk
    assert plan["reasons"][0].startswith("auto: interface")
    assert plan["level"] == "clear"
    assert [s["kind"] for s in plan["steps"]] == ["overwrite", "overwrite"]
    assert plan["expect"] == "zeros"
    assert any("no firmware purge" in r for r in plan["reasons"])


def test_probe_refuses_a_method_the_drive_cannot_run(make_loop, capsys):
    dev = make_loop(4 << 20)
    assert cli.run(["probe", dev, "--method", "blksecdiscard"]) == 1
    text = capsys.readouterr().out
    assert "refused" in text
    assert "blksecdiscard" in text


def test_probe_text_names_the_fallback_chain(make_loop, capsys):
    dev = make_loop(4 << 20)
    assert cli.run(["probe", dev, "--method", "blkdiscard"]) == 0
    text = capsys.readouterr().out
    assert "plan blkdiscard (clear" in text
    assert "BLKDISCARD" in text


@pytest.mark.parametrize(
    ("transport", "asked"),
    [("nvme", "nvme id-ctrl"), ("sata", "smartctl"), ("sas", "sg_opcodes")],
)
def test_probe_with_the_real_tools_on_a_loop_device_records_their_errors(
    make_loop, transport, asked
):
    """The host's real nvme/hdparm/sg3_utils/smartctl refuse a loop device: notes, no crash."""
    dev = make_loop(4 << 20)
    drive = replace(Inventory().get(dev), transport=Transport(transport))
    caps = probe(drive)
    assert caps.availability_errors == ()
    assert any(n.startswith(asked) for n in caps.notes), caps.notes
    assert caps.nvme is None
    assert caps.ata is None
    assert caps.smart is None


def test_probe_details_screen_and_record_agree(make_loop, engine, capsys):
    """One drive, three faces: ``wipestation probe``, the details screen and the record name the
    same plan and the same medium, because all three take them from the planner."""
    from wipestation.planning.planner import Planner
    from wipestation.reports.record import StationInfo, build_record
    from wipestation.tui.screens.details import plan_lines

    from tests.engine.conftest import drive_of

    dev = make_loop(4 << 20, b"payload")
    assert cli.run(["probe", dev, "--json"]) == 0
    probed = json.loads(capsys.readouterr().out)
    drive = drive_of(dev)
    shown = plan_lines(Planner().plan(drive, "auto", "sample"))
    assert shown[0] == f"medium     {probed['medium']}"
    assert shown[1].startswith(f"plan: {probed['plan']['method']} ({probed['plan']['level']}")
    job = engine.start(drive, "auto", "sample")
    assert engine.wait(timeout=120)
    result = engine.results()[job]
    assert result.executed == probed["plan"]["method"]
    record = build_record(result, StationInfo(station_id="t"))
    assert record["drive"]["media_type"] == probed["medium"] == probed["plan"]["medium"]
