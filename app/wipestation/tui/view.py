"""What the screens read, handed to them by the App: they never reach into ``self.app``.

The App builds one ``StationView`` and passes it to each screen it (or another screen) opens.
Values that change while a screen is open are functions, called when the screen draws. Through
it a screen changes nothing but the operator's selection in the table model (``Station``);
anything that should *happen* (start, cancel, plan, print, power off, a new method) it posts
upward as a message (``messages.py``) and the App does it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from wipestation.config import StationConfig
from wipestation.custody.desk import LotDesk
from wipestation.model import JobResult
from wipestation.planning.catalogue import Method
from wipestation.tui.ports import ReportStatus
from wipestation.tui.station import Station


@dataclass(frozen=True)
class StationView:
    station: Station  # the table model: rows, selection, job logs
    config: StationConfig
    methods: tuple[Method, ...]  # what the method picker offers
    ascii_only: bool  # a console terminal: ASCII bars, no box drawing
    method: Callable[[], str]  # the method for the next wipe (the App changes it: MethodChosen)
    looking: Callable[[], bool]  # udev is still reading devices: an empty list is not "none"
    report_status: Callable[[], ReportStatus]  # where proof goes, for the header and details
    results: Callable[[], Mapping[str, JobResult]]  # finished jobs of this session, by job id
    delivery: Callable[[str], str]  # job id → "saved" | "waiting" | "" (reporting.delivery_of)
    lot: LotDesk  # the lot: scans, manifest, asset tags (custody/desk.py)
    #: what the banner says about the signing key ('' unless it was made at this boot)
    key_notice: str = ""
