"""A wipe that stalls half-way so a test can SIGKILL it: ``python -m tests.engine.killable_wipe
DEVICE JOURNAL_DIR MARKER METHOD``. Checkpoints after every buffer so the journal is current."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from wipestation.discovery.inventory import Inventory
from wipestation.steps.blockio import FdBlockIO

from tests.engine.conftest import planned_engine

MiB = 1024 * 1024


class StallIO(FdBlockIO):
    def __init__(self, fd: int, drive, marker: Path) -> None:
        super().__init__(fd, drive)
        self.marker, self.stall_at = marker, drive.size_bytes // 2

    def write_at(self, buf, offset):
        if offset >= self.stall_at:
            self.marker.write_text(str(offset))
            time.sleep(3600)
        return super().write_at(buf, offset)


def main(dev: str, journal_dir: str, marker: str, method: str) -> None:
    inventory = Inventory()
    drive = inventory.get(dev)
    assert drive is not None
    engine = planned_engine(
        journal_dir=journal_dir,
        io_factory=lambda fd, d: StallIO(fd, d, Path(marker)),
        buffer_size=MiB,
        checkpoint_interval=0,
    )
    engine.start(drive, method, "full")
    engine.wait()


if __name__ == "__main__":
    main(*sys.argv[1:5])
