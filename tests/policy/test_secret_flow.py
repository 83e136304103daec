"""A secret from the command line reaches one drive's plan, and is gone after its job."""

from __future__ import annotations

import argparse

import pytest
from wipestation.cli import wipe_cmd
from wipestation.errors import UnsupportedError, WipestationError
from wipestation.model import JobState, Progress, Transport
from wipestation.planning.planner import Planner
from wipestation.steps.secret import Secret, SecretKind

from tests.policy import drives as d
from tests.policy.test_locked import after_power_cycle, crucial_m4_locked

PSID = "0123456789ABCDEF0123456789ABCDEF"


def args(**kw: str) -> argparse.Namespace:
    base = {"password": "", "master_password": "", "psid": ""}
    return argparse.Namespace(**{**base, **kw})


def test_the_flags_make_one_checked_secret():
    assert wipe_cmd.secret_of(args()) is None
    assert wipe_cmd.secret_of(args(master_password="EINS")) == Secret(SecretKind.MASTER, "EINS")
    assert wipe_cmd.secret_of(args(psid=PSID.lower())) == Secret(SecretKind.PSID, PSID)
    with pytest.raises(WipestationError, match="give one of --password, --master-password"):
        wipe_cmd.secret_of(args(password="a", psid=PSID))
    with pytest.raises(WipestationError, match="--psid: a PSID is 32 letters and digits"):
        wipe_cmd.secret_of(args(psid="123"))


def test_the_planner_plans_with_the_secret_of_that_drive_only_until_its_job_ends():
    drv = d.drive(Transport.SATA, "sda")
    caps = d.caps(drv, ata=after_power_cycle(crucial_m4_locked()))
    planner = Planner(prober=lambda drive: caps)
    with pytest.raises(UnsupportedError, match="locked: needs the user or master password"):
        planner.plan(drv, "auto", "sample")
    planner.give_secret(drv.identity, Secret(SecretKind.USER, "s3cret"))
    assert planner.plan(drv, "auto", "sample").method == "ata-erase-password"
    planner.on_progress(Progress("j1", drv.path, drv.identity, JobState.FAILED))
    with pytest.raises(UnsupportedError, match="locked"):
        planner.plan(drv, "auto", "sample")
