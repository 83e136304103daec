"""``wipestation wipe``: the command-line front end over the same services the screen uses.

Every target is checked (method supported, not protected, same identity) before anything is
written; one refused target refuses the whole command. Without ``--yes`` it asks for a typed
confirmation on a terminal and refuses otherwise. Exit status 0 only if every job passed.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

from wipestation.assembly import build_services
from wipestation.cli import add_exclude_argument
from wipestation.config import StationConfig
from wipestation.discovery.inventory import Inventory
from wipestation.engine.journal import Journal, journal_dir_for
from wipestation.errors import WipestationError
from wipestation.model import VERIFY_MODES, Drive, JobResult, Progress
from wipestation.reports.writer import ReportWriter
from wipestation.services import Services

DEFAULT_REPORT_DIR = "/var/lib/wipestation/reports"
CONFIRM_WORD = "ERASE"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("devices", nargs="*", metavar="DEVICE", help="whole-disk device, e.g. /dev/sdb")
    p.add_argument("--method", help="erase method (see 'wipestation methods')")
    p.add_argument("--verify", choices=VERIFY_MODES, default="sample")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--report-dir", default="", help=f"default {DEFAULT_REPORT_DIR}")
    p.add_argument("--json-progress", action="store_true", help="one JSON object per event")
    p.add_argument("--resume", action="store_true", help="continue interrupted wipes")
    p.add_argument("--journal-dir", default="", help="default: <report dir>/.journal")
    p.add_argument("--sample-percent", type=float, default=10.0, help="share read in sample mode")
    add_exclude_argument(p)


def run(args: argparse.Namespace) -> int:
    report_dir = Path(args.report_dir or DEFAULT_REPORT_DIR)
    journal_dir = journal_dir_for(report_dir, args.journal_dir or None)
    targets = resolve_targets(Inventory(args.exclude), args, Journal(journal_dir))
    cfg = StationConfig(
        report_dir=str(report_dir), verify_percent=args.sample_percent, exclude=args.exclude
    )
    services = build_services(
        cfg, writer=ReportWriter(report_dir), journal=journal_dir, watcher_required=False
    )
    try:
        refused = [f"{d.path}: {e}" for d, m in targets if (e := services.check(d, m, args.verify))]
        if refused:
            for line in refused:
                print(f"wipestation: refusing: {line}", file=sys.stderr)
            print("wipestation: nothing was written", file=sys.stderr)
            return 1
        if not args.yes and not confirm(targets):
            return 2
        return run_jobs(services, targets, args)
    finally:
        services.close()


def resolve_targets(
    inventory: Inventory, args: argparse.Namespace, journal: Journal
) -> list[tuple[Drive, str]]:
    if not args.devices and not args.resume:
        raise WipestationError("name at least one DEVICE (or use --resume)")
    if args.devices:
        drives = [find_drive(inventory, dev) for dev in args.devices]
    else:
        by_identity = {d.identity: d for d in inventory.drives()}
        drives = [by_identity[e.identity] for e in journal.entries() if e.identity in by_identity]
        if not drives:
            raise WipestationError(f"no interrupted wipe in {journal.directory} matches a drive")
    out = []
    for d in drives:
        entry = journal.load(d.identity) if args.resume else None
        method = args.method or (entry.method if entry else "")
        if not method:
            raise WipestationError(f"--method is required for {d.path}")
        out.append((d, method))
    return out


def find_drive(inventory: Inventory, dev: str) -> Drive:
    drive = inventory.get(dev)
    if drive is None:
        raise WipestationError(f"{dev} is not a whole disk this station can wipe")
    return drive


def confirm(targets: list[tuple[Drive, str]]) -> bool:
    if not sys.stdin.isatty():
        print("wipestation: refusing without --yes: confirmation needs a terminal", file=sys.stderr)
        return False
    print("About to ERASE, irreversibly:")
    for d, m in targets:
        print(f"  {d.path}  {d.model or '-'}  serial {d.serial or '-'}  ({m})")
    answer = input(f"Type {CONFIRM_WORD} to continue: ").strip()
    if answer != CONFIRM_WORD:
        print("wipestation: not confirmed; nothing was written", file=sys.stderr)
        return False
    return True


class Printer:
    """Prints events: JSON lines on stdout, or one readable line per state change."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.lock = threading.Lock()
        self.last: dict[str, Progress] = {}

    def event(self, p: Progress) -> None:
        with self.lock:
            self.last[p.job_id] = p
            if self.as_json:
                print(json.dumps(progress_json(p)), flush=True)
            else:
                err = f" ({p.last_error})" if p.last_error else ""
                print(f"{p.drive_path}: {p.state}{err}", flush=True)

    def tick(self, snapshot: dict[str, Progress]) -> None:
        if not self.as_json:
            return
        for p in snapshot.values():
            if self.last.get(p.job_id) != p:
                self.event(p)

    def result(self, r: JobResult) -> None:
        verdict = "PASS" if r.passed else "FAIL"
        with self.lock:
            if self.as_json:
                print(json.dumps(result_json(r)), flush=True)
            else:
                print(f"{r.drive.path}: {verdict} - {r.reason}", flush=True)


def progress_json(p: Progress) -> dict[str, object]:
    return {
        "event": "progress",
        "job_id": p.job_id,
        "device": p.drive_path,
        "identity": p.identity,
        "method": p.method,
        "state": str(p.state),
        "phase": p.phase,
        "pass": p.pass_index,
        "passes": p.pass_count,
        "bytes_done": p.bytes_done,
        "bytes_total": p.bytes_total,
        "rate_bps": round(p.rate_bps),
        "eta_s": None if p.eta_s is None else round(p.eta_s, 1),
        "last_error": p.last_error,
        "time": p.timestamp,
    }


def result_json(r: JobResult) -> dict[str, object]:
    v = r.verification
    return {
        "event": "result",
        "job_id": r.job_id,
        "device": r.drive.path,
        "identity": r.drive.identity,
        "method": r.method,
        "state": str(r.state),
        "result": "PASS" if r.passed else "FAIL",
        "reason": r.reason,
        "verification": None if v is None else {"mode": v.mode, "passed": v.passed},
        "bad_ranges": [list(b) for b in r.bad_ranges],
        "resumed_from": r.resumed_from,
        "notes": list(r.notes),
    }


def run_jobs(services: Services, targets: list[tuple[Drive, str]], args: argparse.Namespace) -> int:
    engine = services.engine
    printer = Printer(args.json_progress)
    engine.subscribe(printer.event)
    try:
        started = 0
        for d, m in targets:
            try:
                services.start(d, m, args.verify, resume=args.resume)
                started += 1
            except WipestationError as e:  # raced with a mount or removal since the check
                print(f"wipestation: not started: {d.path}: {e}", file=sys.stderr)
        if started < len(targets):
            engine.wait()
            report(printer, services)
            return 1
        while not engine.wait(timeout=1.0):
            printer.tick(engine.snapshot())
    except KeyboardInterrupt:
        engine.cancel_all()
        engine.wait(timeout=30)
        report(printer, services)
        return 130
    return report(printer, services)


def report(printer: Printer, services: Services) -> int:
    results = services.engine.results()
    for r in results.values():
        printer.result(r)
    return 0 if results and all(r.passed for r in results.values()) else 1
