"""The probe and the firmware steps, with captured output replayed through FakeRunner."""

from __future__ import annotations

import json
import os
import threading

import pytest
from wipestation.errors import ToolFailedError, UnsupportedError
from wipestation.model import Transport
from wipestation.planning.medium import medium_of
from wipestation.planning.probe import probe
from wipestation.steps import firmware as fw
from wipestation.tools import hdparm, nvme, smartctl

from tests.policy import drives as d
from tests.tools.fakes import FakeRunner, done, fixture

NO_READ = {"read_first_block": lambda path: True}


class Ctx:
    """A StepContext that records progress and log lines."""

    def __init__(self) -> None:
        self.cancel = threading.Event()
        self.progress_seen: list[tuple[int, int, str]] = []
        self.lines: list[str] = []

    def progress(self, done: int, total: int, phase: str = "") -> None:
        self.progress_seen.append((done, total, phase))

    def log(self, line: str) -> None:
        self.lines.append(line)


def sanitize_log(status: int, sprog: int) -> str:
    sstat = {"global_erased": 0, "no_cmplted_passes": 0, "status": f"({status}) x"}
    return json.dumps({"nvme0": {"sprog": sprog, "sstat": sstat}})


# ---- probe ------------------------------------------------------------------------------------


def test_probe_nvme_reads_id_ctrl_and_smart(tmp_path):
    drv = d.drive(Transport.NVME, "nvme0n1")
    (tmp_path / "nvme0n1").mkdir()
    idc = nvme.build_id_ctrl_argv("/dev/nvme0")
    sm = smartctl.build_argv("/dev/nvme0n1")
    runner = FakeRunner(
        {
            tuple(idc): done(idc, fixture("nvme/wdc-pc-sn730-id-ctrl.json")),
            tuple(sm): done(sm, fixture("smartctl/nvme-samsung-970evo-x.json")),
        }
    )
    caps = probe(drv, runner=runner, sys_block=str(tmp_path), mem_sleep="/nonexistent", **NO_READ)
    assert medium_of(drv, caps) == "nvme"
    assert caps.nvme is not None
    assert caps.nvme.sanitize_crypto
    assert caps.namespaces == ("/dev/nvme0n1",)
    assert caps.smart is not None
    assert caps.smart.percentage_used == 3
    assert caps.availability_errors == ()
    assert json.loads(json.dumps(caps.to_json()))["nvme"]["sanicap"] == "0x60000003"


def test_probe_sata_with_missing_tools_reports_them_instead_of_crashing(tmp_path):
    drv = d.drive(Transport.SATA)
    caps = probe(drv, runner=FakeRunner(), sys_block=str(tmp_path), **NO_READ)
    assert caps.ata is None
    assert any("hdparm -I" in e and "not found" in e for e in caps.availability_errors)
    assert any("smartctl" in e for e in caps.availability_errors)


def test_probe_sata_frozen_drive_and_deep_sleep(tmp_path):
    drv = d.drive(Transport.SATA)
    mem = tmp_path / "mem_sleep"
    mem.write_text("s2idle [deep]\n")
    ident = hdparm.build_identify_argv(drv.path)
    text = fixture("hdparm/sata-ssd-intel-540s-ssdsc2kw512g8-frozen.txt")
    hpa = hdparm.build_hpa_argv(drv.path)
    runner = FakeRunner(
        {
            tuple(ident): done(ident, text),
            tuple(hpa): done(hpa, " max sectors   = 1000215216/1000215216, HPA is disabled\n"),
        }
    )
    caps = probe(drv, runner=runner, sys_block=str(tmp_path), mem_sleep=str(mem), **NO_READ)
    assert caps.ata_frozen
    assert caps.mem_sleep_deep
    assert medium_of(drv, caps) == "ssd"
    assert caps.hpa is not None
    assert caps.hpa.hidden_sectors == 0
    as_json = json.loads(json.dumps(caps.to_json()))
    assert as_json["ata"]["security"]["frozen"] is True
    assert as_json["hpa"]["hidden"] == 0


def test_probe_usb_bridge_asks_no_pass_through_unless_allowlisted(tmp_path):
    drv = d.drive(Transport.USB, usb_id="152d:0578")
    runner = FakeRunner()
    caps = probe(drv, runner=runner, sys_block=str(tmp_path), **NO_READ)
    assert not runner.ran("hdparm")
    assert caps.usb_id == "152d:0578"
    assert caps.usb_passthrough == ""
    probe(drv, runner=runner, sys_block=str(tmp_path), allowlist={"152d:0578": "ok"}, **NO_READ)
    assert runner.ran("hdparm", "-I")


def test_probe_of_a_real_loop_device(make_loop):
    from wipestation.discovery.inventory import Inventory

    dev = make_loop(4 << 20, b"data")
    drv = Inventory().get(dev)
    assert drv is not None
    runner = FakeRunner()
    caps = probe(drv, runner=runner)
    assert medium_of(drv, caps) == "virtual"
    assert caps.queue is not None
    assert caps.queue.discard
    assert caps.opal_locked is False
    assert runner.calls == []  # nothing to ask a loop device


# ---- steps ------------------------------------------------------------------------------------


def nvme_runner(*logs: str) -> FakeRunner:
    san = nvme.build_sanitize_argv("/dev/nvme0", nvme.SanitizeAction.CRYPTO_ERASE)
    log = nvme.build_sanitize_log_argv("/dev/nvme0")
    rescan = nvme.build_ns_rescan_argv("/dev/nvme0")
    return FakeRunner(
        {
            tuple(san): done(san, "Sanitize command: Success\n"),
            tuple(log): [done(log, text) for text in logs],
            tuple(rescan): done(rescan),
        }
    )


