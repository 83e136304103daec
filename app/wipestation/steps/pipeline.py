"""Double buffering: a helper thread prepares the next chunk while the caller uses this one.

Why: the preparing work (AES-CTR keystream, an O_DIRECT read) releases the GIL, so it overlaps
with the caller's write or compare. Measured on a tmpfs-backed loop (where the device costs
nearly nothing) this is what brings the random pass and verification close to dd. Memory is
``slots`` x ``views`` aligned buffers per job, nothing more.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

from wipestation.steps.blockio import aligned_buffer, release

T = TypeVar("T")
Slot = list[memoryview]


class Prefetch(Generic[T]):
    """``for views, item in Prefetch(prepare, items, bufsize): ...; pf.recycle(views)``."""

    def __init__(
        self,
        prepare: Callable[[Slot, T], None],
        items: Iterable[T],
        bufsize: int,
        views: int = 1,
        slots: int = 2,
    ) -> None:
        self.prepare, self.items = prepare, items
        self.mems = [aligned_buffer(bufsize) for _ in range(slots * views)]
        self.free: queue.Queue[Slot | None] = queue.Queue()
        self.ready: queue.Queue[tuple[Slot, T] | BaseException | None] = queue.Queue()
        for i in range(slots):
            self.free.put([memoryview(m) for m in self.mems[i * views : (i + 1) * views]])
        self.thread = threading.Thread(target=self._produce, name="prefetch", daemon=True)

    def __enter__(self) -> Prefetch[T]:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.free.put(None)  # wakes the helper if the caller stopped early
        self.thread.join()
        for m in self.mems:
            release(m)

    def __iter__(self) -> Iterator[tuple[Slot, T]]:
        while (got := self.ready.get()) is not None:
            if isinstance(got, BaseException):
                raise got
            yield got

    def recycle(self, slot: Slot) -> None:
        self.free.put(slot)

    def _produce(self) -> None:
        try:
            for item in self.items:
                slot = self.free.get()
                if slot is None:
                    return
                self.prepare(slot, item)
                self.ready.put((slot, item))
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            self.ready.put(e)
        self.ready.put(None)
