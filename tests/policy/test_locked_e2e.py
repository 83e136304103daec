"""A locked ATA drive end to end on a real loop device: the real engine and planner, the password
erase step, tests/sim/hdparm playing the drive's security state (a real ``hdparm -I`` capture with
its Security flags set to enabled + locked, as simcore.identify_text does for every ATA test)."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from wipestation.model import JobState, Transport
from wipestation.steps import attempts
from wipestation.steps.secret import make_secret

from tests.engine.conftest import drive_of, read_all
from tests.policy.test_sim_e2e import ORIGINAL, SIZE

LOCKED = {
    "fixture": "sata-ssd-intel-540s-ssdsc2kw512g8-frozen.txt",
    "frozen": False,
    "enabled": True,
    "locked": True,
    "password": "s3cret",
    "rpm": 7200,
}


@pytest.fixture(autouse=True)
def attempt_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The station's count of password attempts in the test's own file, never the host's /run."""
    path = tmp_path / "password-attempts.json"
    monkeypatch.setenv(attempts.PATH_ENV, str(path))
    return path


def locked_drive(make_loop, sim):
    dev = make_loop(SIZE, ORIGINAL)
    sim.add(dev, kind="ata", ata=dict(LOCKED))
    return dev, replace(drive_of(dev), transport=Transport.SATA)


def test_without_the_password_nothing_is_planned(make_loop, engine, sim):
    dev, drive = locked_drive(make_loop, sim)
    why = engine.check(drive, "auto")
    assert "locked: needs the user or master password, else destroy" in why
    assert read_all(dev)[: len(ORIGINAL)] == ORIGINAL


def test_the_right_password_erases_and_leaves_security_disabled(make_loop, engine, sim):
    dev, drive = locked_drive(make_loop, sim)
    engine.services.planner.give_secret(drive.identity, make_secret("user", "s3cret"))
    job = engine.start(drive, "auto", "sample")
    assert engine.wait(timeout=120)
    result = engine.results()[job]
    assert result.state == JobState.PASSED, result.reason
    assert result.executed == "ata-erase-password"
    assert result.steps[0].name == "ATA security erase (enhanced) with the operator's user password"
    assert "security disabled (read back)" in result.steps[0].output_excerpt
    assert sim.device(dev)["ata"]["enabled"] is False
    assert ORIGINAL not in read_all(dev)
    assert result.security is not None
    assert result.security["lock"] == "locked: needs the user or master password, else destroy"
    assert "s3cret" not in json.dumps(asdict(result), default=str)


def test_a_wrong_password_fails_with_the_drives_answer_and_writes_nothing(
    make_loop, engine, sim, attempt_file
):
    """Two jobs with a wrong password: each record states the drive's answer and this station's
    count; the second job's plan says how many were refused before it."""
    dev, drive = locked_drive(make_loop, sim)
    for n, left in ((1, 4), (2, 3)):
        engine.services.planner.give_secret(drive.identity, make_secret("user", "Kx9-pw"))
        job = engine.start(drive, "auto", "sample")
        assert engine.wait(timeout=120)
        result = engine.results()[job]
        assert result.state == JobState.FAILED
        words = (
            "wrong password (drive answered: SG_IO: bad/missing sense data, sb[]:  70 00 0b 00 "
            f"00 00 00 0a 00 00 00 00 04 41 00 00); attempt {n} by this station since boot; the "
            f"drive allows 5 per power cycle, so at most {left} remain — after that it needs a "
            "power cycle"
        )
        assert result.reason.endswith(words)  # the job's reason, as the screen and CLI show it
        (step,) = result.steps
        assert step.output_excerpt == words
        assert words in step.error
        assert not sim.ran("--security-erase")
        assert read_all(dev)[: len(ORIGINAL)] == ORIGINAL
        assert "Kx9-pw" not in json.dumps(asdict(result), default=str)
    assert any("1 password attempt by this station since boot" in r for r in result.decision)
    assert "Kx9-pw" not in attempt_file.read_text()
