"""Pure pieces of the engine: sampling, classification, the seekable stream, ranges, journal."""

from __future__ import annotations

import mmap
import os

import pytest
from wipestation.engine.journal import Journal, JournalEntry, journal_dir_for
from wipestation.engine.verify import Classifier, fingerprint_offsets, sample_ranges
from wipestation.errors import UnsupportedError
from wipestation.planning import catalogue
from wipestation.steps.blockio import aligned_buffer, uniform_bytes
from wipestation.steps.overwrite import merge_ranges
from wipestation.steps.patterns import STREAM, Filler, new_stream_key
from wipestation.steps.pipeline import InPlace

MiB = 1024 * 1024
GiB = 1024 * MiB


def test_sample_covers_first_and_last_mib_and_the_percentage():
    size = 10 * GiB + 512 * 7
    ranges = sample_ranges(size, 512, 10.0, seed=7)
    assert ranges[0] == (0, MiB)
    assert ranges[-1][0] + ranges[-1][1] == size
    assert ranges[-1][1] >= MiB
    covered = sum(n for _, n in ranges)
    assert 0.10 * size <= covered <= 0.11 * size
    assert all(off % 512 == 0 and n % 512 == 0 for off, n in ranges)
    assert all(a + n <= b for (a, n), (b, _) in zip(ranges, ranges[1:], strict=False))
    tenths = {off * 10 // size for off, _ in ranges}
    assert tenths == set(range(10))  # spread over the whole device


def test_sample_is_reproducible_from_its_seed():
    assert sample_ranges(GiB, 4096, 5, 1) == sample_ranges(GiB, 4096, 5, 1)
    assert sample_ranges(GiB, 4096, 5, 1) != sample_ranges(GiB, 4096, 5, 2)


def test_small_device_sample_is_the_whole_device():
    assert sample_ranges(MiB + 512, 512, 10, 0) == [(0, MiB + 512)]


def test_fingerprint_offsets_span_the_device():
    offs = fingerprint_offsets(GiB, 3)
    assert offs[0] == 0
    assert offs[-1] == GiB - 4096
    assert len(offs) == 64


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        ([bytes(4096)] * 3, "zeros"),
        ([b"\xff" * 4096], "ones"),
        ([b"\x5a" * 4096], "constant 0x5a"),
        ([b"\xde\xad\xbe\xef" * 1024], "pattern"),
        ([os.urandom(65536) for _ in range(4)], "random-looking"),
        ([bytes(4096), os.urandom(4096)], "mixed"),
        ([b"The quick brown fox jumps over the lazy dog. " * 2000], "mixed"),
    ],
)
def test_classifier_names_what_it_read(chunks, expected):
    c = Classifier()
    for chunk in chunks:
        c.add(chunk)
    assert c.result() == expected


def test_stream_is_seekable():
    key = new_stream_key()
    whole, part = mmap.mmap(-1, 4 * MiB), mmap.mmap(-1, MiB)
    f = Filler(STREAM, key)
    f.keystream(memoryview(whole), 3 * MiB, 0)
    f.keystream(memoryview(part), 512, 2 * MiB + 512)
    assert part[:512] == whole[2 * MiB + 512 : 2 * MiB + 1024]
    assert Filler(STREAM, new_stream_key()).expected(512, 0, memoryview(part)) != whole[:512]


def test_merge_ranges_joins_touching_ones():
    assert merge_ranges([(1024, 512), (0, 512), (512, 512), (4096, 512)]) == [
        (0, 1536),
        (4096, 512),
    ]


def test_journal_round_trip_and_default_dirs(tmp_path):
    j = Journal(tmp_path / "j")
    entry = JournalEntry("job", "SER/1", "/dev/sdx", 10, "overwrite-random", "full", "ab", "t")
    j.save(entry)
    entry.offset = 4096
    j.save(entry)
    loaded = j.load("SER/1")
    assert loaded is not None
    assert loaded.offset == 4096
    assert loaded.stream_key == "ab"
    assert not list((tmp_path / "j").glob("*.tmp"))
    j.remove("SER/1")
    assert j.load("SER/1") is None
    assert str(journal_dir_for("/media/r")) == "/media/r/.journal"
    assert str(journal_dir_for(None)) == "/var/lib/wipestation/journal"


