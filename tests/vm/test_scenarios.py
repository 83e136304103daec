"""Issue 8: end-to-end scenarios. The real image boots in QEMU with a virtual rack; every result
is checked from the host after the guest is gone: backing files scanned in full for the fill
pattern, sticks read with mtools, records validated against the schema and their signatures
verified with the key on the stick. Nothing the guest says about itself is taken as proof —
the console lines are only used to know when to look.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from wipestation.reports.record import qr_payload

from tests.reports.escpos_decode import decode
from tests.vm.hostcheck import (
    BOOT_FAT,
    Reports,
    Stick,
    all_zero,
    pattern_traces,
    result_of,
    trace_span,
)
from tests.vm.machine import BOOT_FAT_OFFSET, Boot, Image, Machine, head_sha256
from tests.vm.rack import PATTERN, Disk, Fault, Rack, ReportStick

pytestmark = pytest.mark.vm

READY = r"WIPESTATION READY \S+ station=\S+ tty=ttyS0"
BOOT_TIMEOUT = 240
HEADLESS = "wipestation.console=ttyS0 wipestation.ui=headless wipestation.auto=1"
#: A sentinel the technician's report stick already carries: it must survive byte for byte.
OLD_FILE = ("/notes.txt", b"last week's notes, not to be touched\n")
RESULT = r"^RESULT (\S+) (\S+) (PASS|FAIL) (\S+) (\S+) ?(.*)$"


def unattended(
    image: Image,
    method: str,
    *extra: str,
    poweroff: bool = True,
    stick: bool = False,
    **kw: object,
) -> Boot:
    """Kernel options for an unattended run; ``stick`` also attaches (a copy of) the boot stick,
    named on the command line as GRUB names it."""
    opts = [
        HEADLESS,
        f"wipestation.method={method}",
        "wipestation.verify=full",
        f"wipestation.poweroff={int(poweroff)}",
        *extra,
    ]
    if stick:
        opts.append(f"wipestation.boot=PARTUUID={image.partuuid}")
    return Boot.kernel(image, " ".join(opts), attach_stick=stick, **kw)  # type: ignore[arg-type]


def results(m: Machine) -> dict[str, tuple[str, str, str]]:
    """identity → (PASS/FAIL, state, reason) from the console's RESULT lines."""
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", m.console_text()).replace("\r", "")
    return {g[0]: (g[2], g[3], g[5]) for g in re.findall(RESULT, text, re.MULTILINE)}


def wait_ready(m: Machine) -> None:
    m.wait_for_console_text(READY, BOOT_TIMEOUT)
    print(f"[{m.name}] READY after {m.seconds_since_start():.0f} s")


def run_to_poweroff(m: Machine, timeout: float = 600, *, ready: bool = True) -> re.Match[str]:
    t0 = time.monotonic()
    if ready:
        wait_ready(m)
    done = m.wait_for_console_text(r"^DONE passed=(\d+) failed=(\d+) reports=(\d+)", timeout)
    m.wait_exit(120)
    print(f"[{m.name}] {done[0]!r} after {time.monotonic() - t0:.0f} s")
    # The station ran once from start to poweroff: it never crashed and restarted.
    assert m.console_text().count("CONVEYOR method=") == 1, m.tail()
    return done


def head_pattern(path: Path) -> bool:
    """Whether the first MiB still holds the fill pattern."""
    with open(path, "rb") as f:
        return f.read(1024 * 1024) == (PATTERN * 65536)[: 1024 * 1024]


