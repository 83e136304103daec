"""Unknown is never permissive: an unreadable security line never lets a security erase run."""

from __future__ import annotations

import pytest
from wipestation.errors import UnsupportedError
from wipestation.model import Transport
from wipestation.planning import policy
from wipestation.steps import firmware as fw
from wipestation.tools import hdparm

from tests.policy import drives as d
from tests.policy.test_probe_and_steps import Ctx
from tests.tools.fakes import FakeRunner, done, fixture

SKHYNIX = "hdparm/sata-ssd-skhynix-hfs128g39tnd-not-frozen-sanitize-crypto-block-spaces.txt"


def _hdd_with_frozen_line(mangled: str) -> hdparm.AtaIdentify:
    """The real SK hynix capture (not frozen) with its frozen line replaced by ``mangled``."""
    text = fixture(SKHYNIX).replace("    not    frozen\n", mangled)
    ident = hdparm.parse_identify(text)
    assert ident is not None
    assert ident.security is not None
    return d.as_hdd(ident, frozen=ident.security.frozen)


@pytest.mark.parametrize("mangled", ["    not    frozen?\n", "", "    <i>not</i> frozen\n"])
@pytest.mark.parametrize("deep", [True, False])
def test_unknown_frozen_never_selects_a_security_erase(mangled, deep):
    drv = d.drive(Transport.SATA, rotational=True)
    ident = _hdd_with_frozen_line(mangled)
    assert ident.security is not None
    assert ident.security.frozen is None
    c = d.caps(drv, ata=ident, mem_sleep_deep=deep)
    plan = policy.plan(drv, c, "auto", "sample")
    assert plan.method == "nist-clear"
    assert not any(isinstance(s, fw.AtaSecurityEraseStep) for s in plan.steps)
    assert any("security state unreadable (frozen unknown)" in r for r in plan.reasons)
    for named in ("ata-secure-erase-enhanced", "ata-secure-erase"):
        with pytest.raises(UnsupportedError, match="unreadable"):
            policy.plan(drv, c, named, "sample")


def test_the_same_capture_read_cleanly_still_gets_its_security_erase():
    """The control: only the unreadable line made the difference."""
    drv = d.drive(Transport.SATA, rotational=True)
    ident = _hdd_with_frozen_line("    not    frozen\n")
    assert ident.security is not None
    assert ident.security.frozen is False
    plan = policy.plan(drv, d.caps(drv, ata=ident), "auto", "sample")
    assert isinstance(plan.steps[-1], fw.AtaSecurityEraseStep)


def test_an_unfreeze_whose_frozen_line_reads_back_unreadable_is_unsupported():
    """After the suspend cycle the drive's frozen line cannot be read: that is not "unfrozen"."""
    dev = "/dev/sdc"
    ident = hdparm.build_identify_argv(dev)
    unreadable = fixture(SKHYNIX).replace("    not    frozen\n", "    not    frozen?\n")
    rtc = ["rtcwake", "-m", "mem", "-s", "10"]
    runner = FakeRunner({tuple(ident): done(ident, unreadable), tuple(rtc): done(rtc)})
    with pytest.raises(UnsupportedError, match="unreadable"):
        fw.UnfreezeStep(runner=runner, dev=dev).run(Ctx())
