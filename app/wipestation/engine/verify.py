"""Read-back proof: what a method's result must look like, checked with O_DIRECT reads.

Modes: ``none``; ``sample`` (NIST SP 800-88 representative sampling: the first and last MiB
always, plus ``percent`` of the device in 1 MiB chunks, one at a seeded pseudo-random aligned
position inside each of equal strata, so the sample spreads over the whole device and can be
re-drawn from the recorded seed); ``full`` (every byte). The random stream is verified by
regenerating it at each offset. ``CHANGED`` (crypto/vendor erase) compares the pre-erase
fingerprint blocks and records the class of what the medium returns now.
"""

from __future__ import annotations

import errno
import hashlib
import math
import os
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from wipestation.model import ByteRange, Fingerprint, VerifyResult
from wipestation.steps.blockio import (
    GONE_ERRNOS,
    BlockIO,
    MiB,
    aligned_buffer,
    release,
    same_bytes,
    uniform_bytes,
)
from wipestation.steps.overwrite import merge_ranges
from wipestation.steps.patterns import Filler, Pattern, constant_bytes
from wipestation.steps.pipeline import InPlace, Prefetch
from wipestation.steps.plan import CancelledError, Expect, Expectation

FINGERPRINT_BLOCKS = 64
FINGERPRINT_BLOCK = 4096
#: fingerprint hash of a block that could not be read / lies past the device's (new) end
UNREADABLE = "unreadable"
BEYOND_END = "beyond end"


@dataclass(frozen=True)
class VerifyRequest:
    mode: str  # none | sample | full
    expect: Expectation
    size: int
    lbs: int
    stream_key: bytes = b""
    percent: float = 10.0
    seed: int = 0
    fingerprint: Fingerprint | None = None
    buffer_size: int = 4 * MiB


def sample_ranges(size: int, lbs: int, percent: float, seed: int) -> list[ByteRange]:
    """First MiB, last MiB and ``percent`` of the rest, one chunk per stratum (sorted, disjoint)."""
    edge = min(MiB, size)
    ranges = [(0, edge), (size - edge, edge)]
    middle = size - 2 * edge
    count = math.ceil(middle * percent / 100 / MiB) if middle > 0 else 0
    rng = random.Random(seed)
    stratum = middle / count if count else 0
    for i in range(count):
        lo = edge + int(i * stratum)
        length = min(MiB, int(stratum) // lbs * lbs)
        if length <= 0:
            continue
        slack = (int(stratum) - length) // lbs
        ranges.append((lo - lo % lbs + rng.randint(0, max(0, slack)) * lbs, length))
    return _coalesce(ranges, size)


def _coalesce(ranges: list[ByteRange], size: int) -> list[ByteRange]:
    out: list[ByteRange] = []
    for off, ln in sorted(ranges):
        end = min(size, off + ln)
        if out and off <= out[-1][0] + out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][0] + out[-1][1], end) - out[-1][0])
        elif end > off:
            out.append((off, end - off))
    return out


def fingerprint_offsets(size: int, seed: int) -> list[int]:
    """A fixed spread of 4 KiB blocks: first, last and evenly spaced with seeded jitter."""
    blocks = size // FINGERPRINT_BLOCK
    if blocks <= FINGERPRINT_BLOCKS:
        return [i * FINGERPRINT_BLOCK for i in range(blocks)]
    rng = random.Random(seed)
    step = blocks / (FINGERPRINT_BLOCKS - 1)
    picks = {0, blocks - 1}
    for i in range(1, FINGERPRINT_BLOCKS - 1):
        picks.add(min(blocks - 1, int(i * step) + rng.randrange(max(1, int(step)))))
    return [b * FINGERPRINT_BLOCK for b in sorted(picks)]


