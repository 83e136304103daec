"""Issue 16's acceptance scenarios: the station SCREEN as the unattended front end.

Both boot the real image in QEMU and check the outcome from the host, like ``test_scenarios.py``
(whose helpers they share): backing files scanned in full, sticks read with mtools, records
validated against the schema and their signatures verified. The screen prints no
``START``/``RESULT`` lines, so these tests wait on what they can see from outside instead: the
screen drawn on ttyS0, files on the sticks and disks, QEMU's own block statistics and the guest
powering itself off.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from tests.vm.hostcheck import Reports, result_of
from tests.vm.machine import Boot, Image, Machine, MachineError
from tests.vm.rack import MIB, PATTERN, Disk, Fault, Rack, ReportStick
from tests.vm.test_scenarios import (
    BOOT_TIMEOUT,
    READY,
    assert_boot_stick_unchanged,
    assert_erased,
    head_pattern,
    journal_on_stick,
    report_stick,
    wait_ready,
)

pytestmark = pytest.mark.vm

#: What the station screen shows in unattended mode (tui/screens/drives.py).
UNATTENDED_BANNER = "UNATTENDED: every drive plugged in is wiped with {method}"


def screen_text(m: Machine) -> str:
    """The serial console as text: escape sequences (colours, cursor moves) removed."""
    text = re.sub(
        r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]",
        "",
        m.console_text(),
    )
    return text.replace("\r", "")


def wait_screen(m: Machine, text: str, timeout: float) -> None:
    """Until the screen on ttyS0 has shown ``text`` (a station screen, not a log line)."""

    def seen() -> bool | None:
        if text in screen_text(m):
            return True
        if m.proc is not None and m.proc.poll() is not None:
            raise MachineError(f"QEMU exited before {text!r} was on screen:\n{m.tail()}")
        return None

    m.retry(seen, timeout, f"{text!r} on the screen")


def region_sha256(path: Path, end: int) -> str:
    """sha256 of the first ``end`` bytes of a file."""
    h, left = hashlib.sha256(), end
    with open(path, "rb") as f:
        while left and (block := f.read(min(left, 4 * MIB))):
            h.update(block)
            left -= len(block)
    return h.hexdigest()


def writes_until_poweroff(m: Machine, device_id: str, timeout: float) -> int:
    """Follow the guest until it powers off; return the bytes it wrote to ``device_id`` (QEMU's
    count, sampled every 2 s: the last sample falls after the overwrite, during the
    verification or the report, which write nothing to that drive)."""
    assert m.proc is not None
    deadline, written = time.monotonic() + timeout, -1
    while m.proc.poll() is None and time.monotonic() < deadline:
        try:
            written = m.bytes_written(device_id)
        except (MachineError, OSError):  # QEMU exiting under us: the guest powered off
            break
        time.sleep(2)
    m.wait_exit(max(30.0, deadline - time.monotonic()))
    return written


# ---- A. the screen's unattended mode resumes an interrupted overwrite after a power cut ----


def test_a_screen_unattended_resumes_after_power_cut(image: Image) -> None:
    """Like ``test_9_resume_after_power_cut``, with the station screen as the front end (see
    ``resume_after_power_cut`` for how "not written twice" is proven)."""
    banner = UNATTENDED_BANNER.format(method="overwrite-random")
    resume_after_power_cut(image, "tui", lambda m: wait_screen(m, banner, BOOT_TIMEOUT))


def resume_after_power_cut(image: Image, ui: str, front_end_up: Callable[[Machine], None]) -> None:
    """Cut the power mid-overwrite (``wipestation.ui=<ui>`` unattended), boot again, check.

    ``front_end_up`` waits until the front end is running (the screen's banner for ``tui``).
    With ``headless`` and ``lambda m: m.wait_for_console_text("CONVEYOR method=", 240)`` the
    same checks pass with the conveyor's resume: a control for the checks themselves.

    "Bytes written before the cut are not written twice beyond the last checkpoint" needs a
    check that could really fail, and that a correct resume still passes with full
    verification:

    - A marker written below the checkpoint on the host would survive a correct resume, but
      full verification regenerates the random stream over the whole drive, so the job would
      rightly FAIL on it.
    - Byte-identity of the region below the checkpoint is not enough on its own: the stream is
      keyed per job and positional, so a resume that rewrote from 0 with the journal's key
      would write the very same bytes (it does catch a new job with a new key; kept as such).
    - ``steps[*].bytes_written`` is the engine's own arithmetic (size - start offset), not a
      measurement: kept as a consistency check only.

    So the proof comes from QEMU, outside the guest:

    - write traps: on the second boot the disk sits on a blkdebug node that fails every WRITE
      to three sectors strictly below the journal's checkpoint (its first sector, one in the
      middle, and the last one before the checkpoint); reads work, so verification is
      unaffected. A resumed job that writes there gets EIO, records the bad range and FAILS
      (scenario 3 shows the mechanism).
    - QEMU's count of the bytes the guest wrote to the drive during the second boot
      (``query-blockstats`` ``wr_bytes``) must be exactly ``size - checkpoint``.
    """
    method = "overwrite-random"
    disk = Disk("virtio", 1024, "SCRRESUME1")  # still being written when the power is cut
    size = disk.size_mib * MIB
    opts = (
        f"wipestation.console=ttyS0 wipestation.ui={ui} wipestation.auto=1 "
        f"wipestation.method={method} wipestation.verify=full wipestation.poweroff=1"
    )
    boot = Boot.kernel(image, opts)
    workdir = Path(tempfile.mkdtemp(prefix=f"wipestation-ra-{ui}-"))
    t0 = time.monotonic()
    with Machine(
        boot, rack=Rack((disk,), report_stick=ReportStick()), name=f"ra-{ui}-cut", workdir=workdir
    ) as m:
        wait_ready(m)
        front_end_up(m)
        path = m.disk_file(disk.id)
        m.retry(lambda: not head_pattern(path) or None, 240, "the overwrite to start")
        stick_img = m.prepared.report_stick
        assert stick_img is not None

        def checkpointed() -> dict | None:
            entry = journal_on_stick(m, stick_img, disk.serial)
            return entry if entry and entry.get("offset", 0) > 0 else None

        m.retry(checkpointed, 120, "a journal checkpoint on the report stick")
        m.kill()
        journal = json.loads(report_stick(m).read(f"/.wipestation/journal/{disk.serial}.json"))
    offset = int(journal["offset"])
    print(
        f"[ra-{ui}] power cut at checkpoint {offset / MIB:.0f} MiB "
        f"after {time.monotonic() - t0:.0f} s"
    )
    assert journal["method"] == method, journal
    assert journal["identity"] == disk.serial, journal
    assert 0 < offset < size, journal
    assert offset % 512 == 0, journal
    assert not _erased_from(path, offset), "the overwrite finished before the power cut"
    below = region_sha256(path, offset)

    traps = sorted({0, offset // 1024, offset // 512 - 1})  # sectors below the checkpoint
    trapped = replace(disk, faults=tuple(Fault(sector=s) for s in traps))
    with Machine(
        boot,
        rack=Rack((trapped,), report_stick=ReportStick()),
        name=f"ra-{ui}-resume",
        workdir=workdir,
        reuse=True,
    ) as m:
        wait_ready(m)
        front_end_up(m)
        written = writes_until_poweroff(m, disk.device_id, 900)
        print(
            f"[ra-{ui}] second boot powered off; {written / MIB:.1f} MiB written to the drive; "
            f"{time.monotonic() - t0:.0f} s in all"
        )
        rec = Reports.load(report_stick(m)).check_drive(disk)
        san = rec["sanitization"]
        resumed = san["resumed_from"]
        assert resumed, (
            f"the {ui} front end's unattended start did not resume the journaled job: "
            f"new job {rec['job_id']} (journal: {journal['job_id']}), result {rec['result']}, "
            f"bad ranges {rec['bad_ranges']}, {written} bytes written (resume: {size - offset})"
        )
        assert resumed["offset"] == offset, (resumed, offset)
        assert resumed["job_id"] == journal["job_id"], (resumed, journal["job_id"])
        assert rec["bad_ranges"] == [], (
            f"a write below the checkpoint hit a trap: {rec['bad_ranges']}"
        )
        assert written == size - offset, f"{written} bytes written; the resume owed {size - offset}"
        overwrites = [s for s in rec["steps"] if s["kind"] == "overwrite"]
        assert [s["bytes_written"] for s in overwrites] == [size - offset], rec["steps"]
        assert region_sha256(m.disk_file(disk.id), offset) == below, (
            "rewritten below the checkpoint"
        )
        assert_erased(m, disk)
        assert result_of(rec) == "PASS", rec["result"]
        assert rec["result"]["state"] == "passed", rec["result"]
        assert rec["verification"]["mode"] == "full", rec["verification"]
        assert rec["verification"]["passed"], rec["verification"]
    shutil.rmtree(workdir)


def _erased_from(path: Path, offset: int) -> bool:
    """Whether no trace of the fill pattern is left from ``offset`` on."""
    with open(path, "rb") as f:
        f.seek(offset)
        tail = b""
        while block := f.read(4 * MIB):
            if PATTERN[:6] in tail + block:
                return False
            tail = block[-5:]
    return True


# ---- B. a late boot stick: its configuration (console, exclusions) still applies ----------

LATE_STICK_TOML = """[station]
console = "ttyS0"
exclude = ["LATEKEEP1"]
"""


def test_b_late_boot_stick_configures_the_station(image: Image) -> None:
    """The boot stick (named on the command line by PARTUUID, as GRUB names it) enumerates
    20 s after power-on; its wipestation.toml moves the station to ttyS0 and excludes a disk.
    The command line has no ``wipestation.console``, so until the stick is read the default
    console (tty1) would control the station, and unattended wiping must not start before
    the stick's exclusions are known.

    Checked from the host after the guest powered itself off: the excluded disk byte for byte
    (sha256 of its backing file), the boot stick unchanged, the others erased with exactly one
    PASS record each (``Reports.load`` refuses two records for one drive, as a second station
    instance wiping on its own would leave), and from the serial log: the station screen
    came up on ttyS0 after the banner, and "no boot stick" was never said."""
    keep = Disk("sata", 16, "LATEKEEP1", model="KeepMe")
    wiped = (Disk("nvme", 16, "LATEWIPE1"), Disk("virtio", 16, "LATEWIPE2"))
    rack = Rack((keep, *wiped), report_stick=ReportStick())
    opts = (
        f"wipestation.boot=PARTUUID={image.partuuid} wipestation.auto=1 "
        "wipestation.method=overwrite-zero wipestation.verify=full wipestation.poweroff=1"
    )
    boot = Boot.kernel(image, opts, stick_files={"wipestation.toml": LATE_STICK_TOML})
    kept_sha = hashlib.sha256((PATTERN * (MIB // len(PATTERN))) * keep.size_mib).hexdigest()
    t0 = time.monotonic()
    with Machine(boot, rack=rack, name="rb-late") as m:
        assert "wipestation.console" not in boot.append
        stick = m.prepare_boot_stick()  # while the guest boots, so the plug-in is on time
        time.sleep(max(0.0, 20 - m.seconds_since_start()))
        m.hot_add_boot_stick(stick)
        print(f"[rb] boot stick plugged in {m.seconds_since_start():.1f} s after QEMU started")
        m.wait_for_console_text(READY, BOOT_TIMEOUT, from_start=True)
        m.wait_exit(600)
        print(f"[rb] powered off after {time.monotonic() - t0:.0f} s")
        assert hashlib.sha256(m.disk_file(keep.id).read_bytes()).hexdigest() == kept_sha, (
            "LATEKEEP1, excluded by the late boot stick's wipestation.toml, was written to"
        )
        assert_boot_stick_unchanged(m)
        for disk in wiped:
            assert_erased(m, disk)
        reports = Reports.load(report_stick(m))
        assert sorted(reports.records) == sorted(d.serial for d in wiped), sorted(reports.records)
        for disk in wiped:
            assert result_of(reports.check_drive(disk)) == "PASS"
        screen = screen_text(m)
        after_ready = screen[re.search(READY, screen).end() :]  # type: ignore[union-attr]
        assert UNATTENDED_BANNER.format(method="overwrite-zero") in after_ready, (
            "the station screen never came up on ttyS0 (the stick's console); console tail:\n"
            + m.tail()
        )
        assert "no boot stick" not in screen, "said 'no boot stick' although one was named"