def entry_for(identity: str, offset: int = 0) -> JournalEntry:
    e = JournalEntry("job", identity, "/dev/sdx", 10, "overwrite-random", "full", "ab", "t")
    e.offset = offset
    return e


def test_a_journal_in_ram_moves_to_a_stick_plugged_in_later(tmp_path):
    ram, stick = tmp_path / "ram", tmp_path / "stick" / ".wipestation" / "journal"
    answers = iter([ram, ram, stick])
    j = Journal(lambda: next(answers), recheck_s=0, ram=ram)
    j.save(entry_for("SER1", 512))  # first choice: no stick yet
    j.save(entry_for("SER2", 1024))  # looked again: still none
    assert sorted(p.name for p in ram.glob("*.json")) == ["SER1.json", "SER2.json"]
    j.save(entry_for("SER2", 2048))  # the stick is there now: everything moves over
    assert sorted(p.name for p in stick.glob("*.json")) == ["SER1.json", "SER2.json"]
    assert not list(ram.glob("*.json"))
    assert j.load("SER1").offset == 512
    assert j.load("SER2").offset == 2048
    j.save(entry_for("SER1", 4096))  # on the stick for good: the chooser is not asked again
    assert j.directory == stick


def test_a_journal_that_cannot_move_stays_whole_in_ram(tmp_path):
    ram, blocked = tmp_path / "ram", tmp_path / "read-only-stick"
    blocked.write_text("a file where the journal's directory would go")
    answers = iter([ram])
    j = Journal(lambda: next(answers, blocked / "journal"), recheck_s=0, ram=ram)
    j.save(entry_for("SER1", 512))
    j.save(entry_for("SER1", 1024))  # the move fails: the entry is saved in RAM as before
    assert j.directory == ram
    assert j.load("SER1").offset == 1024


def test_unknown_method_and_bad_byte_are_unsupported():
    with pytest.raises(UnsupportedError, match="unknown method"):
        catalogue.get("gutmann-99")
    with pytest.raises(UnsupportedError, match="0x5a"):
        catalogue.get("overwrite-byte:zz")
    assert catalogue.get("overwrite-byte:90").name == "overwrite-byte:0x5a"


@pytest.mark.parametrize(
    ("byte", "poke", "expected"),
    [
        (0x00, None, True),
        (0xFF, None, True),
        (0x00, 0, False),  # the first byte differs (the self-compare alone cannot see it)
        (0x00, 4095, False),  # the last byte compared differs
        (0xA5, 2048, False),
    ],
)
def test_uniform_bytes_is_a_compare_with_the_constant(byte, poke, expected):
    mem = aligned_buffer(8192)
    view = memoryview(mem)
    view[:8192] = bytes([byte]) * 8192
    if poke is not None:
        view[poke] = byte ^ 0x01
    view[4096] = byte ^ 0xFF  # past n: never looked at
    assert uniform_bytes(view, 4096, byte) is expected
    assert uniform_bytes(view, 4096, byte) is (view[:4096].tobytes() == bytes([byte]) * 4096)
    assert uniform_bytes(view, 0, byte)
    with pytest.raises(ValueError, match="shorter"):
        uniform_bytes(view[:10], 11, byte)


def test_in_place_prepares_each_chunk_in_the_callers_thread_into_one_slot():
    import threading

    seen: list[tuple[int, str]] = []

    def prepare(slot, item):
        slot[0][:4] = item.to_bytes(4, "big")
        seen.append((item, threading.current_thread().name))

    with InPlace(prepare, iter(range(3)), 4096) as src:
        got = []
        for slot, item in src:
            got.append((int.from_bytes(slot[0][:4], "big"), item, id(slot)))
            src.recycle(slot)
    assert [(v, i) for v, i, _ in got] == [(0, 0), (1, 1), (2, 2)]
    assert len({s for _, _, s in got}) == 1  # one slot, reused
    assert {name for _, name in seen} == {threading.current_thread().name}