def take_fingerprint(
    io: BlockIO, size: int, seed: int, offsets: tuple[int, ...] | None = None
) -> Fingerprint:
    """Hashes of a fixed sample of blocks, taken before erasing.

    ``offsets`` re-reads the blocks of an earlier fingerprint (the size may have changed since:
    a prepare step); a block past the end is hashed as ``BEYOND_END``.
    """
    mem = aligned_buffer(FINGERPRINT_BLOCK)
    view = memoryview(mem)[:FINGERPRINT_BLOCK]
    hashes, uniform = [], []
    offsets = tuple(fingerprint_offsets(size, seed)) if offsets is None else offsets
    try:
        for off in offsets:
            if off + FINGERPRINT_BLOCK > size:
                hashes.append(BEYOND_END)
                uniform.append(True)
                continue
            try:
                io.read_into(view, off)
            except OSError as e:
                if e.errno in GONE_ERRNOS:
                    raise
                hashes.append(UNREADABLE)  # a bad sector proves nothing either way
                uniform.append(True)
                continue
            data = view.tobytes()
            hashes.append(hashlib.sha256(data).hexdigest())
            uniform.append(data.count(data[:1]) == len(data))
    finally:
        release(mem)
    return Fingerprint(seed, FINGERPRINT_BLOCK, offsets, tuple(hashes), tuple(uniform))


@dataclass
class Classifier:
    """Accumulates what the read-back data looks like: zeros, ones, constant, pattern, random."""

    constants: set[int] = field(default_factory=set)
    nonconstant: int = 0
    periodic: int = 0
    histogram: Counter[int] = field(default_factory=Counter)
    sampled: int = 0
    keystream: int = 0  # chunks that matched the job's random stream exactly

    def add_matched(self, pattern: Pattern) -> None:
        """A chunk equal to the expected pattern: its class is known without looking again."""
        if pattern.kind == "stream":
            self.nonconstant += 1
            self.keystream += 1
        else:
            self.constants.add(pattern.byte)

    def add(self, data: bytes) -> None:
        if data and data.count(data[:1]) == len(data):
            self.constants.add(data[0])
            return
        self.nonconstant += 1
        head = data[:16384]
        if any(head[p:] == head[:-p] for p in (1, 2, 4, 8, 16, 512, 4096) if p < len(head)):
            self.periodic += 1
        self.histogram.update(head[:4096])
        self.sampled += len(head[:4096])

    def result(self) -> str:
        if not self.nonconstant:
            if len(self.constants) == 1:
                b = next(iter(self.constants))
                return {0: "zeros", 0xFF: "ones"}.get(b, f"constant 0x{b:02x}")
            return "mixed" if self.constants else ""
        if self.constants or (self.periodic and self.periodic != self.nonconstant):
            return "mixed"
        if self.periodic:
            return "pattern"
        if self.keystream == self.nonconstant:
            return "random-looking"
        return "random-looking" if self._uniform() else "mixed"

    def _uniform(self) -> bool:
        expected = self.sampled / 256
        chi2 = sum((self.histogram.get(b, 0) - expected) ** 2 / expected for b in range(256))
        return chi2 < 400  # 255 degrees of freedom: random data sits near 255, text far above


