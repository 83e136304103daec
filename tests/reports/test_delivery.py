"""Where reports go, on real loop devices with FAT filesystems: absent → appears, read-only, full.

The code under test mounts and unmounts the sticks itself; the fixture detaches every loop
device it made (and unmounts it first if anything was left mounted). StickTarget only ever sees
this test's own devices, so other tests' sticks on the same machine are never touched.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from wipestation.discovery.inventory import Inventory
from wipestation.discovery.monitor import DriveWatcher
from wipestation.reports.sign import verify_bytes
from wipestation.reports.target import StickTarget
from wipestation.reports.trust import load_trust
from wipestation.reports.writer import ReportWriter

from tests.reports.factory import STATION, drive, job, validate

MiB = 1024 * 1024
MakeStick = Callable[..., str]


def mounts_under(root: Path) -> list[str]:
    """Mount points below ``root`` (kernel or FUSE mounts alike)."""
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        points = [line.split()[4] for line in f]
    return [p for p in points if p.startswith(f"{root}/")]


def _umount_all(root: Path) -> None:
    for where in reversed(mounts_under(root)):
        if subprocess.run(["umount", where], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", where], capture_output=True)


@pytest.fixture
def sticks(tmp_path: Path) -> Iterator[tuple[MakeStick, set[str]]]:
    """``make(label=, size=, read_only=)`` → /dev/loopN with a FAT filesystem; all cleaned up."""
    mine: set[str] = set()

    def make(label: str = "WIPEREPORTS", size: int = 16 * MiB, read_only: bool = False) -> str:
        img = tmp_path / f"stick{len(mine)}.img"
        with open(img, "wb") as f:
            f.truncate(size)
        subprocess.run(["mkfs.vfat", "-n", label, str(img)], check=True, capture_output=True)
        argv = ["losetup", "--find", "--show", *(["--read-only"] if read_only else []), str(img)]
        dev = subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()
        mine.add(dev)
        return dev

    try:
        yield make, mine
    finally:
        _umount_all(tmp_path)
        for dev in mine:
            subprocess.run(["losetup", "-d", dev], capture_output=True)


def target_for(tmp_path: Path, mine: set[str]) -> StickTarget:
    return StickTarget(mount_root=tmp_path / "mnt", device_filter=lambda dev: dev in mine)


def read_stick(dev: str, dest: Path) -> Path:
    """Copy a stick's files out with mtools (no mount), after checking its FAT is clean."""
    img = subprocess.run(
        ["losetup", "--noheadings", "-O", "BACK-FILE", dev], capture_output=True, text=True
    ).stdout.strip()
    fsck = subprocess.run(["fsck.fat", "-n", img], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    dest.mkdir()
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    subprocess.run(["mcopy", "-s", "-n", "-i", img, "::/", str(dest)], check=True, env=env)
    return dest


def jobs(n: int) -> list:
    return [
        job(drive=drive(serial=f"SER{i}", identity=f"SER{i}"), job_id=f"j{i}") for i in range(n)
    ]


def test_no_target_then_stick_appears_delivers_every_record(
    tmp_path: Path, sticks: tuple[MakeStick, set[str]], udev: None
) -> None:
    make, mine = sticks
    spool = tmp_path / "spool"
    keys = tmp_path / "keys"
    writer = ReportWriter(
        station=STATION, target=target_for(tmp_path, mine), spool_dir=spool, key_home=keys
    )
    for result in jobs(3):
        assert writer.write(result) == []
    st = writer.status
    assert (st.target, st.pending, st.delivered) == ("absent", 3, 0)
    assert "3 NOT YET SAVED" in st.message
    assert "WIPEREPORTS" in st.message
    assert len(list(spool.glob("*.json"))) == 3

    dev = make()
    watcher = DriveWatcher(Inventory())
    writer.watch(watcher)
    watcher.handle("change", os.path.basename(dev))  # what the udev monitor thread does
    assert writer.wait_idle(120)

    st = writer.status
    assert (st.target, st.pending, st.delivered) == ("present", 0, 3)
    assert list(spool.glob("*.json")) == []
    assert mounts_under(tmp_path) == []  # the writer unmounted the stick again
    root = read_stick(dev, tmp_path / "check")
    records = sorted((root / "reports").glob("*/SER*.json"))
    assert [p.stem for p in records] == ["SER0", "SER1", "SER2"]
    assert not list(root.rglob("*.ed25519.pem"))  # the key never travels on the report stick
    trusted = load_trust(list(keys.glob("*.pub.pem"))).fingerprints
    assert len(trusted) == 1
    for p in records:
        v = verify_bytes(p.read_bytes(), trusted)
        assert v.ok, v.reason
        validate(v.record)
        assert p.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    (summary,) = (root / "reports").glob("*/session-*.csv")
    rows = list(csv.DictReader(io.StringIO(summary.read_text(encoding="utf-8-sig"))))
    assert sorted(r["serial"] for r in rows) == ["SER0", "SER1", "SER2"]


def test_read_only_stick_is_reported_and_nothing_is_lost(
    tmp_path: Path, sticks: tuple[MakeStick, set[str]]
) -> None:
    make, mine = sticks
    make(read_only=True)
    writer = ReportWriter(
        station=STATION, target=target_for(tmp_path, mine), spool_dir=tmp_path / "spool"
    )
    assert writer.write(jobs(1)[0]) == []
    st = writer.status
    assert (st.target, st.pending) == ("read-only", 1)
    assert "write-protected" in st.message
    assert len(list((tmp_path / "spool").glob("*.json"))) == 1

    good = make()  # a second, writable report stick
    delivered = writer.flush()
    assert len(delivered) == 1
    assert writer.status.pending == 0
    root = read_stick(good, tmp_path / "check")
    assert len(list((root / "reports").glob("*/SER0.json"))) == 1


def test_full_stick_is_reported(tmp_path: Path, sticks: tuple[MakeStick, set[str]]) -> None:
    make, mine = sticks
    make(size=1 * MiB)
    writer = ReportWriter(station=STATION, target=target_for(tmp_path, mine))
    assert writer.check_target() == "full"  # shown before any wipe finishes
    assert writer.status.message.startswith("Reports: 0 saved; report stick")
    assert writer.write(jobs(1)[0]) == []
    st = writer.status
    assert (st.target, st.pending) == ("full", 1)
    assert "full" in st.message


def test_boot_stick_partition_is_the_fallback(
    tmp_path: Path, sticks: tuple[MakeStick, set[str]]
) -> None:
    make, mine = sticks
    dev = make(label="WIPESTATION")
    writer = ReportWriter(station=STATION, target=target_for(tmp_path, mine))
    paths = writer.write(jobs(1)[0])
    assert [p.suffix for p in paths] == [".json", ".pdf"]
    root = read_stick(dev, tmp_path / "check")
    assert len(list((root / "reports").glob("*/SER0.json"))) == 1


def test_the_journal_never_keeps_a_mount_a_delivery_is_about_to_undo(
    tmp_path: Path, sticks: tuple[MakeStick, set[str]]
) -> None:
    """``keep_mounted`` (the journal's mount, for the session) waits while a delivery has the
    stick mounted for a moment, then mounts it itself: adopting that mount would lose the
    journal when the delivery unmounts."""
    make, mine = sticks
    make()
    delivery = target_for(tmp_path, mine)
    (part,) = delivery.candidates()
    inside, leave = threading.Event(), threading.Event()

    def deliver() -> None:
        with delivery.open():
            inside.set()
            leave.wait(30)

    writer = threading.Thread(target=deliver)
    writer.start()
    assert inside.wait(30)
    kept: list[Path] = []
    journal = threading.Thread(
        target=lambda: kept.append(target_for(tmp_path, mine).keep_mounted(part))
    )
    journal.start()
    journal.join(1.0)
    assert kept == []  # still waiting: the delivery's mount is about to go
    leave.set()
    writer.join(30)
    journal.join(30)
    assert [str(kept[0])] == mounts_under(tmp_path)  # its own mount, still there
