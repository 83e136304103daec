"""The password erase on a locked ATA drive, through the tool seam: real ``hdparm -I`` of a
locked Crucial M4 and its real answer to a refused SECURITY UNLOCK (tests/fixtures/hdparm), with
the station's count of its attempts (steps/attempts.py) in each test's own file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from wipestation.engine.records import failed_step
from wipestation.errors import ToolFailedError, ToolTimeoutError, UnsupportedError
from wipestation.model import StepRecord, Transport
from wipestation.planning import policy
from wipestation.steps import attempts
from wipestation.steps.locked import AtaPasswordEraseStep
from wipestation.steps.secret import make_secret
from wipestation.tools import hdparm

from tests.policy import drives as d
from tests.policy.test_probe_and_steps import Ctx
from tests.tools.fakes import FakeRunner, done, fixture

DEV = "/dev/sda"
LOCKED = fixture("hdparm/sata-ssd-crucial-m4-locked-expired-empty-serial.txt")
#: derived, not captured: the same drive after a power cycle (its counter line reads "not")
LOCKED_FRESH = LOCKED.replace("\t\texpired: security count", "\tnot\texpired: security count")
#: derived: the same drive once its password is gone (security not enabled, not locked)
UNLOCKED = LOCKED_FRESH.replace("\t\tenabled\n\t\tlocked", "\tnot\tenabled\n\tnot\tlocked")
REFUSED = fixture("hdparm/sata-ssd-crucial-m4-security-unlock-refused.txt")
EIO = 5  # the exit status was not published: hdparm exits with the failed ioctl's errno


@pytest.fixture(autouse=True)
def attempt_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Each test counts into its own file, never the host's /run/wipestation."""
    path = tmp_path / "password-attempts.json"
    monkeypatch.setenv(attempts.PATH_ENV, str(path))
    return path


def step(runner: FakeRunner, who: str = "master", password: str = "EINS") -> AtaPasswordEraseStep:
    secret = make_secret(who, password)
    return AtaPasswordEraseStep(
        runner=runner, dev=DEV, secret=secret, enhanced=True, identity="WWN-500a07510902b401"
    )


def runner_with(*identify: str) -> FakeRunner:
    r = FakeRunner()
    ident = hdparm.build_identify_argv(DEV)
    r.add(ident, [done(ident, text) for text in identify])
    return r


def test_the_fixtures_are_what_the_tests_say():
    for text, locked, expired in ((LOCKED, True, True), (LOCKED_FRESH, True, False)):
        ident = hdparm.parse_identify(text)
        assert ident is not None
        assert ident.security is not None
        assert (ident.security.locked, ident.security.count_expired) == (locked, expired)


def test_an_expired_counter_means_no_attempt_at_all():
    r = runner_with(LOCKED)
    with pytest.raises(UnsupportedError, match="expired: security count.*no attempt was made"):
        step(r).run(Ctx())
    assert not r.ran("--security-unlock")
    assert not r.ran("--security-erase-enhanced")


def test_a_wrong_password_records_the_drives_answer_and_the_counter_never_the_password():
    r = runner_with(LOCKED_FRESH, LOCKED_FRESH)
    unlock = hdparm.build_security_argv(DEV, "unlock", "m", "EINS")
    r.add(unlock, done(unlock, REFUSED, rc=EIO))
    with pytest.raises(ToolFailedError) as e:
        step(r).run(Ctx())
    msg = str(e.value)
    assert "wrong password (drive answered: SECURITY_UNLOCK: Input/output error)" in msg
    assert "attempt 1 by this station since boot; the drive allows 5 per power cycle" in msg
    assert "EINS" not in msg
    assert "EINS" not in " ".join(e.value.argv)
    assert not r.ran("--security-erase-enhanced")  # nothing was written


def test_the_fifth_wrong_password_says_power_cycle():
    r = runner_with(LOCKED_FRESH, LOCKED)
    unlock = hdparm.build_security_argv(DEV, "unlock", "m", "EINS")
    r.add(unlock, done(unlock, REFUSED, rc=EIO))
    with pytest.raises(ToolFailedError, match="expired: the drive refuses further attempts"):
        step(r).run(Ctx())


