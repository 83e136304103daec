"""Unattended ("conveyor") mode without a screen: wipe every wipeable drive, now and later.

The decisions are the ``Autopilot``'s (``unattended.py``, shared with the screen); this module
is only its plain-terminal face. It prints one machine-readable line per state change
(``START``/``JOB``/``RESULT``/``DONE``; ``CONTROLLER`` for a RAID controller that hides
disks; ``KEY ephemeral`` at start when its signing key was made at this boot), and a
``PROGRESS`` line for every running job at least every ``PROGRESS_EVERY_S`` (a 20-minute
verification must not look like a hang), so a serial console, a log file and the VM tests can
follow it.

A station configured with a lot (``wipestation.lot=``, customer, ``.manifest=``) works it with
the lot desk the screen uses (``custody/desk.py``; no scans here, so asset tags are optional): at
start it reads the lot's records that earlier boots left on the report target (``PRIOR`` line,
``custody/resume.py``), and before it powers off it closes the lot (``custody/close.py``) with
one ``LOT`` line (``LotClosed.line``), or ``LOT <id> NOT-WRITTEN <reason>``.

In computer mode (``wipestation.mode=computer``) it wipes only this computer's internal drives
(``computermode.py``), says ``POWER`` at start when the laptop runs on a low battery, and once
every record is saved writes the computer certificate (``COMPUTER <serial> COMPLETE|INCOMPLETE
...``, ``custody/computer_close.py``); it powers off only once that is written, waiting for a
report stick as long as it takes (``COMPUTER NOT-WRITTEN <reason>`` says why).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from wipestation import computermode, power
from wipestation.custody.close import close_lot, identity_of, token
from wipestation.custody.computer_close import certify
from wipestation.custody.desk import LotDesk, open_desk
from wipestation.custody.resume import prior_from
from wipestation.discovery import controllers
from wipestation.discovery.identity import console_word
from wipestation.discovery.monitor import DriveEvent
from wipestation.errors import ToolError, WipestationError
from wipestation.model import Drive, JobResult, Progress
from wipestation.reports.keystore import EPHEMERAL_NOTICE
from wipestation.services import Services
from wipestation.tools import systemctl
from wipestation.unattended import Autopilot
from wipestation.units import human_size

PROGRESS_EVERY_S = 30.0


class LineSink(Protocol):
    """A terminal, or a terminal that also appends to the station log (``station.Tee``)."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


def format_progress(p: Progress) -> str:
    line = f"JOB {console_word(p.identity)} {p.drive_path} {p.state} {p.method}"
    if p.phase:
        line += f" phase={p.phase.replace(' ', '_')}"
    if p.last_error:
        line += f" error={p.last_error!r}"
    return line


def format_running(p: Progress) -> str:
    """``PROGRESS`` line: where a running job is, how fast, how long to go."""
    eta = f"{p.eta_s:.0f}s" if p.eta_s is not None else "?"
    done = f"{100 * p.fraction:.1f}%" if p.bytes_total else "-"
    return (
        f"PROGRESS {console_word(p.identity)} {p.drive_path} {p.state}"
        f" phase={p.phase.replace(' ', '_') or '-'}"
        f" pass={p.pass_index}/{p.pass_count} done={done}"
        f" rate={human_size(int(p.rate_bps))}/s eta={eta}"
    )


def format_result(r: JobResult) -> str:
    verdict = "PASS" if r.passed else "FAIL"
    who = console_word(r.drive.identity)
    return f"RESULT {who} {r.drive.path} {verdict} {r.state} {r.method} {r.reason}"


