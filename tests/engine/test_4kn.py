"""4Kn drives (4096-byte logical blocks) end to end on real 4K-sector loop devices
(``losetup --sector-size 4096``): O_DIRECT chunks, the tail, verification's sample, the
fingerprint, and the record's sector size and byte counts. A 512-byte assumption anywhere
makes the kernel refuse the I/O (EINVAL) and the job fail."""

from __future__ import annotations

import errno
from dataclasses import replace

import jsonschema
import pytest
from wipestation.engine.verify import fingerprint_offsets, sample_ranges
from wipestation.model import JobState
from wipestation.reports.record import StationInfo, build_record, load_schema
from wipestation.steps.overwrite import OverwriteStep
from wipestation.steps.patterns import STREAM, ZEROS
from wipestation.steps.plan import Expect, Expectation, Plan

from tests.engine.conftest import MiB, drive_of, read_all, register_plan
from tests.engine.test_io_faults import FaultyIO

K4 = 4096
#: Not a multiple of the 1 MiB buffer: the 3-block tail must be written and verified too.
SIZE = 6 * MiB + 3 * K4
ORIGINAL = b"4Kn customer data "


def run(make_loop, make_engine, method: str, verify: str = "sample", **engine_kw):
    dev = make_loop(SIZE, ORIGINAL, sector_size=K4)
    engine = make_engine(buffer_size=MiB, **engine_kw)
    drive = drive_of(dev)
    job = engine.start(drive, method, verify)
    assert engine.wait(timeout=120)
    return dev, drive, engine.results()[job]


def test_the_loop_device_is_a_4kn_disk(make_loop):
    drive = drive_of(make_loop(SIZE, ORIGINAL, sector_size=K4))
    assert (drive.logical_block_size, drive.physical_block_size) == (K4, K4)
    assert drive.size_bytes == SIZE


@pytest.mark.parametrize("method", ["overwrite-zero", "nist-clear", "blkzeroout", "blkdiscard"])
@pytest.mark.parametrize("verify", ["sample", "full"])
def test_zeroing_methods_erase_every_byte_of_a_4kn_disk(make_loop, make_engine, method, verify):
    dev, drive, result = run(make_loop, make_engine, method, verify)
    assert result.state == JobState.PASSED, result.reason
    assert result.verification is not None
    assert result.verification.passed
    assert result.verification.bytes_total == SIZE
    if verify == "full":
        assert result.verification.bytes_checked == SIZE
    assert read_all(dev) == bytes(SIZE)
    assert result.drive.logical_block_size == K4


def test_random_overwrite_is_verified_by_regeneration_on_4kn(make_loop, make_engine):
    dev, drive, result = run(make_loop, make_engine, "overwrite-random", "full")
    assert result.state == JobState.PASSED, result.reason
    assert result.verification.observed_class == "random-looking"
    assert result.verification.bytes_checked == SIZE


def test_sample_ranges_of_a_4kn_disk_are_block_aligned(make_loop, make_engine):
    _, _, result = run(make_loop, make_engine, "overwrite-zero", "sample")
    assert result.verification.passed
    assert "first/last MiB" in result.verification.detail
    assert result.verification.bytes_checked % K4 == 0


def test_the_fingerprint_proves_a_change_on_4kn(make_loop, make_engine):
    """A firmware-like result (Expect CHANGED) on 4Kn: the pre-erase fingerprint's 4 KiB blocks
    are read with O_DIRECT before and after, and every data-bearing one must differ."""
    register_plan(
        "scramble-4kn",
        lambda verify: Plan(
            method="scramble-4kn", level="clear", standard="test",
            steps=(OverwriteStep(STREAM, 1, 1),), expect=Expectation(Expect.CHANGED),
            verify=verify,
        ),
    )  # fmt: skip
    _, _, result = run(make_loop, make_engine, "scramble-4kn", "sample")
    assert result.state == JobState.PASSED, result.reason
    fp = result.fingerprint
    assert fp is not None
    assert all(off % K4 == 0 for off in fp.offsets)
    assert fp.offsets[-1] == SIZE - K4  # the last block of the disk is in it
    assert "data-bearing fingerprint blocks changed" in result.verification.detail


def test_a_write_error_on_4kn_is_narrowed_to_one_4k_block(make_loop, make_engine):
    """Retrying down to the logical block size: a 512-byte retry would be refused by a 4Kn
    disk (EINVAL), so the bad range is exactly one 4096-byte block."""
    bad = (3 * MiB + 2 * K4, K4)
    dev, _, result = run(
        make_loop, make_engine, "overwrite-zero", "full",
        io_factory=lambda fd, d: FaultyIO(fd, d, bad, errno.EIO),
    )  # fmt: skip
    assert result.state == JobState.FAILED
    assert result.bad_ranges == (bad,)
    data = read_all(dev)
    assert data[: bad[0]] == bytes(bad[0])
    assert data[bad[0] + K4 :] == bytes(SIZE - bad[0] - K4)


def test_the_record_carries_the_4k_sector_size_and_byte_counts(make_loop, make_engine):
    _, _, result = run(make_loop, make_engine, "nist-clear", "full")
    record = build_record(result, StationInfo(station_id="t"))
    jsonschema.validate(record, load_schema(), cls=jsonschema.Draft202012Validator)
    assert record["drive"]["logical_block_size"] == K4
    assert record["drive"]["physical_block_size"] == K4
    assert record["drive"]["capacity_bytes"] == SIZE
    assert record["verification"]["bytes_checked"] == SIZE
    assert record["verification"]["bytes_total"] == SIZE
    assert record["sector_format"] is None  # a loop device: no READ CAPACITY was asked


@pytest.mark.parametrize("size", [SIZE, 2 * MiB + K4, 37 * MiB + 5 * K4, 3 * K4])
def test_every_sample_range_and_fingerprint_block_is_4k_aligned(size):
    """Over many seeds and sizes that are multiples of 4096 but not of 1 MiB: an O_DIRECT read
    that is not block-aligned would fail on a 4Kn disk."""
    for seed in range(200):
        ranges = sample_ranges(size, K4, 10.0, seed)
        assert ranges[0][0] == 0
        assert ranges[-1][0] + ranges[-1][1] == size
        assert all(off % K4 == 0 and n % K4 == 0 and n > 0 for off, n in ranges), ranges
        assert all(off % K4 == 0 and off + K4 <= size for off in fingerprint_offsets(size, seed))


@pytest.mark.parametrize("verify", ["none", "full"])
def test_a_drive_still_at_0_bytes_never_passes(make_loop, make_engine, verify):
    """The drive as Linux shows a 520-byte disk (or one the kernel did not re-read after its
    reformat): an overwrite of 0 bytes and a verification of 0 bytes would prove nothing."""
    register_plan(
        "zero-at-0",
        lambda v: Plan(
            method="zero-at-0", level="clear", standard="test",
            steps=(OverwriteStep(ZEROS, 1, 1),), expect=Expectation(Expect.ZEROS), verify=v,
        ),
    )  # fmt: skip
    dev = make_loop(SIZE, ORIGINAL, sector_size=K4)
    engine = make_engine(buffer_size=MiB)
    job = engine.start(replace(drive_of(dev), size_bytes=0), "zero-at-0", verify)
    assert engine.wait(timeout=120)
    result = engine.results()[job]
    assert result.state == JobState.FAILED
    assert "shows 0 bytes after zero-at-0: nothing was erased or verified" in result.reason
    assert result.level == "none"