def test_the_right_password_erases_and_security_is_read_back_disabled():
    r = runner_with(LOCKED_FRESH, UNLOCKED)
    for action in ("unlock", "erase-enhanced"):
        argv = hdparm.build_security_argv(DEV, action, "u", "s3cret")
        r.add(argv, done(argv, ""))
    ctx = Ctx()
    rec = step(r, "user", "s3cret").run(ctx)
    assert rec.ok
    assert "security disabled (read back)" in rec.output_excerpt
    assert "--security-erase-enhanced ****" in rec.command
    assert not any("s3cret" in line for line in (*ctx.lines, rec.command, rec.output_excerpt))
    assert not r.ran("--security-disable")


def test_security_still_enabled_after_the_erase_is_disabled_or_the_step_says_why():
    r = runner_with(LOCKED_FRESH, LOCKED_FRESH, LOCKED_FRESH)
    for action in ("unlock", "erase-enhanced", "disable"):
        argv = hdparm.build_security_argv(DEV, action, "u", "s3cret")
        r.add(argv, done(argv, ""))
    with pytest.raises(ToolFailedError, match="still enabled after the erase and a SECURITY"):
        step(r, "user", "s3cret").run(Ctx())
    assert r.ran("--security-disable")


# ---- the station's count of its attempts (steps/attempts.py) --------------------------------


def refusing(*identify: str) -> FakeRunner:
    """hdparm on the Crucial M4: ``identify`` in turn, and its real answer to a wrong password."""
    r = runner_with(*identify)
    unlock = hdparm.build_security_argv(DEV, "unlock", "m", "EINS")
    r.add(unlock, done(unlock, REFUSED, rc=EIO))
    return r


def planned_step(ident: str, runner: FakeRunner) -> tuple[list[str], AtaPasswordEraseStep]:
    """The plan ``auto`` makes with the master password, its reasons and its step on ``runner``."""
    drv = d.drive(Transport.SATA, "sda")
    caps = d.caps(drv, ata=hdparm.parse_identify(ident))
    plan = policy.plan(drv, caps, "auto", "sample", secret=make_secret("master", "EINS"))
    (only,) = plan.steps
    assert isinstance(only, AtaPasswordEraseStep)
    assert only.identity == drv.identity  # counted per drive, not per /dev path
    return list(plan.reasons), replace(only, runner=runner)


def recorded_failure(s: AtaPasswordEraseStep) -> StepRecord:
    """Run the step as the engine does and build the record of its failure."""
    ctx = Ctx()
    with pytest.raises(ToolFailedError) as e:
        s.run(ctx)
    return failed_step(s.name, s.kind, "2026-12-06T20:00:00+00:00", e.value, ctx.lines)


def test_two_wrong_passwords_are_recorded_with_the_answer_and_the_count(attempt_file):
    reasons, first = planned_step(LOCKED_FRESH, refusing(LOCKED_FRESH, LOCKED_FRESH))
    assert not any("password attempt" in r for r in reasons)  # none made yet: nothing to say
    rec = recorded_failure(first)
    assert "attempt 1 by this station since boot" in rec.error
    assert "so at most 4 remain" in rec.error

    reasons, second = planned_step(LOCKED_FRESH, refusing(LOCKED_FRESH, LOCKED_FRESH))
    assert (
        "ata-erase-password: 1 password attempt by this station since boot; the drive allows 5 "
        "per power cycle, so at most 4 remain — after that it needs a power cycle (attempts "
        "before this boot or by other software are unknown)"
    ) in reasons
    rec = recorded_failure(second)
    words = (
        "wrong password (drive answered: SECURITY_UNLOCK: Input/output error); attempt 2 by this "
        "station since boot; the drive allows 5 per power cycle, so at most 3 remain — after "
        "that it needs a power cycle"
    )
    assert rec.error == f"hdparm failed with exit status {EIO}: {words}"
    assert rec.output_excerpt == words
    assert (rec.ok, rec.exit_status) == (False, EIO)
    assert rec.command == "hdparm --user-master m --security-unlock **** /dev/sda"
    assert "EINS" not in repr(rec)
    assert "EINS" not in attempt_file.read_text()
    assert '"S1": [2, false]' in attempt_file.read_text()


