"""The password erase on a locked ATA drive, through the tool seam: real ``hdparm -I`` of a
locked Crucial M4 and its real answer to a refused SECURITY UNLOCK (tests/fixtures/hdparm)."""

from __future__ import annotations

import pytest
from wipestation.errors import ToolFailedError, UnsupportedError
from wipestation.steps.locked import AtaPasswordEraseStep
from wipestation.steps.secret import make_secret
from wipestation.tools import hdparm

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


def step(runner: FakeRunner, who: str = "master", password: str = "EINS") -> AtaPasswordEraseStep:
    secret = make_secret(who, password)
    return AtaPasswordEraseStep(runner=runner, dev=DEV, secret=secret, enhanced=True)


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
    assert "SECURITY_UNLOCK: Input/output error" in msg  # the drive's answer, as hdparm gave it
    assert "wrong password; the attempt counter has not expired" in msg
    assert "EINS" not in msg
    assert "EINS" not in " ".join(e.value.argv)
    assert not r.ran("--security-erase-enhanced")  # nothing was written


def test_the_fifth_wrong_password_says_power_cycle():
    r = runner_with(LOCKED_FRESH, LOCKED)
    unlock = hdparm.build_security_argv(DEV, "unlock", "m", "EINS")
    r.add(unlock, done(unlock, REFUSED, rc=EIO))
    with pytest.raises(ToolFailedError, match="expired: security count: power-cycle"):
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
