"""Messages: rare state changes from threads, and the screens' requests to the App.

Rare state changes (style.md: the first of the two progress channels) are posted from other
threads with ``post_message``, which is thread-safe and never blocks the sender. Hot counters
(bytes done, rate, ETA) are never sent as messages: the App reads them from
``engine.snapshot()`` on a timer.

Screens never call the App: what the operator asked for they post as a ``...Requested`` (or
``MethodChosen``) message, which bubbles from the screen to the App's ``on_...`` handler. What
they show they read from the ``StationView`` they were given (``view.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from textual.message_pump import MessagePump

from wipestation.custody.manifest import Manifest
from wipestation.model import Drive, Progress
from wipestation.planning.capabilities import Capabilities
from wipestation.tui.lot_sources import LotOpening, LotSources, ManifestChoice


@dataclass
class DriveAdded(Message):
    drive: Drive


@dataclass
class DriveRemoved(Message):
    name: str


@dataclass
class DriveChanged(Message):
    drive: Drive


@dataclass
class JobChanged(Message):
    """A job changed state or reported an error (engine subscriber)."""

    progress: Progress


@dataclass
class HealthProbed(Message):
    """The probe answered for one drive (``caps`` None when it failed: see ``error``)."""

    name: str
    caps: Capabilities | None
    error: str


@dataclass
class JobStarted(Message):
    """The start worker handed a drive to the engine."""

    name: str
    job_id: str
    method: str


@dataclass
class StartRefused(Message):
    """The engine refused a drive before writing anything (unsupported, protected, gone)."""

    name: str
    path: str
    error: str


@dataclass
class JobLogged(Message):
    """One line the engine logged for a job (a step, a command, a retry)."""

    job_id: str
    text: str


# ---- requests from the screens (they bubble up to the App) ------------------------------------
@dataclass
class WipeRequested(Message):
    """The operator confirmed ``WIPE <count>``: start these drives with ``method``."""

    names: tuple[str, ...]
    method: str


@dataclass
class CancelRequested(Message):
    """The operator confirmed stopping the wipes on these drives."""

    names: tuple[str, ...]


@dataclass
class MethodChosen(Message):
    """The method picker's answer: the method for the next wipe."""

    method: str


@dataclass
class LabelReprintRequested(Message):
    """Print the label of this drive's finished wipe again (``name`` is '' when no drive is
    highlighted: the App then says there is no label to print)."""

    name: str


@dataclass
class PowerOffRequested(Message):
    """The operator confirmed powering the station off (running wipes are cancelled)."""


@dataclass
class PlanRequested(Message):
    """A details screen wants the plan for a drive; the App works it out in a worker thread
    (planning may probe the drive) and posts a ``PlanWorkedOut`` to ``reply_to``."""

    name: str
    reply_to: MessagePump


@dataclass
class PlanWorkedOut(Message, bubble=False):
    """The answer to ``PlanRequested``: the plan and its fallbacks, one line each."""

    name: str
    lines: list[str]


@dataclass
class CodeScanned(Message):
    """A barcode (or the same characters typed) ended by Enter on the drives screen; ``name``
    is the highlighted drive ('' when none). The App gives it its meaning (``custody.desk``)."""

    code: str
    name: str


@dataclass
class LotCloseRequested(Message):
    """The operator confirmed closing the lot: the App writes the lot record and its PDF."""


@dataclass
class OperatorSignedIn(Message):
    """An operator signed in (typed name or scanned badge): the records from now on name them."""

    name: str


@dataclass
class DestroyRecorded(Message):
    """The operator says this drive was physically destroyed, and how: the App records it."""

    name: str
    method: str


@dataclass
class LotSourcesRequested(Message):
    """The lot dialog wants the manifest files and the open lots; the App looks in a worker
    thread (the report stick is mounted to read it) and posts ``LotSourcesFound`` to
    ``reply_to``."""

    reply_to: MessagePump


@dataclass
class LotSourcesFound(Message, bubble=False):
    """The answer to ``LotSourcesRequested``."""

    sources: LotSources


@dataclass
class ManifestLoadRequested(Message):
    """The lot dialog wants this manifest read and checked (a worker thread) before it opens
    the lot with it; the answer, ``ManifestLoaded``, goes to ``reply_to``."""

    choice: ManifestChoice
    reply_to: MessagePump


@dataclass
class ManifestLoaded(Message, bubble=False):
    """The parsed manifest, or ``error`` (file, line and column) and no manifest."""

    choice: ManifestChoice
    manifest: Manifest | None
    error: str


@dataclass
class LotOpened(Message):
    """The operator opened (or resumed) a lot from the lot screen: the App applies it."""

    opening: LotOpening
