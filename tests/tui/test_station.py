"""The screen's model without a screen: selection rules, job bookkeeping, phrases, health."""

from __future__ import annotations

import logging
from dataclasses import replace

from wipestation.model import JobState
from wipestation.planning.capabilities import Capabilities
from wipestation.tools import smartctl
from wipestation.tui.catalog import supported_by
from wipestation.tui.health import health_word
from wipestation.tui.joblog import ENGINE_LOGGER, JobLogRelay
from wipestation.tui.screens.confirm import phrase_matches
from wipestation.tui.station import Station, natural_key

from tests.tools.fakes import fixture
from tests.tui.conftest import METHODS, rack
from tests.tui.fakes import FakeEngine, make_drive, services


def station(engine: FakeEngine | None = None) -> Station:
    s = Station(services(engine or FakeEngine(), rack()), clock=lambda: 0.0)
    s.load(rack())
    return s


def test_protected_and_read_only_drives_cannot_be_selected() -> None:
    s = station()
    s.add_drive(replace(make_drive("sdz"), read_only=True))
    assert "protected: holds / (the running system)" in s.toggle("sda")
    assert "read-only" in s.toggle("sdz")
    assert s.toggle("sdb") == ""
    assert [r.name for r in s.selected()] == ["sdb"]


def test_start_attaches_jobs_and_reports_refusals() -> None:
    engine = FakeEngine(refuse={"sdc": "method unsupported"})
    s = station(engine)
    errors = s.start([s.rows["sdb"], s.rows["sdc"], s.rows["sda"]], "nist-clear", "full")
    assert errors[1] == "/dev/sdc: not started: method unsupported"
    assert "protected" in errors[0]  # refused before the engine is even asked
    assert engine.started == [("sdb", "nist-clear", "full")]
    assert s.rows["sdb"].busy
    assert s.rows["sdc"].state == "REFUSED"
    assert "already running" in s.toggle("sdb")


def test_progress_from_another_job_on_the_same_drive_is_ignored() -> None:
    engine = FakeEngine()
    s = station(engine)
    s.start([s.rows["sdb"]], "nist-clear", "sample")
    stale = engine.advance(engine.job_of("sdb"), state=JobState.ERASING)
    s.rows["sdb"].job_id = "newer"  # as after a re-wipe of the same bay
    assert s.apply(stale) is None
    assert s.rows["sdb"].state == "queued"


def test_state_changes_are_logged_once() -> None:
    engine = FakeEngine()
    s = station(engine)
    s.start([s.rows["sdb"]], "nist-clear", "sample")
    job = engine.job_of("sdb")
    p = engine.advance(job, state=JobState.ERASING, pass_index=1, pass_count=2)
    s.apply(p)
    s.apply(replace(p, bytes_done=10))  # a counter change is not a log line
    assert s.logs[job][-1].endswith("erasing pass 1/2")
    assert len(s.logs[job]) == 2


def test_counts_and_removal() -> None:
    engine = FakeEngine()
    s = station(engine)
    s.start([s.rows["sdb"], s.rows["sdc"]], "nist-clear", "sample")
    s.apply(engine.advance(engine.job_of("sdc"), state=JobState.PASSED))
    assert s.counts() == type(s.counts())(drives=4, running=1, passed=1, failed=0)
    assert s.remove_drive("sdb") is True  # was busy
    assert s.rows["sdb"].state == "REMOVED"
    assert s.remove_drive("nvme0n1") is False
    assert "nvme0n1" not in s.rows


def test_phrase_needs_the_word_and_the_count() -> None:
    assert phrase_matches("WIPE 3", 3)
    assert phrase_matches("  wipe   3 ", 3)
    assert not phrase_matches("WIPE 2", 3)
    assert not phrase_matches("WIPE", 3)
    assert not phrase_matches("3", 3)


def test_bays_sort_naturally() -> None:
    names = ["sdaa", "sdb", "nvme10n1", "sda", "nvme2n1"]
    assert sorted(names, key=natural_key) == ["sda", "sdb", "sdaa", "nvme2n1", "nvme10n1"]


def test_health_word_from_smart() -> None:
    """Counters only warn about an otherwise healthy drive (tests/tui/test_health.py: the rest)."""

    def caps(**smart: object) -> Capabilities:
        real = smartctl.parse(fixture("smartctl/ata-hdd-hgst-hus724020ale640.json"))
        return Capabilities(path="/dev/sdb", transport="sata", smart=replace(real, **smart))

    assert health_word(caps()) == "OK"
    assert health_word(caps(pending_sectors=8)) == "WARN"
    assert health_word(caps(passed=False)) == "FAILING"
    assert health_word(Capabilities(path="/dev/sdb", transport="sata")) == "n/a"


def test_method_support_counts_drives() -> None:
    nist_clear, nvme_only = METHODS
    assert supported_by(nvme_only, rack()) == (1, 4)
    assert supported_by(nist_clear, rack()) == (4, 4)


def test_a_state_seen_first_on_a_tick_is_still_logged() -> None:
    engine = FakeEngine()
    s = station(engine)
    s.start([s.rows["sdb"]], "nist-clear", "sample")
    job = engine.job_of("sdb")
    p = engine.advance(job, state=JobState.VERIFYING)
    s.refresh(engine.snapshot())  # the tick got there before the message
    s.apply(p)
    assert s.logs[job][-1].endswith("verifying")


def test_another_drive_in_the_same_bay_starts_clean() -> None:
    engine = FakeEngine()
    s = station(engine)
    s.start([s.rows["sdb"]], "nist-clear", "sample")
    old_job = engine.job_of("sdb")
    s.add_drive(s.rows["sdb"].drive)  # a repeated "added" for the same drive keeps the job
    assert s.rows["sdb"].job_id == old_job
    s.remove_drive("sdb")
    s.add_drive(make_drive("sdb", "NEW-SERIAL"))
    late = engine.advance(old_job, state=JobState.REMOVED)
    assert s.apply(late) is None
    assert s.rows["sdb"].state == "idle"


def test_first_state_change_before_start_confirmation_is_kept() -> None:
    engine = FakeEngine()
    s = station(engine)
    ok, _ = s.claim([s.rows["sdb"]])
    assert s.rows["sdb"].state == "starting"
    assert "already running" in s.toggle("sdb")
    job = engine.start_method(ok[0].drive, "nist-clear")
    s.apply(engine.advance(job, state=JobState.PROBING))  # the engine's thread was quicker
    s.started("sdb", job, "nist-clear")
    assert s.rows["sdb"].state == "probing"
    assert [line.split(" ", 1)[1] for line in s.logs[job]] == [
        "queued with method nist-clear",
        "probing",
    ]


def test_engine_log_lines_reach_the_job_log() -> None:

    posted: list = []
    relay = JobLogRelay(posted.append)
    relay.attach()
    try:
        logging.getLogger(ENGINE_LOGGER).info(
            "%s: %s", "sdb-1a2b", "nvme sanitize --sanact=2 /dev/x"
        )
        logging.getLogger(ENGINE_LOGGER).warning("removal event for sdb, but the device is there")
    finally:
        relay.detach()
    assert [(m.job_id, m.text) for m in posted] == [("sdb-1a2b", "nvme sanitize --sanact=2 /dev/x")]
    s = station()
    s.jobs["sdb-1a2b"] = "sdb"
    s.log_line("sdb-1a2b", posted[0].text)
    s.log_line("unknown-job", "ignored")
    assert list(s.logs) == ["sdb-1a2b"]
    assert [line.split(" ", 1)[1] for line in s.logs["sdb-1a2b"]] == [posted[0].text]
