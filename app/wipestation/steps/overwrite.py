"""One overwrite pass over every LBA, to the device's real end, with O_DIRECT and bad-range retry.

A failed write is retried in halves down to the logical block size so that only the truly bad
blocks are recorded; the pass continues to the end and reports them (the job then FAILS: a
drive with unwritable sectors cannot be certified). An errno that means the device went away
raises ``DeviceGoneError`` at once. Memory per pass is one aligned buffer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from wipestation.errors import DeviceGoneError
from wipestation.model import ByteRange, Drive, StepRecord, now_iso
from wipestation.steps.blockio import BlockIO, aligned_buffer, is_gone, release
from wipestation.steps.patterns import Filler, Pattern
from wipestation.steps.pipeline import Prefetch
from wipestation.steps.plan import CancelledError, OverwriteContext, StepKind


@dataclass(frozen=True)
class OverwriteStep:
    """Write ``pattern`` over the whole device (pass ``index`` of ``count``)."""

    pattern: Pattern
    index: int = 1
    count: int = 1
    kind: StepKind = StepKind.OVERWRITE

    @property
    def name(self) -> str:
        return f"overwrite pass {self.index}/{self.count} ({self.pattern.describe()})"

    def run(self, ctx: OverwriteContext) -> StepRecord:
        started = now_iso()
        io = ctx.open_io()
        try:
            writer = PassWriter(ctx, io, Filler(self.pattern, ctx.stream_key))
            bad = writer.write_from(ctx.start_offset)
            bufsize = writer.bufsize
            io.flush()
        finally:
            io.close()
        return StepRecord(
            name=self.name,
            kind=self.kind,
            command=f"pwrite O_DIRECT bs={bufsize} pattern={self.pattern.describe()}",
            started_at=started,
            ended_at=now_iso(),
            ok=not bad,
            bytes_written=ctx.drive.size_bytes - ctx.start_offset,
            bad_ranges=tuple(bad),
            error=f"{len(bad)} unwritable range(s)" if bad else "",
        )


class PassWriter:
    """The write loop of one pass; kept apart from the step so tests can drive it directly."""

    def __init__(self, ctx: OverwriteContext, io: BlockIO, filler: Filler) -> None:
        self.ctx, self.io, self.filler = ctx, io, filler
        self.drive: Drive = ctx.drive
        self.lbs = max(512, self.drive.logical_block_size)
        self.bad: list[ByteRange] = []
        #: read once: the context sizes each pass by how many jobs run as it starts
        self.bufsize: int = ctx.buffer_size

    def write_from(self, start: int) -> list[ByteRange]:
        offset = start - start % self.lbs
        if self.filler.is_constant:
            self.write_constant(offset)
        else:
            self.write_stream(offset)
        return merge_ranges(self.bad)

    def chunks(self, offset: int) -> Iterator[tuple[int, int]]:
        size, bufsize = self.drive.size_bytes, self.bufsize
        while offset < size:
            n = min(bufsize, size - offset)
            yield offset, n
            offset += n

    def write_constant(self, start: int) -> None:
        mem = aligned_buffer(self.bufsize)
        try:
            view = memoryview(mem)
            for offset, n in self.chunks(start):
                self.filler.fill(view, n, offset)
                self.write_chunk(view[:n], offset)
        finally:
            release(mem)

    def write_stream(self, start: int) -> None:
        """The cipher fills the next buffer in another thread while this one is written
        (``update_into`` releases the GIL), so the stream costs no wall time on a fast sink."""

        def prepare(slot: list[memoryview], chunk: tuple[int, int]) -> None:
            self.filler.fill(slot[0], chunk[1], chunk[0])

        with Prefetch(prepare, self.chunks(start), self.bufsize) as src:
            for slot, (offset, n) in src:
                self.write_chunk(slot[0][:n], offset)
                src.recycle(slot)

    def write_chunk(self, buf: memoryview, offset: int) -> None:
        if self.ctx.cancel.is_set():
            raise CancelledError("cancelled")
        self.write_region(buf, offset)
        end = offset + len(buf)
        self.ctx.advance(end, self.drive.size_bytes)
        if self.ctx.checkpoint_due():
            self.io.flush()  # the checkpoint must never claim bytes still in a cache
            self.ctx.checkpoint(end)

    def write_region(self, buf: memoryview, offset: int) -> None:
        try:
            self.write_all(buf, offset)
        except OSError as e:
            self.on_error(e, buf, offset)

    def write_all(self, buf: memoryview, offset: int) -> None:
        done = 0
        while done < len(buf):
            n = self.io.write_at(buf[done:], offset + done)
            if n <= 0:  # a short write of nothing at a valid offset: capacity vanished
                raise OSError(28, "No space left on device (short write)")
            done += n

    def on_error(self, err: OSError, buf: memoryview, offset: int) -> None:
        if is_gone(err, self.drive):
            raise DeviceGoneError(
                f"{self.drive.path} disappeared during the write ({err})"
            ) from err
        self.ctx.error(f"write error at byte {offset} ({err.strerror or err}); retrying")
        if len(buf) <= self.lbs:
            self.bad.append((offset, len(buf)))
            return
        half = max(self.lbs, (len(buf) // 2) // self.lbs * self.lbs)
        self.write_region(buf[:half], offset)
        self.write_region(buf[half:], offset + half)


def merge_ranges(ranges: list[ByteRange]) -> list[ByteRange]:
    """Sort and join touching (offset, length) ranges."""
    out: list[ByteRange] = []
    for off, ln in sorted(ranges):
        if out and out[-1][0] + out[-1][1] >= off:
            prev_off, prev_len = out[-1]
            out[-1] = (prev_off, max(prev_len, off + ln - prev_off))
        else:
            out.append((off, ln))
    return out