class Verifier:
    """Reads the chosen ranges and compares them with what the method must have left."""

    def __init__(
        self,
        io: BlockIO,
        req: VerifyRequest,
        advance: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
        gone: Callable[[OSError], bool] | None = None,
    ) -> None:
        self.io, self.req = io, req
        self.advance = advance or (lambda done, total: None)
        self.cancel = cancel
        #: True when an errno means the device went away (the job then ends ``removed``)
        self.gone = gone or (lambda e: e.errno in GONE_ERRNOS)
        #: logical blocks that could not be read, and the first error's text
        self.read_errors: list[ByteRange] = []
        self.read_error_text = ""
        kind = req.expect.kind
        self.filler = None
        if kind in (Expect.ZEROS, Expect.ONES, Expect.BYTE, Expect.STREAM):
            byte = {Expect.ZEROS: 0, Expect.ONES: 0xFF}.get(kind, req.expect.byte)
            pat = Pattern("stream") if kind == Expect.STREAM else Pattern("constant", byte)
            self.filler = Filler(pat, req.stream_key)

    def ranges(self) -> list[ByteRange]:
        if self.req.mode == "full":
            return [(0, self.req.size)]
        return sample_ranges(self.req.size, self.req.lbs, self.req.percent, self.req.seed)

    def run(self) -> VerifyResult:
        ranges = self.ranges()
        total = sum(ln for _, ln in ranges)
        mismatches: list[ByteRange] = []
        classifier, done = Classifier(), 0
        with self._source(chunked(ranges, self.req.buffer_size)) as chunks:
            for slot, (pos, n) in chunks:
                if self.cancel is not None and self.cancel.is_set():
                    raise CancelledError("cancelled")
                mismatches += self.compare(slot, pos, n, classifier)
                chunks.recycle(slot)
                done += n
                self.advance(done, total)
        return self._result(total, merge_ranges(mismatches), classifier.result())

    def _source(self, items: Iterator[ByteRange]) -> Prefetch[ByteRange] | InPlace[ByteRange]:
        """A random stream is regenerated beside the read (a helper thread overlaps the two);
        anything else is read and compared in this thread (pipeline.py says why)."""
        bufsize = self.req.buffer_size
        if self._stream:
            return Prefetch(self._prepare, items, bufsize, views=2)
        return InPlace(self._prepare, items, bufsize)

    def compare(
        self, slot: list[memoryview], pos: int, n: int, classifier: Classifier
    ) -> list[ByteRange]:
        """The fast path compares in place; only a mismatch (or no expectation) is copied out."""
        got = slot[0]
        if self.filler is not None and self._matches(slot, n):
            classifier.add_matched(self.filler.pattern)
            return []
        want = slot[1][:n].tobytes() if self._stream else None
        return self.check(got[:n].tobytes(), pos, want, classifier)

    def _matches(self, slot: list[memoryview], n: int) -> bool:
        if self._stream:
            return same_bytes(slot[0], slot[1], n)
        return uniform_bytes(slot[0], n, self.filler.pattern.byte)  # type: ignore[union-attr]

    @property
    def _stream(self) -> bool:
        return self.filler is not None and not self.filler.is_constant

    def _prepare(self, slot: list[memoryview], chunk: tuple[int, int]) -> None:
        """In the helper thread: read the chunk and, for a stream, regenerate what it must be."""
        pos, n = chunk
        self._read(slot[0], n, pos)
        if self._stream:
            self.filler.keystream(slot[1], n, pos)  # type: ignore[union-attr]

    def check(
        self, data: bytes, pos: int, want: bytes | None, classifier: Classifier
    ) -> list[ByteRange]:
        """Compare one chunk with the expectation (if any) and classify it; mismatching blocks."""
        if self.filler is None:
            classifier.add(data)
            return []
        if want is None:
            want = constant_bytes(self.filler.pattern.byte, len(data))
        if data == want:
            classifier.add_matched(self.filler.pattern)
            return []
        classifier.add(data)
        return diff_blocks(data, want, pos, self.req.lbs)

    def _read(self, view: memoryview, n: int, pos: int) -> None:
        """Read a chunk; on a media error, find the unreadable blocks one by one and record them.

        Why block by block: a report must say *where* the medium failed, and the rest of the
        chunk still has to be checked. An errno meaning removal is raised at once.
        """
        try:
            self._read_exact(view, n, pos)
        except OSError as e:
            if self.gone(e):
                raise
            self._read_blocks(view, n, pos)

    def _read_blocks(self, view: memoryview, n: int, pos: int) -> None:
        step = max(512, self.req.lbs)
        for i in range(0, n, step):
            ln = min(step, n - i)
            try:
                self._read_exact(view[i:], ln, pos + i)
            except OSError as e:
                if self.gone(e):
                    raise
                self._read_error(pos + i, ln, e)

    def _read_error(self, offset: int, length: int, error: OSError) -> None:
        self.read_errors.append((offset, length))
        if not self.read_error_text:
            code = errno.errorcode.get(error.errno or 0, str(error.errno))
            why = error.strerror or os.strerror(error.errno or errno.EIO)
            self.read_error_text = f"{why} ({code})"

    def _read_exact(self, view: memoryview, n: int, pos: int) -> None:
        got = 0
        while got < n:
            r = self.io.read_into(view[got:n], pos + got)
            if r <= 0:
                raise OSError(5, f"short read at byte {pos + got}")
            got += r

    def _result(self, total: int, mismatches: list[ByteRange], observed: str) -> VerifyResult:
        expect = self.req.expect
        detail = (
            f"{len(mismatches)} mismatching range(s)" if mismatches else "all read-back matched"
        )
        if self.req.mode == "sample":
            detail += f"; sample seed {self.req.seed}, {self.req.percent:g}% + first/last MiB"
        passed = not mismatches
        if expect.kind == Expect.CHANGED:
            passed, why, mismatches = self._check_changed()
            detail = why
        if self.read_errors:
            bad = self.unreadable
            mismatches = merge_ranges([*mismatches, *bad])
            passed, detail = False, f"{self._read_error_detail(bad)}; {detail}"
        return VerifyResult(
            mode=self.req.mode,
            expected=expect.describe(),
            bytes_checked=total,
            bytes_total=self.req.size,
            passed=passed,
            mismatches=tuple(mismatches),
            detail=detail,
            observed_class=observed,
        )

    @property
    def unreadable(self) -> list[ByteRange]:
        """The blocks that could not be read, joined into ranges."""
        return merge_ranges(self.read_errors)

    def _read_error_detail(self, bad: list[ByteRange]) -> str:
        where = ", ".join(f"byte {o} (+{n})" for o, n in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        return f"read error at {where}{more}: {self.read_error_text}"

    def _check_changed(self) -> tuple[bool, str, list[ByteRange]]:
        fp = self.req.fingerprint
        if not fp:
            return False, "no pre-erase fingerprint: a change cannot be proven", []
        now = take_fingerprint(self.io, self.req.size, fp.seed, fp.offsets)
        same: list[ByteRange] = []
        informative = opened = 0
        for off, before, after, uniform in zip(
            fp.offsets, fp.sha256, now.sha256, fp.uniform, strict=True
        ):
            if after == UNREADABLE:  # unreadable now is not "changed": it is a read error
                self._read_error(off, FINGERPRINT_BLOCK, OSError(errno.EIO, "unreadable"))
                continue
            if before == UNREADABLE and after != BEYOND_END:
                opened += 1  # refused before the erase (a locked drive), read now
                continue
            if uniform or after == BEYOND_END:
                continue  # a block that held one byte value carried no data to prove a change on
            informative += 1
            if before == after:
                same.append((off, FINGERPRINT_BLOCK))
        if same:
            return False, f"{len(same)} of {informative} fingerprint blocks unchanged", same
        return True, changed_detail(informative, opened), []


def changed_detail(informative: int, opened: int) -> str:
    """What a passed change check saw — never more: a block unreadable before the erase (a
    locked drive refuses reads) proves no data, only that the drive reads now."""
    were = f"{opened} fingerprint blocks unreadable before the erase (locked?) read now"
    if informative:
        return f"all {informative} data-bearing fingerprint blocks changed" + (
            f"; {were}" if opened else ""
        )
    if opened:
        return f"{were}; none was readable before, so no data was seen to change"
    return "every fingerprint block was uniform before the erase (no data seen)"


def chunked(ranges: list[ByteRange], size: int) -> Iterator[tuple[int, int]]:
    for off, ln in ranges:
        for pos in range(off, off + ln, size):
            yield pos, min(size, off + ln - pos)


def diff_blocks(data: bytes, want: bytes, base: int, lbs: int) -> list[ByteRange]:
    """Logical blocks of ``data`` that differ from ``want``, as byte ranges."""
    out: list[ByteRange] = []
    step = max(lbs, 512)
    for i in range(0, len(data), step):
        if data[i : i + step] != want[i : i + step]:
            out.append((base + i, min(step, len(data) - i)))
    return out
