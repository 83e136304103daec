"""Every overwrite method on a real loop device: afterwards every byte is what the method says."""

from __future__ import annotations

import mmap

import pytest
from wipestation.model import JobState
from wipestation.steps.patterns import STREAM, Filler

from tests.engine.conftest import MiB, drive_of, read_all

#: Not a multiple of the 1 MiB buffer the tests use: the tail must be written too.
SIZE = 6 * MiB + 3 * 512
ORIGINAL = b"customer data! "


def stream_bytes(key: bytes, size: int) -> bytes:
    buf = mmap.mmap(-1, size + 64)
    Filler(STREAM, key).keystream(memoryview(buf), size, 0)
    return buf[:size]


@pytest.mark.parametrize(
    ("method", "expected_byte"),
    [
        ("overwrite-zero", 0x00),
        ("overwrite-ones", 0xFF),
        ("overwrite-byte:0x5a", 0x5A),
        ("nist-clear", 0x00),
    ],
)
def test_constant_methods_leave_every_byte(make_loop, make_engine, method, expected_byte):
    dev = make_loop(SIZE, ORIGINAL)
    engine = make_engine(buffer_size=MiB)
    job = engine.start(drive_of(dev), method, "sample")
    assert engine.wait(timeout=120)
    result = engine.results()[job]
    assert result.state == JobState.PASSED, result.reason
    assert result.verification is not None
    assert result.verification.passed
    assert read_all(dev) == bytes([expected_byte]) * SIZE


@pytest.mark.parametrize("method", ["overwrite-random", "dod-5220.22-m"])
def test_random_methods_leave_the_keyed_stream(make_loop, make_engine, method):
    dev = make_loop(SIZE, ORIGINAL)
    engine = make_engine(buffer_size=MiB)
    job = engine.start(drive_of(dev), method, "full")
    assert engine.wait(timeout=120)
    result = engine.results()[job]
    assert result.state == JobState.PASSED, result.reason
    assert result.verification.bytes_checked == SIZE
    assert result.verification.observed_class == "random-looking"
    assert read_all(dev) == stream_bytes(engine.stream_key(job), SIZE)
    assert len(result.steps) == (3 if method == "dod-5220.22-m" else 1)


def test_fingerprint_is_taken_before_erasing(make_loop, make_engine):
    dev = make_loop(SIZE, ORIGINAL)
    engine = make_engine()
    job = engine.start(drive_of(dev), "overwrite-zero", "none")
    assert engine.wait(timeout=120)
    fp = engine.results()[job].fingerprint
    assert fp is not None
    assert fp.algorithm == "sha256"
    assert fp.offsets[0] == 0
    assert fp.offsets[-1] == (SIZE // 4096 - 1) * 4096
    zero_hash = __import__("hashlib").sha256(bytes(4096)).hexdigest()
    assert zero_hash not in fp.sha256  # hashed the customer data, not the result
    assert read_all(dev).count(0) == SIZE


def test_two_devices_at_once_both_pass(make_loop, make_engine):
    a, b = make_loop(SIZE, ORIGINAL), make_loop(SIZE + 512, ORIGINAL)
    engine = make_engine(buffer_size=MiB)
    jobs = [engine.start(drive_of(d), "overwrite-random", "full") for d in (a, b)]
    assert engine.wait(timeout=120)
    results = engine.results()
    assert [results[j].state for j in jobs] == [JobState.PASSED, JobState.PASSED]
    assert read_all(a) == stream_bytes(engine.stream_key(jobs[0]), SIZE)
    assert read_all(b) == stream_bytes(engine.stream_key(jobs[1]), SIZE + 512)
    assert engine.stream_key(jobs[0]) != engine.stream_key(jobs[1])