def head_zeroed(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(1024 * 1024) == bytes(1024 * 1024)


def assert_erased(m: Machine, disk: Disk) -> None:
    traces = pattern_traces(m.disk_file(disk.id))
    assert traces == 0, f"{disk.serial}: {traces} traces of the fill pattern left on the host file"


def assert_untouched(m: Machine, disk: Disk, size_mib: int | None = None) -> None:
    path = m.disk_file(disk.id)
    expected = (size_mib or disk.size_mib) * 1024 * 1024 // 16
    assert pattern_traces(path) == expected, f"{disk.serial} was written to"


def report_stick(m: Machine) -> Stick:
    assert m.prepared.report_stick is not None
    return Stick(m.prepared.report_stick)


def assert_only_new_report_files(stick: Stick) -> None:
    """The stick's old file is intact; everything else is the station's own (reports, its key,
    its wipe journal)."""
    files = stick.files()
    assert stick.read(OLD_FILE[0]) == OLD_FILE[1]
    own = ("/reports/", "/wipestation-identity/", "/.wipestation/")
    strays = [p for p in files if p != OLD_FILE[0] and not p.startswith(own)]
    assert not strays, f"unexpected files on the report stick: {strays}"


#: What the station keeps on its boot stick: its key (no TPM here) and the record counter.
STATION_KEY_FILES = (
    r"/wipestation-keys/[^/]+\.(ed25519\.pem|pub\.pem|fingerprint|protection)"
    r"|/wipestation-keys/chain-[0-9a-f]+\.json"
)


def assert_boot_stick_unchanged(m: Machine) -> None:
    """Never wiped, never changed but for the station's own key home: the boot code, every
    file the stick came with byte for byte, and nothing new outside ``wipestation-keys/``."""
    stick = m.dir / "boot-stick.img"
    assert m.stick_sha256_before, "no boot stick was attached"
    assert head_sha256(stick, BOOT_FAT_OFFSET) == m.stick_head_before, "boot code modified"
    now = Stick(stick, BOOT_FAT).snapshot()
    assert now, "the boot stick's FAT is unreadable"
    theirs = {p: h for p, h in now.items() if not p.startswith("/wipestation-keys/")}
    assert theirs == m.stick_files_before, "the boot stick's files were modified"
    strays = [p for p in now if p not in theirs and not re.fullmatch(STATION_KEY_FILES, p)]
    assert not strays, f"unexpected files in the boot stick's key home: {strays}"


# ---- 1. the mixed rack, unattended --------------------------------------------------------

MIXED = Rack(
    disks=(
        Disk("nvme", 16, "NVME0001"),
        Disk("nvme", 24, "NVME0002"),
        Disk("sata", 16, "SATA0001", model="FakeSSD-ATA", wwn="0x5000c500aabbcc01"),
        Disk("sata", 20, "SATA0002", model="FakeHDD-ATA"),
        Disk("scsi", 16, "SCSI0001", model="FakeSAS", wwn="0x5000c500aabbcc03"),
        Disk("scsi", 24, "SCSI0002"),
        Disk("virtio", 20, "VBLK0001"),
        Disk("usb", 16, "USB0001"),
    ),
    report_stick=ReportStick(files=(OLD_FILE,)),
)


def test_1_mixed_rack_unattended(image: Image) -> None:
    boot = unattended(image, "overwrite-zero", stick=True)
    with Machine(boot, rack=MIXED, name="s1-mixed") as m:
        done = run_to_poweroff(m)
        assert done.groups() == (str(len(MIXED.disks)), "0", str(len(MIXED.disks))), done[0]
        for disk in MIXED.disks:
            assert_erased(m, disk)
        assert_boot_stick_unchanged(m)
        stick = report_stick(m)
        assert_only_new_report_files(stick)
        reports = Reports.load(stick)
        assert sorted(reports.records) == sorted(d.serial for d in MIXED.disks)
        for disk in MIXED.disks:
            rec = reports.check_drive(disk)
            assert result_of(rec) == "PASS", rec["result"]
            assert rec["verification"]["mode"] == "full"
            assert rec["verification"]["passed"]
        on_console = results(m)
        assert {s: r[0] for s, r in on_console.items()} == {d.serial: "PASS" for d in MIXED.disks}


# ---- 2. protection: an excluded drive and the boot stick are never written ----------------

STICK_TOML = """[station]
console = "ttyS0"
ui = "headless"
unattended = true
method = "overwrite-zero"
verify = "full"
poweroff = true
exclude = ["KEEP0001"]
"""


def test_2_excluded_disk_and_boot_stick_untouched(image: Image) -> None:
    """Booted from the stick (BIOS → GRUB), configured by the stick's own wipestation.toml."""
    keep, wipe = Disk("sata", 16, "KEEP0001", model="KeepMe"), Disk("virtio", 16, "WIPE0002")
    rack = Rack(disks=(keep, wipe), report_stick=ReportStick(files=(OLD_FILE,)))
    boot = Boot.usb(image, stick_files={"wipestation.toml": STICK_TOML})
    with Machine(boot, rack=rack, name="s2-protect") as m:
        done = run_to_poweroff(m)
        assert done.groups() == ("1", "0", "1"), done[0]
        assert re.search(r"^SKIP KEEP0001 \S+ protected: .*excluded", m.console_text(), re.M)
        assert re.search(r"^SKIP WIPESTATIONSTICK \S+ protected: ", m.console_text(), re.M)
        assert_untouched(m, keep)
        assert_erased(m, wipe)
        assert_boot_stick_unchanged(m)
        stick = report_stick(m)
        assert_only_new_report_files(stick)
        reports = Reports.load(stick)
        assert sorted(reports.records) == ["WIPE0002"]
        assert result_of(reports.check_drive(wipe)) == "PASS"


# ---- 3. a write error: that drive FAILS with the bad range recorded, the others pass -------

BAD_SECTOR = 4096


def test_3_write_error_recorded(image: Image) -> None:
    bad = Disk("virtio", 16, "BAD0001", faults=(Fault(sector=BAD_SECTOR),))
    good = (Disk("nvme", 16, "GOOD0001"), Disk("sata", 16, "GOOD0002"))
    rack = Rack(disks=(bad, *good), report_stick=ReportStick())
    with Machine(unattended(image, "overwrite-zero"), rack=rack, name="s3-eio") as m:
        done = run_to_poweroff(m)
        assert done.groups() == ("2", "1", "3"), done[0]
        for disk in good:
            assert_erased(m, disk)
        # Every sector but the failing one was overwritten: the pattern is left only there.
        span = trace_span(m.disk_file(bad.id))
        assert span is not None
        assert BAD_SECTOR * 512 <= span[0] < span[1] <= (BAD_SECTOR + 1) * 512, span
        reports = Reports.load(report_stick(m))
        for disk in good:
            assert result_of(reports.check_drive(disk)) == "PASS"
        rec = reports.check_drive(bad)
        assert rec["result"]["status"] == "FAIL", rec["result"]
        assert rec["result"]["state"] == "failed", rec["result"]
        assert {"offset": BAD_SECTOR * 512, "length": 512} in rec["bad_ranges"], rec["bad_ranges"]
        assert results(m)["BAD0001"][:2] == ("FAIL", "failed")


# ---- 4. surprise removal mid-wipe --------------------------------------------------------


def test_4_surprise_removal(image: Image) -> None:
    pulled = Disk("virtio", 384, "PULL0001")
    others = (Disk("nvme", 16, "STAY0001"), Disk("sata", 16, "STAY0002"))
    rack = Rack(disks=(pulled, *others), report_stick=ReportStick())
    with Machine(unattended(image, "overwrite-zero"), rack=rack, name="s4-pull") as m:
        wait_ready(m)
        # Mid-wipe, seen from the host: the first MiB is already zero, the rest not yet.
        m.retry(lambda: head_zeroed(m.disk_file(pulled.id)) or None, 180, "PULL0001 being wiped")
        m.device_del(pulled.device_id)
        m.wait_for_console_text(r"^REMOVED PULL0001 ", 60, from_start=True)
        done = run_to_poweroff(m, ready=False)
        assert done.groups() == ("2", "1", "3"), done[0]
        assert pattern_traces(m.disk_file(pulled.id)) > 0, "the wipe had finished: not mid-wipe"
        for disk in others:
            assert_erased(m, disk)
        reports = Reports.load(report_stick(m))
        for disk in others:
            assert result_of(reports.check_drive(disk)) == "PASS"
        rec = reports.check_drive(pulled)
        assert (rec["result"]["status"], rec["result"]["state"]) == ("FAIL", "removed")
        assert results(m)["PULL0001"][:2] == ("FAIL", "removed")


# ---- 10. the firmware path: NVMe with method auto is formatted by the drive ---------------


def test_10_nvme_auto_uses_format(image: Image) -> None:
    nvme = Disk("nvme", 16, "NVMEFMT1")
    rack = Rack(disks=(nvme,), report_stick=ReportStick())
    with Machine(unattended(image, "auto"), rack=rack, name="s10-format") as m:
        done = run_to_poweroff(m)
        assert done.groups() == ("1", "0", "1"), done[0]
        # QEMU's Format NVM really zeroes the namespace's backing file.
        assert all_zero(m.disk_file(nvme.id))
        rec = Reports.load(report_stick(m)).check_drive(nvme)
        assert result_of(rec) == "PASS", rec["result"]
        san = rec["sanitization"]
        # "auto" is what was asked for; executed and the steps say what the drive did.
        assert (san["method"], san["level"], san["fallbacks"]) == ("auto", "clear", []), san
        assert san["executed"].startswith("nvme-format"), san
        assert any(line.startswith("chose nvme-format") for line in san["decision"]), san
        (step,) = rec["steps"]
        assert step["kind"] == "firmware", step
        assert step["command"].startswith("nvme format /dev/nvme0n1"), step
        assert "--ses=1" in step["command"] or "--ses=2" in step["command"], step
        assert step["ok"], step
        assert step["bytes_written"] == 0, "fell back to an overwrite"
        assert rec["verification"]["observed_class"] == "zeros", rec["verification"]


# ---- 6. no report stick at boot: the station waits, and every report lands on the stick ----


def test_6_report_stick_plugged_later(image: Image) -> None:
    disks = (Disk("nvme", 16, "LATE0001"), Disk("sata", 16, "LATE0002"))
    with Machine(unattended(image, "overwrite-zero"), rack=Rack(disks), name="s6-late") as m:
        wait_ready(m)
        # Both wiped, nothing saved yet: the station refuses to power off and says why.
        m.wait_for_console_text(r"^WAITING Reports: 2 NOT YET SAVED", 300)
        assert not re.search(r"^DONE", m.console_text(), re.M)
        m.hot_add_report_stick(ReportStick(files=(OLD_FILE,)))
        done = run_to_poweroff(m, ready=False)
        assert done.groups() == ("2", "0", "2"), done[0]
        for disk in disks:
            assert_erased(m, disk)
        stick = report_stick(m)
        assert_only_new_report_files(stick)
        reports = Reports.load(stick)
        assert sorted(reports.records) == ["LATE0001", "LATE0002"]
        for disk in disks:
            assert result_of(reports.check_drive(disk)) == "PASS"


# ---- 5. hotplug while unattended: a drive plugged in later is wiped and reported -----------


def test_5_hotplug_in_unattended_mode(image: Image) -> None:
    first, later = Disk("sata", 16, "FIRST0001"), Disk("nvme", 16, "HOTNVME01")
    rack = Rack(disks=(first,), report_stick=ReportStick())
    boot = unattended(image, "overwrite-zero", poweroff=False)
    with Machine(boot, rack=rack, name="s5-hotplug") as m:
        wait_ready(m)
        m.wait_for_console_text(r"^IDLE passed=1 failed=0", 300)
        m.hot_add(later)
        m.wait_for_console_text(r"^START HOTNVME01 ", 120)
        # IDLE comes after the job's report is written and synced (ReportWriter.flush).
        m.wait_for_console_text(r"^IDLE passed=2 failed=0", 300)
        m.qmp("quit")
        m.wait_exit(30)
        for disk in (first, later):
            assert_erased(m, disk)
        reports = Reports.load(report_stick(m))
        assert sorted(reports.records) == ["FIRST0001", "HOTNVME01"]
        for disk in (first, later):
            assert result_of(reports.check_drive(disk)) == "PASS"


# ---- 7. label printer on ttyS1: one label per drive, the right serial and result ------------


def test_7_printer_labels(image: Image) -> None:
    good = Disk("nvme", 16, "LABEL0001")
    bad = Disk("virtio", 16, "LABEL0002", faults=(Fault(sector=BAD_SECTOR),))
    rack = Rack(disks=(good, bad), report_stick=ReportStick(), printer=True)
    boot = unattended(image, "overwrite-zero", "wipestation.printer=escpos:/dev/ttyS1:115200")
    with Machine(boot, rack=rack, name="s7-printer") as m:
        done = run_to_poweroff(m)
        assert done.groups() == ("1", "1", "2"), done[0]
        assert m.prepared.printer_out is not None
        raw = m.prepared.printer_out.read_bytes()
        labels = [decode(b"\x1b@" + chunk) for chunk in raw.split(b"\x1b@")[1:]]
        assert raw.startswith(b"\x1b@"), raw[:40]
        reports = Reports.load(report_stick(m))
        by_serial = {}
        for label in labels:
            serial = re.search(r"Serial: (\S+)", label.text)
            assert serial, label.text
            assert serial[1] not in by_serial, f"two labels for {serial[1]}"
            by_serial[serial[1]] = label
        assert sorted(by_serial) == ["LABEL0001", "LABEL0002"]
        for disk, status in ((good, "PASS"), (bad, "FAIL")):
            label, rec = by_serial[disk.serial], reports.check_drive(disk)
            assert result_of(rec) == status
            assert label.lines[0].strip() == status, label.text
            assert f"Result: {status}" in label.flat, label.text
            assert label.cut, label.text
            # The QR code names the very record on the stick (its hash).
            assert label.qr_printed
            assert label.qr_stored.decode() == qr_payload(rec), label.qr_stored


# ---- 9. power cut mid-overwrite: the next boot resumes the job from the journal -------------


def test_9_resume_after_power_cut(image: Image) -> None:
    big = Disk("virtio", 1024, "RESUME001")
    rack = Rack(disks=(big,), report_stick=ReportStick())
    boot = unattended(image, "overwrite-random")
    workdir = Path(tempfile.mkdtemp(prefix="wipestation-s9-resume-"))
    with Machine(boot, rack=rack, name="s9-cut", workdir=workdir) as m:
        wait_ready(m)
        m.wait_for_console_text(r"^START RESUME001 \S+ overwrite-random ", 120)
        m.retry(lambda: not head_pattern(m.disk_file(big.id)) or None, 180, "overwrite started")
        time.sleep(4)  # two 2 s journal checkpoints
        m.kill()
        left = pattern_traces(m.disk_file(big.id))
        print(f"[s9] power cut with {left * 16 / 2**20:.0f} MiB of the pattern left")
        assert left > 0, "the overwrite finished before the power cut"
        # The journal survived the power cut on the report stick (FAT), with a checkpoint.
        journal = json.loads(report_stick(m).read("/.wipestation/journal/RESUME001.json"))
        assert journal["method"] == "overwrite-random", journal
        assert journal["offset"] > 0, journal
    with Machine(boot, rack=rack, name="s9-resume", workdir=workdir, reuse=True) as m:
        wait_ready(m)
        m.wait_for_console_text(r"^START RESUME001 \S+ overwrite-random job=\S+ resume\r?$", 120)
        done = run_to_poweroff(m, ready=False, timeout=900)
        assert done.groups() == ("1", "0", "1"), done[0]
        assert_erased(m, big)
        rec = Reports.load(report_stick(m)).check_drive(big)
        assert result_of(rec) == "PASS", rec["result"]
        resumed = rec["sanitization"]["resumed_from"]
        assert resumed, rec["sanitization"]
        assert resumed["offset"] == journal["offset"], (resumed, journal["offset"])
        assert resumed["job_id"] == journal["job_id"], resumed
        assert rec["result"]["state"] == "passed", rec["result"]
    shutil.rmtree(workdir)


# ---- 11. report stick plugged in mid-wipe: the journal moves from RAM onto it -------------


def journal_on_stick(m: Machine, stick: Path, serial: str) -> dict | None:
    """The drive's journal entry as the stick holds it now (the guest paused), or None."""
    with m.paused():
        try:
            return json.loads(Stick(stick).read(f"/.wipestation/journal/{serial}.json"))
        except (subprocess.CalledProcessError, ValueError):
            return None


def test_11_journal_moves_to_a_stick_plugged_in_mid_wipe(image: Image) -> None:
    big = Disk("virtio", 2048, "MOVE0001")  # three passes of 2 GiB: a minute under TCG
    boot = unattended(image, "dod-5220.22-m", poweroff=False)
    with Machine(boot, rack=Rack((big,)), name="s11-move") as m:
        wait_ready(m)
        # No stick: after waiting 10 s for one, the station starts with its journal in RAM.
        m.wait_for_console_text(r"^START MOVE0001 \S+ dod-5220.22-m ", 120)
        stick = m.hot_add_report_stick(ReportStick())
        journal = m.retry(lambda: journal_on_stick(m, stick, "MOVE0001"), 120, "journal on stick")
        m.qmp("stop")
        finished = re.search(r"^RESULT MOVE0001 ", m.console_text(), re.M)
        m.kill()
    assert not finished, "the wipe ended before its journal moved: nothing was proven"
    assert journal["identity"] == "MOVE0001", journal
    assert journal["method"] == "dod-5220.22-m", journal
    assert journal["step_index"] > 0 or journal["offset"] > 0, journal


# ---- 8. interactive: the station screen over the serial console ----------------------------

TUI = "wipestation.console=ttyS0 wipestation.ui=tui wipestation.method=overwrite-zero"
SGR = r"(?:\x1b\[[0-9;]*m)*"  # colour changes the screen may put between words
UP, END = "\x1b[A", "\x1b[F"


def test_8_interactive_tui_over_serial(image: Image) -> None:
    """Select the two NVMe rows (the table sorts sdX before nvmeXnY, so they are the last two),
    w, type the confirmation; the SATA drive is not selected and must stay untouched."""
    picked = (Disk("nvme", 16, "TUINVME01"), Disk("nvme", 16, "TUINVME02"))
    keep = Disk("sata", 16, "TUIKEEP01")
    rack = Rack(disks=(*picked, keep), report_stick=ReportStick())
    boot = Boot.kernel(image, f"{TUI} wipestation.verify=full")
    with Machine(boot, rack=rack, name="s8-tui") as m:
        wait_ready(m)
        for serial in ("TUINVME02", "TUINVME01", "TUIKEEP01", "REPORTSTICK01"):
            m.wait_for_console_text(serial, 300, from_start=True)
        time.sleep(2)
        m.send_console(END)  # the last row: nvme1n1
        time.sleep(1)
        m.send_console(" ")
        m.wait_for_console_text(r"1 selected", 120)
        m.send_console(UP)  # nvme0n1
        time.sleep(1)
        m.send_console(" ")
        m.wait_for_console_text(r"2 selected", 120)
        m.send_console("w")
        m.wait_for_console_text(r"ERASE 2 DRIVES with overwrite-zero", 120)
        m.wait_for_console_text(r"WIPE 2", 60)
        time.sleep(1)
        m.send_console("WIPE 2")
        time.sleep(1)
        m.send_console("\r")
        m.wait_for_console_text(rf"passed{SGR} {SGR}2", 600)
        m.qmp("quit")
        m.wait_exit(30)
        for disk in picked:
            assert_erased(m, disk)
        assert_untouched(m, keep)
        reports = Reports.load(report_stick(m))
        assert sorted(reports.records) == ["TUINVME01", "TUINVME02"]
        for disk in picked:
            assert result_of(reports.check_drive(disk)) == "PASS"