class Conveyor:
    """The autopilot's lines on a terminal: every decision, state change and result."""

    def __init__(
        self, services: Services, out: LineSink, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.services, self.out, self.clock = services, out, clock
        self._lock = threading.Lock()
        self._reported: set[str] = set()
        self._last_progress = clock()
        self.autopilot = Autopilot(services, self.say)
        #: the drives changed since the controllers were last looked at (``report_controllers``)
        self._recount = True
        self._controllers_said: set[str] = set()
        self.sys_root = "/sys"  # where the controllers are read (a test's sysfs tree)
        #: the configured lot (``open_lot``); its manifest gives drives their asset tags
        self.lot: ConveyorLot | None = None
        services.engine.subscribe(self._on_progress)

    def say(self, line: str) -> None:
        with self._lock:
            self.out.write(line + "\n")
            self.out.flush()

    def offer(self, drive: Drive) -> None:
        """The autopilot decides; the lot's manifest first names the drive's asset tag."""
        if self.lot is not None and not drive.protected:
            self.lot.desk.adopt_tag(drive)
        self.autopilot.offer(drive)

    def on_drive_event(self, ev: DriveEvent) -> None:
        if ev.action != "removed" and ev.drive and not ev.drive.protected and self.lot:
            self.lot.desk.adopt_tag(ev.drive)
        self.autopilot.on_drive_event(ev)
        self._recount = True
        if ev.action == "removed":
            who = console_word(ev.drive.identity) if ev.drive else ev.name
            self.say(f"REMOVED {who} /dev/{ev.name}")

    def report_controllers(self) -> None:
        """A ``CONTROLLER`` line per RAID controller that hides disks, once udev is done and
        again when the drives changed and its line with them (a MegaRAID's driver binds late
        in a boot: until then its volumes are not there)."""
        if not self._recount or self.services.udev_busy():
            return
        self._recount = False
        drives = self.services.inventory.drives()
        for line in controllers.hidden_disks(drives, self.sys_root):
            if line not in self._controllers_said:
                self._controllers_said.add(line)
                self.say(f"CONTROLLER {line}")

    def _on_progress(self, p: Progress) -> None:
        self.say(format_progress(p))
        if p.state.finished:
            self._report_finished()

    def _report_finished(self) -> None:
        for job_id, result in self.services.engine.results().items():
            with self._lock:
                if job_id in self._reported:
                    continue
                self._reported.add(job_id)
            self.say(format_result(result))

    def report_running(self) -> None:
        """A ``PROGRESS`` line per running job, at most every ``PROGRESS_EVERY_S``."""
        if self.clock() - self._last_progress < PROGRESS_EVERY_S:
            return
        self._last_progress = self.clock()
        for p in self.services.engine.snapshot().values():
            if not p.state.finished:
                self.say(format_running(p))

    def idle(self) -> bool:
        """The autopilot is idle and every result has been printed."""
        results = self.services.engine.results()
        return self.autopilot.idle() and self._reported >= set(results)

    def wait_idle(self, settle_s: float = 3.0, poll_s: float = 0.5) -> None:
        """Block until idle for ``settle_s`` (late hotplug arrivals restart the wait)."""
        quiet_since: float | None = None
        while True:
            for drive in self.autopilot.due():  # a start that failed by a fault, tried again
                self.offer(drive)
            self._report_finished()
            self.report_running()
            self.report_controllers()
            if self.idle():
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= settle_s:
                    return
            else:
                quiet_since = None
            time.sleep(poll_s)


def run_headless(
    services: Services, out: LineSink, *, power_off: Callable[[], None] | None = None
) -> int:
    """Unattended mode on a plain terminal; with ``poweroff``, power off when all is saved.

    Never powers off while a finished record is still waiting for a report target: the
    operator is told to plug one in, and the station waits. With a lot configured, the lot is
    closed once every record is saved, just before ``DONE`` (a lot that cannot be written does
    not hold the power-off: its drive records are safe, and the office can reconcile them).
    With ``poweroff`` off the conveyor never ends, so it never closes its lot: the lot is then
    closed at the office (``wipestation lot reconcile``) or by a later boot with power-off.
    """
    cfg = services.config
    conv = Conveyor(services, out)
    if services.watcher is not None:
        services.watcher.subscribe(conv.on_drive_event)
    off = int(computermode.powers_off(cfg))  # computer mode: off once the certificate is written
    conv.say(f"CONVEYOR method={cfg.method} verify={cfg.verify} poweroff={off}")
    say_key(conv)
    if computermode.on(cfg):
        say_power(conv)
    lot = conv.lot = open_lot(conv)
    for drive in services.inventory.drives():
        conv.offer(drive)
    while True:
        conv.wait_idle()
        passed, failed = conv.autopilot.summary()
        say_store(conv)
        if not computermode.powers_off(cfg):
            conv.say(f"IDLE passed={passed} failed={failed}; plug in the next drives")
            _wait_for_work(conv)
            continue
        _wait_for_reports(conv)
        if lot is not None:
            close_lot_line(conv, lot)
        if computermode.on(cfg):
            certify_computer(conv)
        delivered = services.reports.status.delivered if services.reports else 0
        conv.say(f"DONE passed={passed} failed={failed} reports={delivered}")
        services.close()
        try:
            (power_off or systemctl.poweroff)()
        except ToolError as e:
            conv.say(f"POWEROFF failed: {e}")
        return 0 if failed == 0 else 1


@dataclass
class ConveyorLot:
    """The configured lot as the conveyor works it."""

    desk: LotDesk
    problem: str = ""  # why its manifest was not loaded: then the lot is not closed here
    prior_read: bool = False  # the earlier records were read (else: again at closing)


def read_prior(conv: Conveyor, lot: ConveyorLot) -> None:
    """The lot's records from earlier boots, verified against the station's key: a ``PRIOR``
    line says how many count and how many were not this station's."""
    lot_id, writer = conv.services.config.lot, conv.services.reports
    if writer is None:
        return
    try:
        prior = prior_from(writer, lot_id)
    except (OSError, WipestationError) as e:
        conv.say(f"PRIOR lot={token(lot_id)} unread: {e}")
        return
    lot.desk.prior, lot.prior_read = list(prior.records), True
    conv.say(
        f"PRIOR lot={token(lot_id)} records={len(prior.records)} rejected={len(prior.rejected)}"
    )


def open_lot(conv: Conveyor) -> ConveyorLot | None:
    """The configured lot's desk (manifest from the configuration, earlier records), or None."""
    cfg = conv.services.config
    if not cfg.lot:
        return None
    desk, problem = open_desk(cfg.manifest, conv.services.reports)
    lot = ConveyorLot(desk, problem)
    if problem:
        conv.say(f"MANIFEST lot={token(cfg.lot)} {problem}")
    read_prior(conv, lot)
    return lot


def close_lot_line(conv: Conveyor, lot: ConveyorLot) -> None:
    """Close the lot and print its ``LOT`` line; ``NOT-WRITTEN`` with the reason when it cannot."""
    cfg, writer = conv.services.config, conv.services.reports
    head = f"LOT {token(cfg.lot)} NOT-WRITTEN"
    if writer is None:
        conv.say(f"{head} no report writer")
        return
    if lot.problem:  # a certificate without its manifest would list no missing drive
        conv.say(f"{head} {lot.problem}")
        return
    if not lot.prior_read:  # no report target at start: maybe there is one now
        read_prior(conv, lot)
    try:
        closed = close_lot(writer, lot.desk, identity_of(cfg))
    except (OSError, WipestationError) as e:
        conv.say(f"{head} {e}")
        return
    conv.say(closed.line())


def say_power(conv: Conveyor) -> None:
    """Once at start in computer mode: ``POWER <source> ...``, with the warning of a laptop on
    a low battery (``power.py``) before any overwrite begins."""
    state = power.read_power()
    warning = power.low_battery_warning(state)
    conv.say(f"POWER {state.source} {warning or state.summary()}")


def certify_computer(conv: Conveyor, poll_s: float = 2.0) -> None:
    """The computer certificate over every internal drive, retried until it is written (a
    report stick plugged in late): the computer is not done before it is on the stick."""
    services, told = conv.services, ""
    writer = services.reports
    if writer is None:
        conv.say("COMPUTER NOT-WRITTEN no report writer")
        return
    seen = [*services.inventory.drives(), *(r.drive for r in conv.autopilot.results())]
    drives = computermode.certified(seen)
    while True:
        try:
            conv.say(certify(writer, drives, power.read_power().to_json()).line())
            return
        except (OSError, WipestationError) as e:
            if str(e) != told:
                told = str(e)
                conv.say(f"COMPUTER NOT-WRITTEN {e}")
        time.sleep(poll_s)
        writer.kick()


def say_key(conv: Conveyor) -> None:
    """Once at start: a station whose records will be signed with a key made at this boot says
    so (``KEY ephemeral ...``): the office must know before it reconciles them."""
    writer = conv.services.reports
    if writer is not None and writer.station_key().protection == "ephemeral":
        conv.say(f"KEY ephemeral {EPHEMERAL_NOTICE}")


def say_store(conv: Conveyor) -> None:
    """The records not yet in the floor's object store, and why (nothing when none waits)."""
    writer = conv.services.reports
    store = writer.status.store if writer is not None else None
    if store is not None and store.pending:
        conv.say(f"STORE {store.message}")


def _wait_for_work(conv: Conveyor, poll_s: float = 1.0) -> None:
    while conv.idle():
        time.sleep(poll_s)


def _wait_for_reports(conv: Conveyor, poll_s: float = 2.0) -> None:
    """Until every finished record is on a report target (a stick may be plugged in later)."""
    writer = conv.services.reports
    told = ""
    while writer is not None:
        writer.wait_idle(timeout=30)
        why = conv.autopilot.waiting_for_reports()
        if not why:
            return
        if why != told:
            told = why
            conv.say(f"WAITING {why}")
        time.sleep(poll_s)
        writer.kick()
