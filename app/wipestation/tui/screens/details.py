"""One drive in full: identity, health, the plan with its fallbacks, the live log, the report.

Probing and planning may run tools, so the screen asks the App for the plan (``PlanRequested``)
and the App works it out in a worker thread and posts the answer back (``PlanWorkedOut``). The
live part (state, log, proof) is re-read from the ``StationView`` once a second while the screen
is open.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from wipestation.discovery.controllers import raid_member_notice
from wipestation.model import Drive, JobResult
from wipestation.steps.plan import Plan
from wipestation.tui.format import size_cell
from wipestation.tui.health import health_lines
from wipestation.tui.messages import LabelReprintRequested, PlanRequested, PlanWorkedOut
from wipestation.tui.station import Row
from wipestation.tui.view import StationView


def identity_lines(d: Drive) -> list[str]:
    lines = [
        f"device     {d.path}   bus {d.transport}   "
        f"{size_cell(d.size_bytes)} ({d.size_bytes} bytes)",
        "model      " + " ".join(x for x in (d.vendor, d.model) if x),
        f"serial     {d.serial or '(none)'}   WWN {d.wwn or '(none)'}   "
        f"firmware {d.firmware or '-'}",
        f"identity   {d.identity}  (from {d.identity_source})",
        f"sectors    logical {d.logical_block_size}  physical {d.physical_block_size}  "
        f"{'rotational' if d.rotational else 'non-rotational'}",
    ]
    why = f": {d.attachment_why}" if d.attachment_why else ""
    lines.append(f"attached   {d.attachment}{why}")
    if d.protected:
        lines.append("PROTECTED  " + "; ".join(d.protected_reasons))
    if d.serial_placeholder:
        lines.append(f"SERIAL     {d.serial!r} is a placeholder, not the identity")
    if d.serial_disagreement:
        lines.append(f"SERIAL     {d.serial_disagreement}")
    if d.usb_id:
        lines.append(f"USB bridge {d.usb_id}")
    if raid_member_notice(d):
        lines.append(f"RAID SET   {raid_member_notice(d)}")
    return lines


#: the probe's note of a drive's TCG Level 0 Discovery (planning/probe.py, tools/opal.py)
TCG_NOTE = "probe: TCG "


def plan_lines(first: Plan) -> list[str]:
    """A plan and its fallback chain, one line per step; the medium its level was chosen for
    (the same word ``wipestation probe`` and the record show)."""
    lines = [f"medium     {first.facts.medium}"] if first.facts else []
    notes = first.facts.notes if first.facts else ()
    lines += [f"SERIAL     {n}" for n in notes if n.startswith("serial:")]
    lines += [f"security   {n.removeprefix('probe: ')}" for n in notes if n.startswith(TCG_NOTE)]
    plan: Plan | None = first
    depth = 0
    while plan is not None:
        head = "plan" if depth == 0 else f"fallback {depth}"
        lines.append(f"{head}: {plan.method} ({plan.level}, verify {plan.verify})")
        lines += [f"    {s.name}" for s in plan.steps]
        lines += [f"    why: {r}" for r in plan.reasons]
        plan, depth = plan.fallback, depth + 1
    return lines


def live_lines(row: Row, log: list[str]) -> list[str]:
    p = row.progress
    if p is None:
        status = row.refused or ("protected" if row.drive.protected else "not started")
        return [f"state      {row.state}: {status}"]
    lines = [f"state      {row.state}  {p.method}  {p.phase}".rstrip()]
    if p.pass_count:
        lines.append(f"pass       {p.pass_index}/{p.pass_count}")
    if p.bytes_total:
        lines.append(f"progress   {p.fraction:.1%} of {size_cell(p.bytes_total)}")
    if p.last_error:
        lines.append(f"message    {p.last_error}")
    return [*lines, "", "log:", *log[-30:]]


def result_lines(result: JobResult | None, report_where: str, delivery: str = "") -> list[str]:
    """The verdict and where its proof is; ``delivery`` is reporting.delivery_of()."""
    report_where = report_where or "no report target on this station"
    if result is None:
        return [f"reports go to {report_where}"]
    verdict = "PASS" if result.passed else result.state.value.upper()
    lines = [f"result     {verdict}: {result.reason}", f"level      {result.level}"]
    lines += [f"fallback   {f}" for f in result.fallbacks]
    paths = [n.removeprefix("report: ") for n in result.notes if n.startswith("report: ")]
    if paths:
        lines += [f"report     {p}" for p in paths]
    elif delivery == "saved":
        lines.append(f"report     saved to {report_where} (reports/<date>/<serial>.json, .pdf)")
    else:
        lines.append(f"report     waiting for {report_where}")
    lines += [f"note       {n}" for n in result.notes if not n.startswith("report: ")]
    return lines


class DetailsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,d", "close", "Back"),
        Binding("l", "label", "Label"),
    ]

    def __init__(self, name: str, view: StationView) -> None:
        super().__init__()
        self.drive_name = name
        self.view = view
        self._plan: list[str] = ["working out the plan..."]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("", id="details-body")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.refresh_live()
        self.set_interval(1.0, self.refresh_live)
        self.post_message(PlanRequested(self.drive_name, reply_to=self))

    def on_plan_worked_out(self, message: PlanWorkedOut) -> None:
        if message.name == self.drive_name:
            self._plan = message.lines
            self.refresh_live()

    def refresh_live(self) -> None:
        view = self.view
        row = view.station.row_of(self.drive_name)
        if row is None:
            self.query_one("#details-body", Static).update("This drive is no longer listed.")
            return
        result = view.results().get(row.job_id) if row.job_id else None
        proof = result_lines(result, view.report_status().where, view.delivery(row.job_id))
        sections = [
            ("Drive", identity_lines(row.drive)),
            ("Health", health_lines(row.drive, row.caps)),
            ("Plan", self._plan),
            ("Job", live_lines(row, view.station.logs.get(row.job_id, []))),
            ("Proof", proof),
        ]
        text = "\n".join(
            f"[b]{t}[/b]\n" + "\n".join(_esc(x) for x in body) + "\n" for t, body in sections
        )
        self.query_one("#details-body", Static).update(text)

    def action_label(self) -> None:
        self.post_message(LabelReprintRequested(self.drive_name))

    def action_close(self) -> None:
        self.dismiss(None)


def _esc(line: str) -> str:
    return line.replace("[", r"\[")
