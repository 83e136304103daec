"""``wipestation wipe``: the command-line front end over the same services the screen uses.

Every target is checked (method supported, not protected, same identity) before anything is
written; one refused target refuses the whole command. Without ``--yes`` it asks for a typed
confirmation on a terminal and refuses otherwise. Exit status 0 only if every job passed.

A drive named twice (directly, or through an alias: a ``/dev/disk/by-id`` link, a by-path link,
``/dev/loopN`` and its realpath) is refused before anything is written. ``--config FILE`` reads
the station config the image reads; ``--lot``, ``--operator``, ``--customer``, ``--location``
and ``--asset-tag DEVICE=TAG`` put the chain of custody on every record, and override the file.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import threading
from dataclasses import replace
from pathlib import Path

from wipestation import config
from wipestation.assembly import build_services
from wipestation.cli import add_exclude_argument
from wipestation.config import StationConfig
from wipestation.discovery.inventory import Inventory
from wipestation.engine.journal import Journal, journal_dir_for
from wipestation.errors import UnsupportedError, WipestationError
from wipestation.model import VERIFY_MODES, Drive, JobResult, Progress
from wipestation.planning import catalogue
from wipestation.planning.planner import Planner
from wipestation.reports.keystore import DEFAULT_KEY_DIR, KeyHome
from wipestation.reports.record import StationInfo
from wipestation.reports.writer import ReportWriter
from wipestation.services import Services
from wipestation.steps.secret import Secret, make_secret
from wipestation.tools import tpm2

DEFAULT_REPORT_DIR = "/var/lib/wipestation/reports"
#: the secrets that open a locked drive (planning/locks.py): flag → what it is, and its kind
SECRET_FLAGS = {
    "password": "the ATA user password",
    "master-password": "the ATA master password",
    "psid": "the TCG PSID from the drive's label",
}
SECRET_KINDS = {"password": "user", "master-password": "master", "psid": "psid"}
CONFIRM_WORD = "ERASE"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("devices", nargs="*", metavar="DEVICE", help="whole-disk device, e.g. /dev/sdb")
    p.add_argument("--method", help="erase method (see 'wipestation methods')")
    p.add_argument("--verify", choices=VERIFY_MODES, help="default sample (or the config's)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--report-dir", default="", help=f"default {DEFAULT_REPORT_DIR}")
    p.add_argument(
        "--key-dir",
        default="",
        help=f"station key and record counter (never the report dir); default {DEFAULT_KEY_DIR}",
    )
    p.add_argument("--json-progress", action="store_true", help="one JSON object per event")
    p.add_argument("--resume", action="store_true", help="continue interrupted wipes")
    p.add_argument("--journal-dir", default="", help="default: <report dir>/.journal")
    p.add_argument("--sample-percent", type=float, help="share read in sample mode (default 10)")
    add_exclude_argument(p)
    p.add_argument("--config", metavar="FILE", help="station config (wipestation.toml) to read")
    p.add_argument("--lot", default="", metavar="ID", help="the customer's lot on every record")
    p.add_argument("--operator", default="", metavar="NAME", help="technician on every record")
    p.add_argument("--customer", default="", metavar="NAME", help="customer on every record")
    p.add_argument("--location", default="", metavar="TEXT", help="where the station stands")
    for flag, what in SECRET_FLAGS.items():
        p.add_argument(
            f"--{flag}",
            default="",
            metavar="SECRET",
            help=f"{what} of a locked DEVICE (one DEVICE only; '-' reads it from the terminal)",
        )
    p.add_argument(
        "--asset-tag",
        action="append",
        default=[],
        metavar="DEVICE=TAG",
        help="asset tag of one of the DEVICEs, as named on the command line (repeatable)",
    )


def station_key(key_dir: str) -> KeyHome:
    """The key directory (the machine's TPM when it has one); never the report directory."""
    return KeyHome.directory(key_dir or DEFAULT_KEY_DIR, tpm2.station_tcti())


def station_config(args: argparse.Namespace) -> StationConfig:
    """The ``--config`` file as the station reads it (problems are shown, defaults kept), with
    the command line's values over it."""
    cfg = StationConfig()
    if args.config:
        if not Path(args.config).is_file():
            raise WipestationError(f"--config {args.config}: no such file")
        cfg = config.load(toml_paths=(args.config,), known_method=catalogue.known)
        for problem in cfg.errors:
            print(f"wipestation: config: {problem}", file=sys.stderr)
        args.method = args.method or cfg.method
    args.verify = args.verify or cfg.verify
    args.sample_percent = args.sample_percent or cfg.verify_percent
    report_dir = args.report_dir or cfg.report_dir or DEFAULT_REPORT_DIR
    return replace(
        cfg,
        report_dir=report_dir,
        verify_percent=args.sample_percent,
        exclude=(*cfg.exclude, *args.exclude),
        operator=args.operator or cfg.operator,
        customer=args.customer or cfg.customer,
    )


def station_info(cfg: StationConfig, args: argparse.Namespace) -> StationInfo:
    """Who signs for these wipes: the station, operator, customer, location and lot."""
    # location and lot are read from the config when it has them (the unattended station's)
    location = args.location or str(getattr(cfg, "location", "") or "")
    lot_id = args.lot or str(getattr(cfg, "lot_id", "") or getattr(cfg, "lot", "") or "")
    return StationInfo(
        station_id=cfg.station,
        operator=cfg.operator,
        customer=cfg.customer,
        location=location,
        lot_id=lot_id,
    )


class TaggingWriter(ReportWriter):
    """The report writer that puts each target's asset tag (``--asset-tag``) on its record."""

    def __init__(self, *args: object, asset_tags: dict[str, str], **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.asset_tags = asset_tags  # drive identity → tag

    def write(self, result: JobResult, *, asset_tag: str = "") -> list[Path]:
        tag = asset_tag or self.asset_tags.get(result.drive.identity, "")
        return super().write(result, asset_tag=tag)


def run(args: argparse.Namespace) -> int:
    cfg = station_config(args)
    report_dir = Path(cfg.report_dir)
    journal_dir = journal_dir_for(report_dir, args.journal_dir or None)
    inventory = Inventory(cfg.exclude)
    targets = resolve_targets(inventory, args, Journal(journal_dir))
    tags = asset_tags(inventory, args.asset_tag, [d for d, _ in targets])
    writer = TaggingWriter(
        report_dir,
        station=station_info(cfg, args),
        key_home=station_key(args.key_dir),
        printer=cfg.printer or None,
        paper=cfg.paper,
        asset_tags=tags,
    )
    secret = secret_of(args)
    services = build_services(cfg, writer=writer, journal=journal_dir, watcher_required=False)
    try:
        give_secret(services, targets, secret)
        overlap_start(services, writer, [d for d, _ in targets])
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


def secret_of(args: argparse.Namespace) -> Secret | None:
    """The one password/PSID given (``-``: asked without echo), checked; None when none was.

    Raises:
        WipestationError: more than one given, or not a valid password/PSID.
    """
    given = [(flag, v) for flag in SECRET_FLAGS if (v := getattr(args, flag.replace("-", "_")))]
    if not given:
        return None
    if len(given) > 1:
        raise WipestationError(f"give one of {', '.join('--' + f for f in SECRET_FLAGS)}")
    flag, value = given[0]
    if value == "-":
        value = getpass.getpass(f"{SECRET_FLAGS[flag]}: ")
    try:
        return make_secret(SECRET_KINDS[flag], value)
    except UnsupportedError as e:
        raise WipestationError(f"--{flag}: {e}") from None


def give_secret(
    services: Services, targets: list[tuple[Drive, str]], secret: Secret | None
) -> None:
    """A secret opens one drive: the planner keeps it for that drive's plan only."""
    if secret is None:
        return
    if len(targets) != 1 or not isinstance(services.planner, Planner):
        raise WipestationError("a password or PSID is given for exactly one DEVICE")
    services.planner.give_secret(targets[0][0].identity, secret)


def overlap_start(services: Services, writer: ReportWriter, drives: list[Drive]) -> None:
    """What every run needs, overlapped rather than queued (issue 18): the drives' probes at
    once (the checks that follow read them from the planner's cache), and the certificate
    renderer's processes starting beside them and the wipes (reports/render_worker.py)."""
    writer.warm(len(drives))
    if isinstance(services.planner, Planner):
        services.planner.prefetch(drives)


def resolve_targets(
    inventory: Inventory, args: argparse.Namespace, journal: Journal
) -> list[tuple[Drive, str]]:
    if not args.devices and not args.resume:
        raise WipestationError("name at least one DEVICE (or use --resume)")
    if args.devices:
        # one listing to tell identities apart, not one per DEVICE (~50 ms each); no disk's
        # exclusive claim is asked there (a busy one retries for 0.8 s): get asks its own
        listing = inventory.drives(busy_of="")
        drives = [find_drive(inventory, listing, dev) for dev in args.devices]
        refuse_twice_named(args.devices, drives)
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


def refuse_twice_named(names: list[str], drives: list[Drive]) -> None:
    """One drive named twice would be wiped by the first job and fail the second: refused here,
    before anything is written ("every target is checked first")."""
    first: dict[tuple[int, int], str] = {}
    for name, d in zip(names, drives, strict=True):
        key = d.devnum if d.devnum != (0, 0) else (hash(d.path), -1)
        if key in first:
            raise WipestationError(
                f"{name} is {first[key]} again (both are {d.path}): name each drive once; "
                "nothing was written"
            )
        first[key] = name


def asset_tags(inventory: Inventory, specs: list[str], targets: list[Drive]) -> dict[str, str]:
    """``DEVICE=TAG`` values → drive identity → tag; DEVICE must be one of the targets."""
    by_devnum = {d.devnum: d for d in targets}
    out: dict[str, str] = {}
    for spec in specs:
        dev, sep, tag = spec.partition("=")
        if not sep or not dev.strip() or not tag.strip():
            raise WipestationError(f"--asset-tag {spec!r}: expected DEVICE=TAG")
        drive = inventory.get(dev.strip())
        target = by_devnum.get(drive.devnum) if drive else None
        if target is None:
            raise WipestationError(f"--asset-tag {spec!r}: {dev} is not one of the drives to wipe")
        if target.identity in out:
            raise WipestationError(f"--asset-tag {spec!r}: {target.path} already has a tag")
        out[target.identity] = tag.strip()
    return out


def find_drive(inventory: Inventory, listing: list[Drive], dev: str) -> Drive:
    """``inventory.get(dev)``, told the other drives of ``listing``: it lists every disk again
    only when one of them shares this drive's identity."""
    name = os.path.basename(os.path.realpath(dev))
    drive = inventory.get(dev, others=[d for d in listing if d.name != name])
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
