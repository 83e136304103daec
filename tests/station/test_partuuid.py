"""The boot stick's partition by its MBR PARTUUID from sysfs and devtmpfs, before udev's link
(discovery/partuuid.py): on a fake sysfs tree for the rules, and on a real loop device."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from wipestation import station
from wipestation.discovery.partuuid import (
    PartitionFinder,
    PartitionScan,
    mbr_signature,
)

MiB = 1024 * 1024


def mbr(signature: int, mark: bytes = b"\x55\xaa") -> bytes:
    sector = bytearray(512)
    sector[440:444] = signature.to_bytes(4, "little")
    sector[510:512] = mark
    return bytes(sector)


def disk(sys_block: Path, dev: Path, name: str, sector: bytes, parts: int, seq: int = 1) -> None:
    """A disk as sysfs shows it (partitions as its subdirectories, linked from class/block)."""
    devices = sys_block.parent / "devices" / name
    devices.mkdir(parents=True)
    (devices / "diskseq").write_text(f"{seq}\n")
    (sys_block / name).symlink_to(devices)
    (dev / name).write_bytes(sector)
    for n in range(1, parts + 1):
        part = devices / f"{name}{n}"
        part.mkdir()
        (part / "partition").write_text(f"{n}\n")
        (sys_block / part.name).symlink_to(part)
        (dev / part.name).touch()


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    sys_block, dev = tmp_path / "class" / "block", tmp_path / "dev"
    sys_block.mkdir(parents=True)
    dev.mkdir()
    disk(sys_block, dev, "sda", mbr(0x11111111), parts=2)
    disk(sys_block, dev, "sdb", mbr(0x1A2B3C4D), parts=2)
    disk(sys_block, dev, "sdc", mbr(0x1A2B3C4D, mark=b"\0\0"), parts=1)  # no boot mark
    return sys_block, dev


def test_the_partition_of_that_number_on_the_disk_with_that_signature(tree) -> None:
    sys_block, dev = tree
    assert PartitionFinder("1A2B3C4D-02", sys_block, dev).find() == dev / "sdb2"
    assert PartitionFinder("1a2b3c4d-01", sys_block, dev).find() == dev / "sdb1"
    assert PartitionFinder("11111111-02", sys_block, dev).find() == dev / "sda2"
    assert PartitionFinder("1a2b3c4d-03", sys_block, dev).find() is None  # no such partition
    assert PartitionFinder("22222222-01", sys_block, dev).find() is None  # no such disk


def test_no_boot_mark_a_gpt_uuid_or_no_node_finds_nothing(tree) -> None:
    sys_block, dev = tree
    assert mbr_signature(mbr(0x1A2B3C4D, mark=b"\0\0")) is None
    assert mbr_signature(b"\x55\xaa") is None  # short read
    (dev / "sdb1").unlink()  # devtmpfs has no node (yet)
    assert PartitionFinder("1a2b3c4d-01", sys_block, dev).find() is None
    guid = "0fc63daf-8483-4772-8e79-3d69d8477de4"  # GPT: udev's link is the only way
    assert PartitionFinder(guid, sys_block, dev).find() is None


def test_each_disk_is_read_once_per_medium_and_a_read_error_is_not_the_stick(tree) -> None:
    sys_block, dev = tree
    reads: list[str] = []

    def read(node: Path) -> bytes:
        reads.append(node.name)
        if node.name == "sda":
            raise OSError(5, "Input/output error")
        return node.read_bytes()

    finder = PartitionFinder("99999999-01", sys_block, dev, read)  # on no disk
    assert finder.find() is None
    assert finder.find() is None
    assert sorted(reads) == ["sda", "sdb", "sdc"]  # the second search read nothing
    (sys_block / "sdb" / "diskseq").write_text("2\n")  # another medium in that slot
    assert finder.find() is None
    assert sorted(reads) == ["sda", "sdb", "sdb", "sdc"]


def test_find_stick_takes_the_scans_exact_match_before_a_label_link(tree, tmp_path: Path) -> None:
    sys_block, dev = tree
    scan = PartitionScan(PartitionFinder("1a2b3c4d-01", sys_block, dev)).start()
    links = tmp_path / "disk"  # udev's /dev/disk: no PARTUUID link yet, another stick's label
    (links / "by-label").mkdir(parents=True)
    (links / "by-label" / "WIPESTATION").symlink_to(dev / "sda1")
    try:
        found = station.find_stick(station.StickSpec("1a2b3c4d-01"), links, wait_s=30, scan=scan)
    finally:
        scan.stop()
    assert found == dev / "sdb1"


@pytest.fixture
def partitioned_loop(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A real loop device with an MBR partition table and its partition: (partuuid, node)."""
    if os.geteuid() != 0:
        pytest.fail("needs root (loop devices); the suite runs as root")
    image, label = tmp_path / "stick.img", secrets.randbits(32) | 1
    image.write_bytes(b"\0" * 8 * MiB)
    table = f"label: dos\nlabel-id: 0x{label:08x}\n\nstart=2048, type=c\n"
    subprocess.run(["sfdisk", "-q", str(image)], input=table, text=True, check=True)
    loop = subprocess.run(
        ["losetup", "--find", "--show", str(image)], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        subprocess.run(["partx", "-a", loop], check=True)  # the host kernel may not scan MBRs
        yield f"{label:08x}-01", f"{loop}p1"
    finally:
        subprocess.run(["partx", "-d", loop], check=False)
        subprocess.run(["losetup", "-d", loop], check=False)


def test_a_real_loop_devices_partition_is_found_by_its_partuuid(partitioned_loop) -> None:
    partuuid, node = partitioned_loop
    assert PartitionFinder(partuuid).find() == Path(node)
    other = f"{int(partuuid[:8], 16) ^ 0xFFFFFFFF:08x}-01"
    assert PartitionFinder(other).find() is None
