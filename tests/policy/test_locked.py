"""Locked drives: no overwrite is ever planned; with the operator's secret, the method that opens
the drive; without it, the refusal says what to do. From real captured ``hdparm -I`` output."""

from __future__ import annotations

from dataclasses import replace

import pytest
from wipestation.errors import UnsupportedError
from wipestation.model import Transport
from wipestation.planning import policy
from wipestation.steps.locked import AtaPasswordEraseStep
from wipestation.steps.secret import make_secret
from wipestation.tools import hdparm

from tests.policy import drives as d
from tests.tools.fakes import fixture

LOCKED_FIXTURE = "hdparm/sata-ssd-crucial-m4-locked-expired-empty-serial.txt"


def crucial_m4_locked() -> hdparm.AtaIdentify:
    """A real Crucial M4: security enabled + locked, attempt counter expired."""
    ident = hdparm.parse_identify(fixture(LOCKED_FIXTURE))
    assert ident is not None
    assert ident.security is not None
    return ident


def after_power_cycle(ident: hdparm.AtaIdentify) -> hdparm.AtaIdentify:
    """The same capture with the counter reset (what a power cycle does): derived, not captured."""
    assert ident.security is not None
    return replace(ident, security=replace(ident.security, count_expired=False))


def sata(ident: hdparm.AtaIdentify):
    drv = d.drive(Transport.SATA, "sda")
    return drv, d.caps(drv, ata=ident)


@pytest.mark.parametrize("method", ["auto", "nist-clear", "overwrite-zero", "ata-sanitize-block"])
def test_a_locked_ata_drive_gets_no_plan_and_the_refusal_says_password_else_destroy(method):
    drv, caps = sata(after_power_cycle(crucial_m4_locked()))
    with pytest.raises(UnsupportedError) as e:
        policy.plan(drv, caps, method, "sample")
    assert "locked: needs the user or master password, else destroy" in str(e.value)
    assert "Opal" not in str(e.value)  # the probe used to blame a locked SED


def test_the_expired_counter_is_in_the_refusal():
    drv, caps = sata(crucial_m4_locked())
    match = "expired: security count: the drive refuses further attempts until it is power-cy"
    with pytest.raises(UnsupportedError, match=match):
        policy.plan(drv, caps, "auto", "sample")


def test_with_a_password_auto_plans_the_password_erase_and_no_overwrite():
    drv, caps = sata(after_power_cycle(crucial_m4_locked()))
    secret = make_secret("master", "EINS")
    plan = policy.plan(drv, caps, "auto", "sample", secret=secret)
    assert plan.method == "ata-erase-password"
    (step,) = plan.steps
    assert isinstance(step, AtaPasswordEraseStep)
    assert (step.dev, step.enhanced, step.secret.kind) == ("/dev/sda", True, "master")
    assert plan.fallback is None  # a wrong password leaves a locked drive: nothing to fall to
    assert plan.level == "clear"  # enhanced erase on an SSD: Clear (stricter reading)
    assert plan.reasons[0].startswith("auto: locked: needs the user or master password")
    assert "EINS" not in repr(plan)
    assert "EINS" not in " ".join(plan.reasons)


def test_with_a_password_but_an_expired_counter_nothing_is_attempted():
    drv, caps = sata(crucial_m4_locked())
    with pytest.raises(UnsupportedError, match="expired: security count"):
        policy.plan(drv, caps, "auto", "sample", secret=make_secret("user", "x"))


def test_a_psid_is_not_an_ata_password():
    drv, caps = sata(after_power_cycle(crucial_m4_locked()))
    with pytest.raises(UnsupportedError, match="needs the operator's user or master"):
        policy.plan(drv, caps, "ata-erase-password", "sample", secret=make_secret("psid", "0" * 32))


def test_an_unreadable_lock_state_is_cannot_tell_never_an_overwrite():
    ident = after_power_cycle(crucial_m4_locked())
    assert ident.security is not None
    drv, caps = sata(replace(ident, security=replace(ident.security, locked=None)))
    with pytest.raises(UnsupportedError, match="cannot tell"):
        policy.plan(drv, caps, "nist-clear", "sample")


def test_an_unlocked_drive_keeps_its_auto_plan():
    drv, caps = sata(d.skhynix_not_frozen())
    assert policy.plan(drv, caps, "auto", "sample").method == "ata-sanitize-crypto"


def test_secrets_are_checked_and_masked():
    psid = make_secret("psid", "0123-4567 89ab cdef 0123 4567 89AB CDEF")
    assert psid.value == "0123456789ABCDEF0123456789ABCDEF"
    assert "0123" not in repr(psid)
    assert str(psid) == "psid ****"
    for kind, value in (("psid", "short"), ("user", ""), ("user", "x" * 33), ("pin", "1")):
        with pytest.raises(UnsupportedError):
            make_secret(kind, value)


def test_a_sata_drive_without_an_ata_answer_is_planned_saying_its_lock_is_unknown() -> None:
    """hdparm -I gave nothing (a bridge without pass-through, a failing tool): the overwrite is
    planned — a refusal would stop every such drive — but the plan says it before any write."""
    from wipestation.planning.locks import UNASKED_ATA

    drv = d.drive(Transport.SATA, rotational=True)
    plan = policy.plan(drv, d.caps(drv, ata=None), "auto", "sample")
    assert UNASKED_ATA in plan.reasons
    nvme = d.drive(Transport.NVME)
    assert UNASKED_ATA not in policy.plan(nvme, d.caps(nvme), "auto", "sample").reasons
