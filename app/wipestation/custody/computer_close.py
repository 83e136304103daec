"""Writing the computer certificate once every internal drive has ended (computer mode).

Plain Python, shared by the screen and the headless conveyor, like closing a lot
(``custody/close.py``): the drive records this station delivered in this session
(``ReportWriter.delivered``, each signed when it was made) are linked by hash into one
``wipestation.computer/1`` record, signed with the station's key and written with its PDF to
the report target's ``computers/`` directory, through the writer (so the store gets it too,
as lot records, where the store keys it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wipestation.custody.close import token
from wipestation.model import Drive
from wipestation.reports.record import boot_json
from wipestation.reports.writer import ReportWriter

if TYPE_CHECKING:  # signing and reportlab: loaded when the certificate is written
    from wipestation.custody.computer_record import InternalDrive
    from wipestation.reports.sign import StationSigner


@dataclass(frozen=True)
class ComputerCertified:
    status: str  # COMPLETE | INCOMPLETE
    serial: str  # the computer's (SMBIOS), '' when unknown
    drives: int
    not_passed: tuple[str, ...]
    paths: tuple[Path, ...]  # the certificate (JSON) and its PDF

    def line(self) -> str:
        """``COMPUTER <serial> COMPLETE|INCOMPLETE drives=N not_passed=<a,b> record=<file>``
        (the conveyor's serial-console line; tests wait for it)."""
        record = self.paths[0].name if self.paths else "-"
        missing = ",".join(token(m) for m in self.not_passed)
        return (
            f"COMPUTER {token(self.serial) or '-'} {self.status} drives={self.drives}"
            f" not_passed={missing} record={record}"
        )


def internal_drive(d: Drive) -> InternalDrive:
    from wipestation.custody.computer_record import InternalDrive

    return InternalDrive(d.identity, d.serial, d.model, d.size_bytes)


def certify(
    writer: ReportWriter, drives: Iterable[Drive], power: dict[str, Any] | None = None
) -> ComputerCertified:
    """Write the signed computer certificate + PDF for ``drives`` (the internal ones).

    Raises:
        TargetUnavailableError: no report target (and no store), or it cannot be written now.
        OSError: the target failed while writing.
    """
    from wipestation.custody.computer_record import (
        COMPUTER_DIR,
        build_computer_record,
        write_computer,
    )

    writer.flush()  # records still waiting go first: the certificate links them by hash
    host = writer.host.to_json() if writer.host is not None else None
    unsigned = build_computer_record(
        [internal_drive(d) for d in drives], list(writer.delivered), writer.station,
        host=host, boot=boot_json(), power=power,
    )  # fmt: skip

    def write(root: Path, signer: StationSigner) -> list[Path]:
        return write_computer(root / COMPUTER_DIR, signer.sign(unsigned), writer.paper)

    paths = writer.write_signed(write, share=True)
    return ComputerCertified(
        status=unsigned["status"],
        serial=str((host or {}).get("serial") or ""),
        drives=len(unsigned["drives"]),
        not_passed=tuple(unsigned["not_passed"]),
        paths=tuple(paths),
    )
