"""Protection proven on real loop devices: mounted, partition mounted, swap, excluded, busy.

For each protected case the inventory gives the right reason, and the only door to a writable
descriptor (Inventory.open_for_wipe) refuses, leaving every byte unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from wipestation.discovery import safety
from wipestation.discovery.inventory import Inventory
from wipestation.errors import SafetyError

from tests.helpers import loops

MiB = 1024 * 1024
PATTERN = b"KEEP-ME-INTACT!\n"


def digest(dev: str) -> str:
    with open(dev, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


@contextlib.contextmanager
def mounted(dev: str, where: Path) -> Iterator[None]:
    where.mkdir(exist_ok=True)
    sh("mount", dev, str(where))
    try:
        yield
    finally:
        subprocess.run(["umount", str(where)], check=False)


def wait_for_partition(dev: str, part: str, timeout: float = 10) -> None:
    """The loop driver does not always re-read the table itself; udev may still be busy."""
    deadline = time.monotonic() + timeout
    while True:
        subprocess.run(["partx", "-u", dev], capture_output=True, check=False)
        loops.settle()
        if os.path.exists(part):
            with contextlib.suppress(OSError):
                os.close(os.open(part, os.O_RDONLY))
                return
        assert time.monotonic() < deadline, f"{part} never appeared"
        time.sleep(0.2)


def drive(inv: Inventory, dev: str):
    d = inv.get(dev)
    assert d is not None, f"{dev} not listed"
    return d


def assert_refused(inv: Inventory, dev: str, reason_start: str) -> None:
    d = drive(inv, dev)
    assert d.protected
    assert any(r.startswith(reason_start) for r in d.protected_reasons), d.protected_reasons
    before = digest(dev)
    with pytest.raises(SafetyError, match="refusing to write"):
        inv.open_for_wipe(d)
    assert digest(dev) == before


def test_unmounted_loop_is_a_target(make_loop) -> None:
    dev = make_loop(16 * MiB, PATTERN)
    d = drive(Inventory(), dev)
    assert not d.protected
    assert d.wipeable
    assert d.size_bytes == 16 * MiB
    assert d.transport == "loop"
    fd = Inventory().open_for_wipe(d)  # opens; writes nothing
    os.close(fd)


def test_mounted_loop_is_protected(make_loop, tmp_path: Path) -> None:
    dev = make_loop(32 * MiB)
    sh("mkfs.ext4", "-q", "-F", dev)
    with mounted(dev, tmp_path / "mnt"):
        assert_refused(Inventory(), dev, f"mounted: {dev} on ")


def test_loop_with_mounted_partition_is_protected(make_loop, tmp_path: Path) -> None:
    dev = make_loop(32 * MiB, partscan=True)
    subprocess.run(["sfdisk", "-q", dev], input=b"label: dos\nstart=2048, type=83\n", check=True)
    part = f"{dev}p1"
    wait_for_partition(dev, part)
    sh("mkfs.ext4", "-q", "-F", part)
    with mounted(part, tmp_path / "mnt"):
        assert_refused(Inventory(), dev, f"mounted: {part} on ")


def test_active_swap_is_protected(make_loop) -> None:
    dev = make_loop(16 * MiB)
    sh("mkswap", dev)
    sh("swapon", dev)
    try:
        assert_refused(Inventory(), dev, f"active swap: {dev}")
    finally:
        subprocess.run(["swapoff", dev], check=False)


def test_excluded_by_path_or_identity_is_protected(make_loop) -> None:
    dev = make_loop(16 * MiB, PATTERN)
    assert_refused(Inventory([dev]), dev, "excluded by operator")
    identity = drive(Inventory(), dev).identity
    assert_refused(Inventory([f"other,{identity}"]), dev, "excluded by operator")


def test_excluded_by_serial_matches() -> None:
    # Loop devices have no serial; the serial/WWN rule is exercised on its own.
    hit = safety.match_exclusion(
        ["S3Z9NX0M123"],
        path="/dev/sdb",
        name="sdb",
        serial="S3Z9NX0M123",
        wwn="",
        identity="S3Z9NX0M123",
        by_id=[],
    )
    assert hit == "S3Z9NX0M123"
    assert safety.match_exclusion(
        ["0X5000C500AABBCC01"],
        path="/dev/sda",
        name="sda",
        serial="",
        wwn="0x5000c500aabbcc01",
        identity="",
        by_id=[],
    )
    assert not safety.match_exclusion(
        ["S3Z9"], path="/dev/sdb", name="sdb", serial="S3Z9NX0M123", wwn="", identity="", by_id=[]
    )


@pytest.mark.slow
def test_exclusively_opened_device_is_busy(make_loop) -> None:
    dev = make_loop(16 * MiB, PATTERN)
    holder = os.open(dev, os.O_RDONLY | os.O_EXCL)
    try:
        assert_refused(Inventory(), dev, "busy:")
    finally:
        os.close(holder)


def test_a_momentary_claim_is_not_busy(make_loop) -> None:
    """Two probes of one drive at once (or the kernel re-reading its partitions) claim it for a
    moment; an unattended station that took that for "in use" skipped the drive for good."""
    dev = make_loop(16 * MiB, PATTERN)
    holder = os.open(dev, os.O_RDONLY | os.O_EXCL)
    release = threading.Timer(0.3, os.close, (holder,))
    release.start()
    try:
        d = drive(Inventory(), dev)
    finally:
        release.join()
    assert not d.protected, d.protected_reasons


def test_identity_change_at_same_path_is_refused(make_loop, tmp_path: Path) -> None:
    dev = make_loop(16 * MiB, PATTERN)
    planned = drive(Inventory(), dev)
    other = tmp_path / "other.img"
    other.write_bytes(b"")
    os.truncate(other, 16 * MiB)
    loops.detach(dev)
    for _ in range(50):  # another "drive" now sits at the same node (detach is asynchronous)
        if subprocess.run(["losetup", dev, str(other)], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    loops.settle()
    with pytest.raises(SafetyError, match="not the planned"):
        Inventory().open_for_wipe(planned)


def test_cli_list_json_marks_root_protected_and_loop_target(make_loop) -> None:
    dev = make_loop(16 * MiB)
    out = subprocess.run(
        [sys.executable, "-m", "wipestation", "list", "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    drives = {d["path"]: d for d in json.loads(out)}
    assert drives[dev]["protected"] is False
    assert drives[dev]["protected_reasons"] == []
    root = [
        d
        for d in drives.values()
        if any(r.startswith("boot medium of the running system") for r in d["protected_reasons"])
    ]
    assert len(root) == 1
    assert root[0]["protected"] is True
    for key in (
        "path",
        "name",
        "transport",
        "model",
        "serial",
        "wwn",
        "firmware",
        "size_bytes",
        "logical_block_size",
        "physical_block_size",
        "rotational",
        "removable",
        "read_only",
        "identity",
        "identity_source",
    ):
        assert key in drives[dev]
    table = subprocess.run(
        [sys.executable, "-m", "wipestation", "list"], check=True, capture_output=True, text=True
    ).stdout
    assert dev in table
    assert "PROTECTED: boot medium" in table


def test_a_drive_udev_has_not_finished_with_is_protected(monkeypatch, tmp_path) -> None:
    """Early at boot a disk can be listed before udev has read it (no serial, no partition
    links: it could be the boot stick). It is shown, protected, until udev is done."""
    from wipestation.discovery import udev
    from wipestation.discovery.inventory import NOT_IDENTIFIED

    from tests.discovery.test_identity import QEMU

    early = {**QEMU["sata"], udev.NOT_INITIALIZED: "1"}
    monkeypatch.setattr(udev, "iter_disks", lambda: iter([(early, []), (QEMU["nvme"], [])]))
    drives = {d.name: d for d in Inventory(sys_block=str(tmp_path)).drives()}
    assert drives["sda"].protected_reasons == (NOT_IDENTIFIED,)
    assert NOT_IDENTIFIED not in drives["nvme0n1"].protected_reasons


def test_get_lists_everything_again_only_for_a_shared_identity(monkeypatch, tmp_path) -> None:
    """The hotplug watcher passes the drives it knows: a new drive whose identity none of them
    has needs no full listing; one sharing it is resolved against the full list."""
    from dataclasses import replace

    from wipestation.discovery import udev
    from wipestation.discovery.inventory import drive_from_properties

    from tests.discovery.test_identity import QEMU

    inv = Inventory(sys_block=str(tmp_path))
    listings = []
    monkeypatch.setattr(udev, "disk_by_name", lambda name: (QEMU["sata"], []))
    monkeypatch.setattr(inv, "drives", lambda **_: listings.append(1) or [])
    nvme = drive_from_properties(QEMU["nvme"])
    got = inv.get("sda", others=[nvme])
    assert got is not None
    assert got.identity == "SATA0001"
    assert listings == []
    twin = replace(
        nvme, name="sdz", identity="SATA0001@pci-0000:00:1f.2-ata-9", identity_duplicate=True
    )
    inv.get("sda", others=[nvme, twin])
    assert listings == [1]
    inv.get("sda")  # no knowledge given: the full list, as before
    assert listings == [1, 1]


def test_a_disk_whose_partition_udev_has_not_read_is_protected(monkeypatch, tmp_path) -> None:
    """The disk is identified but its partition is not yet: that partition's UUID and label
    (the boot stick's marks) are unknown, so the disk may not be written either."""
    from wipestation.discovery import udev
    from wipestation.discovery.inventory import NOT_IDENTIFIED

    from tests.discovery.test_identity import QEMU

    part = {"DEVNAME": "/dev/sda1", "DEVTYPE": "partition", udev.NOT_INITIALIZED: "1"}
    monkeypatch.setattr(udev, "iter_disks", lambda: iter([(QEMU["sata"], [part])]))
    (drive,) = Inventory(sys_block=str(tmp_path)).drives()
    assert drive.protected_reasons == (NOT_IDENTIFIED,)


def test_udev_still_reading_until_it_has_read_a_device_and_emptied_its_queue(
    tmp_path: Path,
) -> None:
    from wipestation.discovery.udev import still_reading

    assert still_reading(tmp_path)  # udevd has not started: no database at all
    (tmp_path / "data").mkdir()
    assert still_reading(tmp_path)  # started, nothing read yet
    (tmp_path / "data" / "b8:0").write_text("")
    (tmp_path / "queue").write_text("")
    assert still_reading(tmp_path)  # events queued
    (tmp_path / "queue").unlink()
    assert not still_reading(tmp_path)


def test_get_asks_the_kernel_about_its_own_drive_only(monkeypatch, tmp_path) -> None:
    """Re-checking one drive (every job start and pass) lists the others only to tell identities
    apart: their exclusive claims are not asked for. Each sibling a running wipe holds cost up
    to 0.8 s of ``busy_reason`` retries before — 36 s for the last of 48 drives to start."""
    from wipestation.discovery import safety, udev

    from tests.discovery.test_identity import QEMU

    asked: list[str] = []
    monkeypatch.setattr(safety, "busy_reason", lambda path: asked.append(path) or "busy: test")
    monkeypatch.setattr(udev, "iter_disks", lambda: iter([(QEMU["sata"], []), (QEMU["nvme"], [])]))
    monkeypatch.setattr(udev, "disk_by_name", lambda name: (QEMU["sata"], []))
    inv = Inventory(sys_block=str(tmp_path))
    got = inv.get("sda")
    assert got is not None
    assert got.protected_reasons == ("busy: test",)  # its own claim is still asked, and counts
    assert set(asked) == {"/dev/sda"}
    asked.clear()
    listed = {d.name: d for d in inv.drives()}  # a full listing still asks about every drive
    assert set(asked) == {"/dev/sda", "/dev/nvme0n1"}
    assert listed["nvme0n1"].protected


def test_recheck_lists_again_only_when_the_last_listing_shares_the_identity(
    monkeypatch, tmp_path
) -> None:
    """A job's re-checks (before its start, before each pass) compare against the inventory's
    last full listing instead of listing every drive again; a twin identity still lists."""
    from wipestation.discovery import safety, udev

    from tests.discovery.test_identity import QEMU

    listings: list[int] = []

    def iter_disks():
        listings.append(1)
        return iter([(QEMU["sata"], []), (QEMU["nvme"], [])])

    monkeypatch.setattr(safety, "busy_reason", lambda path: "")
    monkeypatch.setattr(udev, "iter_disks", iter_disks)
    monkeypatch.setattr(udev, "disk_by_name", lambda name: (QEMU["sata"], []))
    inv = Inventory(sys_block=str(tmp_path))
    planned = inv.drives()[-1]
    assert planned.name == "sda"
    inv.recheck(planned)
    inv.recheck(planned)
    assert listings == [1]  # only the listing the plan came from
    sata_serial = QEMU["sata"]["ID_SERIAL_SHORT"]  # an NVMe drive that reports the same serial
    twin = {**QEMU["nvme"], "ID_SERIAL_SHORT": sata_serial, "sysfs:device/serial": sata_serial}
    monkeypatch.setattr(udev, "iter_disks", lambda: listings.append(1) or iter([(twin, [])]))
    inv.drives()
    inv.recheck(planned)  # the last listing holds a twin: resolved against a full list
    assert listings == [1, 1, 1]