def test_nvme_sanitize_polls_the_log_and_rescans():
    runner = nvme_runner(sanitize_log(2, 0), sanitize_log(2, 32768), sanitize_log(1, 65535))
    step = fw.NvmeSanitizeStep(runner=runner, sleep=lambda s: None, ctrl="/dev/nvme0")
    ctx = Ctx()
    rec = step.run(ctx)
    assert rec.ok
    assert rec.command == "nvme sanitize /dev/nvme0 --sanact=4"
    assert [p[0] for p in ctx.progress_seen] == [0, 500, 1000]
    assert runner.calls[-1] == ("nvme", "ns-rescan", "/dev/nvme0")


def test_nvme_sanitize_that_never_ran_is_a_failure():
    runner = nvme_runner(sanitize_log(0, 65535))
    step = fw.NvmeSanitizeStep(runner=runner, sleep=lambda s: None, ctrl="/dev/nvme0")
    with pytest.raises(ToolFailedError, match="none ran"):
        step.run(Ctx())


def test_ata_sanitize_after_silent_abort_is_a_failure():
    """The Crucial MX500 replay: exit 0 + abort sense data, then SD0 idle."""
    dev = "/dev/sda"
    cmd = hdparm.build_sanitize_argv(dev, "block")
    stat = hdparm.build_sanitize_status_argv(dev)
    aborted = fixture("hdparm/sata-ssd-crucial-mx500-sanitize-block-erase-aborted.txt")
    idle = fixture("hdparm/sata-ssd-crucial-mx500-sanitize-status-idle-after-abort.txt")
    runner = FakeRunner({tuple(cmd): done(cmd, aborted), tuple(stat): done(stat, idle)})
    with pytest.raises(ToolFailedError, match="aborted"):
        fw.AtaSanitizeStep(runner=runner, dev=dev, mode="block").run(Ctx())
    runner2 = FakeRunner(
        {tuple(cmd): done(cmd, "Operation started\n"), tuple(stat): done(stat, idle)}
    )
    with pytest.raises(ToolFailedError, match="no sanitize ran"):
        fw.AtaSanitizeStep(runner=runner2, sleep=lambda s: None, dev=dev, mode="block").run(Ctx())


def security_runner(erase_output: str, enabled_after: bool) -> FakeRunner:
    dev, pw = "/dev/sdb", fw.ATA_PASSWORD
    text = fixture(
        "hdparm/sata-ssd-skhynix-hfs128g39tnd-not-frozen-sanitize-crypto-block-spaces.txt"
    )
    enabled = text.replace("not    enabled", "       enabled")
    ident = hdparm.build_identify_argv(dev)
    r = FakeRunner()
    setp = hdparm.build_set_pass_argv(dev, pw)
    r.add(setp, done(setp, "Issuing SECURITY_SET_PASS command\n"))
    after = enabled if enabled_after else text
    r.add(ident, [done(ident, enabled), done(ident, after)])
    for argv, out in (
        (hdparm.build_erase_argv(dev, pw, True), erase_output),
        (hdparm.build_unlock_argv(dev, pw), ""),
        (hdparm.build_disable_argv(dev, pw), ""),
    ):
        r.add(argv, done(argv, out))
    return r


def test_ata_security_erase_success_does_not_touch_the_password_again():
    runner = security_runner("Issuing SECURITY_ERASE command\n", enabled_after=False)
    rec = fw.AtaSecurityEraseStep(runner=runner, dev="/dev/sdb").run(Ctx())
    assert rec.ok
    assert "****" in rec.command
    assert fw.ATA_PASSWORD not in rec.command
    assert not runner.ran("--security-disable")


def test_ata_security_erase_abort_always_clears_the_password():
    abort = "Issuing SECURITY_ERASE command\nSG_IO: bad/missing sense data, sb[]:  70 00 0b\n"
    runner = security_runner(abort, enabled_after=True)
    ctx = Ctx()
    with pytest.raises(ToolFailedError, match="aborted"):
        fw.AtaSecurityEraseStep(runner=runner, dev="/dev/sdb").run(ctx)
    assert runner.ran("--security-disable", fw.ATA_PASSWORD)
    assert any("password cleanup" in line for line in ctx.lines)


def test_unfreeze_that_leaves_the_drive_frozen_is_unsupported():
    dev = "/dev/sdc"
    ident = hdparm.build_identify_argv(dev)
    frozen = fixture("hdparm/sata-ssd-intel-540s-ssdsc2kw512g8-frozen.txt")
    rtc = ["rtcwake", "-m", "mem", "-s", "10"]
    runner = FakeRunner({tuple(ident): done(ident, frozen), tuple(rtc): done(rtc)})
    with pytest.raises(UnsupportedError, match="hot-replug"):
        fw.UnfreezeStep(runner=runner, dev=dev).run(Ctx())
    assert runner.calls.count(tuple(rtc)) == 1


def test_block_ioctl_step_on_a_loop_device(make_loop):
    dev = make_loop(4 << 20, b"secret")

    class LoopCtx(Ctx):
        def open_for_write(self, direct: bool = True) -> int:
            return os.open(dev, os.O_RDWR)

    rec = fw.BlockIoctlStep().run(LoopCtx())
    assert rec.ok
    assert rec.bytes_written == 4 << 20
    fd = os.open(dev, os.O_RDONLY)
    try:
        assert os.pread(fd, 4 << 20, 0) == bytes(4 << 20)
    finally:
        os.close(fd)