def test_the_attempt_that_would_be_the_fifth_known_is_warned_in_the_plan():
    for _ in range(attempts.ALLOWED - 1):
        attempts.station_log().add("S1")
    reasons, _ = planned_step(LOCKED_FRESH, FakeRunner())
    warning = next(r for r in reasons if "warning" in r)
    assert warning.startswith(
        "ata-erase-password: warning: 4 password attempts by this station since boot; this is "
        "attempt 5, the last of the 5 the drive allows per power cycle"
    )


def test_the_drive_reporting_expired_needs_a_power_cycle_and_nothing_more_is_tried():
    """Two wrong passwords, after the second the real capture of the expired M4; then no plan,
    no attempt — until a power cycle resets the drive's counter and the station's count."""
    _, first = planned_step(LOCKED_FRESH, refusing(LOCKED_FRESH, LOCKED_FRESH))
    recorded_failure(first)
    _, second = planned_step(LOCKED_FRESH, refusing(LOCKED_FRESH, LOCKED))
    assert recorded_failure(second).output_excerpt == (
        "wrong password (drive answered: SECURITY_UNLOCK: Input/output error); attempt 2 by this "
        "station since boot; expired: the drive refuses further attempts until it is "
        "power-cycled"
    )
    with pytest.raises(UnsupportedError) as e:
        planned_step(LOCKED, FakeRunner())
    assert "expired: security count" in str(e.value)
    assert "(2 password attempts by this station since boot)" in str(e.value)

    r = refusing(LOCKED)  # a job started before the probe saw it expired
    with pytest.raises(UnsupportedError) as e:
        replace(second, runner=r).run(Ctx())
    assert str(e.value).startswith("expired: the drive refuses further attempts until it is")
    assert str(e.value).endswith(
        "no attempt was made (2 password attempts by this station since boot)"
    )
    assert not r.ran("--security-unlock")

    power_cycled = refusing(LOCKED_FRESH, LOCKED_FRESH)
    rec = recorded_failure(replace(second, runner=power_cycled))
    assert "attempt 1 by this station since boot; the drive allows 5" in rec.output_excerpt


def test_an_unlock_without_an_answer_is_counted_the_drive_may_have():
    r = runner_with(LOCKED_FRESH)
    unlock = hdparm.build_security_argv(DEV, "unlock", "m", "EINS")
    r.add(unlock, ToolTimeoutError("hdparm --security-unlock EINS: no answer after 30 s"))
    with pytest.raises(ToolTimeoutError) as e:
        step(r).run(Ctx())
    assert str(e.value) == (
        "hdparm --security-unlock ****: no answer after 30 s "
        "(counted as attempt 1 by this station since boot: the drive may have)"
    )
    assert attempts.station_log().tally("WWN-500a07510902b401").made == 1


def test_an_unreadable_counter_after_the_refusal_still_records_the_answer_and_the_count():
    r = FakeRunner()
    ident = hdparm.build_identify_argv(DEV)
    r.add(ident, [done(ident, LOCKED_FRESH), ToolTimeoutError("hdparm -I: no answer after 30 s")])
    unlock = hdparm.build_security_argv(DEV, "unlock", "m", "EINS")
    r.add(unlock, done(unlock, REFUSED, rc=EIO))
    rec = recorded_failure(step(r))
    assert rec.output_excerpt == (
        "wrong password (drive answered: SECURITY_UNLOCK: Input/output error); attempt 1 by this "
        "station since boot; the drive's EXPIRE bit could not be read; the drive allows 5 per "
        "power cycle, so at most 4 remain — after that it needs a power cycle"
    )


def test_an_erase_after_the_password_unlocked_the_drive_is_not_a_counted_attempt():
    """The same password just unlocked the drive: an erase that then runs out of time is a
    failure of the erase, not a wrong password."""
    r = runner_with(LOCKED_FRESH)
    unlock = hdparm.build_security_argv(DEV, "unlock", "m", "EINS")
    r.add(unlock, done(unlock, ""))
    erase = hdparm.build_security_argv(DEV, "erase-enhanced", "m", "EINS")
    r.add(erase, ToolTimeoutError("hdparm --security-erase-enhanced EINS: killed after 240 s"))
    with pytest.raises(ToolTimeoutError) as e:
        step(r).run(Ctx())
    assert str(e.value) == "hdparm --security-erase-enhanced ****: killed after 240 s"
    assert attempts.station_log().tally("WWN-500a07510902b401").made == 0
