"""The header's report and printer state, from the report writer's own status.

The writer (``reports/writer.py``) knows whether its target is present, full or absent and how
many records wait in its spool; this only maps that onto ``ReportStatus`` for the header, and
falls back to looking at ``report_dir`` when no writer is wired (tests, early boot).
"""

from __future__ import annotations

import os
import shutil

from wipestation.config import StationConfig
from wipestation.errors import ReportError
from wipestation.reports.record import host_line
from wipestation.reports.writer import ReportWriter, WriterStatus
from wipestation.tui.ports import ReportStatus

MIN_FREE = 32 * 1024 * 1024  # below this a report stick counts as full


def report_status_of(writer: ReportWriter | None, config: StationConfig) -> ReportStatus:
    if writer is None:
        return _from_dir(config.report_dir)
    status = writer.status
    return ReportStatus(
        target=_target(status.target),
        where=status.target_detail,
        pending=status.pending,
        printer=status.printer,
        detail=status.last_error,
        store=_store_line(status),
        computer=computer_line(writer),
    )


def computer_line(writer: ReportWriter) -> str:
    """The computer the writer's records name, in one line ('' for a writer without one)."""
    host = getattr(writer, "host", None)  # the screen's test writers may have none
    return host_line(host.to_json()) if host is not None else ""


def _store_line(status: WriterStatus) -> str:
    """The records not yet in the object store, or "" (none waits, or no store: a writer status
    without the field, as the screen's test writers give, has none)."""
    store = getattr(status, "store", None)
    return store.message if store is not None and store.pending else ""


def _target(state: str) -> str:
    """The writer's states → the three the header names (plus off)."""
    if state in ("present", "unknown"):
        return state
    if state in ("full", "read-only"):
        return "full"
    return "off" if state == "none" else "absent"


def _from_dir(report_dir: str) -> ReportStatus:
    if not report_dir:
        return ReportStatus(target="off")
    if not os.path.isdir(report_dir):
        return ReportStatus(target="absent", where=report_dir)
    if shutil.disk_usage(report_dir).free < MIN_FREE:
        return ReportStatus(target="full", where=report_dir)
    return ReportStatus(target="present", where=report_dir)


def key_notice_of(writer: ReportWriter | None) -> str:
    """The banner's words for a signing key made at this boot (no TPM, no boot stick), else ''
    (also for the screen's test writers, which have no station key)."""
    key = getattr(writer, "station_key", None)
    if key is None or key().protection != "ephemeral":
        return ""
    from wipestation.reports.keystore import EPHEMERAL_NOTICE

    return EPHEMERAL_NOTICE


def reprint_label(writer: ReportWriter | None, job_id: str) -> None:
    """Queue the label of ``job_id``'s record on the writer's printer again.

    Raises:
        ReportError: no printer, or no record of that job in this session.
    """
    if writer is None or writer.printer is None:
        raise ReportError("no label printer is configured on this station (wipestation.printer)")
    records = [*writer.delivered, *writer.spool.pending()]
    record = next((r for r in records if r.get("job_id") == job_id), None)
    if record is None:
        raise ReportError("the record of this wipe is not in this session's reports")
    writer.printer.submit(record)


def delivery_of(writer: ReportWriter | None, job_id: str) -> str:
    """ "saved" when the job's record reached the target, "waiting" while spooled, else ""."""
    if writer is None or not job_id:
        return ""
    if any(r.get("job_id") == job_id for r in writer.delivered):
        return "saved"
    if any(r.get("job_id") == job_id for r in writer.spool.pending()):
        return "waiting"
    return ""
