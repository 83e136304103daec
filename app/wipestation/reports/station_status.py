"""A station's live status for the floor: ``PREFIX/stations/<station>/status.json`` (issue 20).

Why a document of its own: the floor console reads one small object per station to see who is
running, where, and how each drive is doing, without reading records. This module is the typed
status (frozen dataclasses -> JSON), the pure ``build_status`` that makes it from what the engine
and the station already expose, and the host facts it needs (addresses, boot time), read from
the kernel with the standard library (no tool, no process). Nothing secret is in it.
"""

from __future__ import annotations

import fcntl
import json
import socket
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from wipestation import timesync
from wipestation.discovery.host import HostIdentity, this_host
from wipestation.discovery.identity import safe_filename
from wipestation.model import Drive, JobResult, JobState, Progress
from wipestation.reports.record import StationInfo
from wipestation.reports.store import StoreLocation

SCHEMA = "wipestation.station-status/1"
#: ioctl(SIOCGIFADDR): an interface's IPv4 address (linux/sockios.h).
SIOCGIFADDR = 0x8915
RESULTS = {
    JobState.PASSED: "PASS",
    JobState.FAILED: "FAIL",
    JobState.CANCELLED: "CANCELLED",
    JobState.REMOVED: "REMOVED",
}


@dataclass(frozen=True)
class Address:
    interface: str
    address: str


@dataclass(frozen=True)
class HostFacts:
    """The station's host as the floor sees it: its addresses, when it booted, which computer."""

    addresses: tuple[Address, ...] = ()
    boot_time: str = ""  # RFC 3339 UTC; "" when /proc/stat cannot be read
    computer: HostIdentity | None = None  # SMBIOS (discovery/host.py); None: not read
    clock: timesync.ClockOutcome | None = None  # where its time comes from; None: being set


@dataclass(frozen=True)
class DriveStatus:
    """One drive: who it is, what its job does now, and how the job ended ("" while running)."""

    identity: str
    serial: str
    model: str
    size_bytes: int
    path: str
    state: str  # a JobState value, or "idle" without a job
    method: str = ""
    phase: str = ""
    progress: float = 0.0  # fraction of the current pass, 0..1
    rate_bps: int = 0
    eta_s: int | None = None
    result: str = ""  # PASS | FAIL | CANCELLED | REMOVED | ""
    reason: str = ""


@dataclass(frozen=True)
class StationStatus:
    station: StationInfo
    host: HostFacts
    state: str  # running | stopped
    updated_at: str
    drives: tuple[DriveStatus, ...] = ()

    def to_json(self) -> dict[str, object]:
        s = self.station
        return {
            "schema": SCHEMA,
            "station": s.station_id,
            "state": self.state,
            "updated_at": self.updated_at,
            "addresses": [vars(a) for a in self.host.addresses],
            "boot_time": self.host.boot_time,
            "computer": self.host.computer.to_json() if self.host.computer else None,
            "clock": self.host.clock.to_json() if self.host.clock else None,
            "software_version": s.software_version,
            "lot": s.lot_id,
            "operator": s.operator,
            "drives": [vars(d) for d in self.drives],
        }

    def content(self) -> dict[str, object]:
        """What changed means: everything but the time it was made."""
        return {k: v for k, v in self.to_json().items() if k != "updated_at"}

    def body(self) -> bytes:
        return json.dumps(self.to_json(), indent=2, sort_keys=True).encode() + b"\n"


def status_key(location: StoreLocation, station: str) -> str:
    """``PREFIX/stations/<station>/status.json``."""
    return location.key("stations", safe_filename(station or "unnamed"), "status.json")


def drive_status(drive: Drive | None, p: Progress | None, r: JobResult | None) -> DriveStatus:
    """One row: the drive's identity from the inventory (else its job's), its job's progress."""
    identity = drive.identity if drive else (p.identity if p else "")
    base = DriveStatus(
        identity,
        drive.serial if drive else "",
        drive.model if drive else "",
        drive.size_bytes if drive else 0,
        drive.path if drive else (p.drive_path if p else ""),
        p.state.value if p else "idle",
    )
    if p is None:
        return base
    running = not p.state.finished
    return replace(
        base,
        method=p.method,
        phase=p.phase,
        progress=round(1.0 if r is not None and r.passed else p.fraction, 4),
        rate_bps=int(p.rate_bps) if running else 0,
        eta_s=int(p.eta_s) if running and p.eta_s is not None else None,
        result=RESULTS.get(r.state, "") if r is not None else "",
        reason=r.reason if r is not None else "",
    )


def latest_by_identity(progress: Mapping[str, Progress]) -> dict[str, Progress]:
    """Each drive's newest job (a re-wipe replaces the earlier job's row)."""
    newest: dict[str, Progress] = {}
    for p in sorted(progress.values(), key=lambda p: p.timestamp):
        newest[p.identity] = p
    return newest


def build_status(
    station: StationInfo,
    host: HostFacts,
    drives: Iterable[Drive],
    progress: Mapping[str, Progress],
    results: Mapping[str, JobResult],
    state: str,
    now: datetime,
) -> StationStatus:
    """The status of every drive present or with a job this session (a finished drive pulled
    from its bay stays, with its result), ordered by device path."""
    known = {r.drive.identity: r.drive for r in results.values()}
    known.update({d.identity: d for d in drives})
    jobs = latest_by_identity(progress)
    rows = [
        drive_status(known.get(i), jobs.get(i), results.get(jobs[i].job_id) if i in jobs else None)
        for i in known.keys() | jobs.keys()
    ]
    at = now.astimezone(UTC).isoformat(timespec="seconds")
    return StationStatus(station, host, state, at, tuple(sorted(rows, key=_order)))


def _order(d: DriveStatus) -> tuple[str, str]:
    return d.path, d.identity


# ---- the host, read from the kernel ----------------------------------------------------------


def boot_time(stat: Path = Path("/proc/stat")) -> str:
    """When the kernel booted (``btime``), RFC 3339 UTC; "" when unreadable (unknown)."""
    try:
        lines = stat.read_text().splitlines()
    except OSError:
        return ""
    found = [ln.split()[1] for ln in lines if ln.startswith("btime ") and len(ln.split()) == 2]
    if not found or not found[0].isdigit():
        return ""
    return datetime.fromtimestamp(int(found[0]), UTC).isoformat(timespec="seconds")


def ipv4_of(sock: socket.socket, name: str) -> str:
    """The interface's IPv4 address, or "" when it has none."""
    try:
        raw = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, struct.pack("256s", name[:15].encode()))
    except OSError:
        return ""
    return socket.inet_ntoa(raw[20:24])


def ipv6_global(inet6: Path = Path("/proc/net/if_inet6")) -> list[Address]:
    """Global-scope IPv6 addresses (scope 00; link-local and loopback are of no use to a floor)."""
    try:
        lines = inet6.read_text().splitlines()
    except OSError:
        return []
    found = []
    for fields in (ln.split() for ln in lines):
        if len(fields) == 6 and fields[3] == "00" and len(fields[0]) == 32:
            packed = bytes.fromhex(fields[0])
            found.append(Address(fields[5], socket.inet_ntop(socket.AF_INET6, packed)))
    return found


def addresses() -> tuple[Address, ...]:
    """Every non-loopback interface's IPv4 address, then the global IPv6 ones."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        names = [name for _, name in socket.if_nameindex() if name != "lo"]
        v4 = [Address(n, a) for n in names if (a := ipv4_of(sock, n))]
    return tuple(v4 + [a for a in ipv6_global() if a.interface != "lo"])


def host_facts() -> HostFacts:
    return HostFacts(addresses(), boot_time(), this_host(), timesync.BOOT.settled())


@dataclass(frozen=True)
class StatusSources:
    """Where a running station's status comes from; each read without a lock a wipe holds."""

    station: Callable[[], StationInfo]  # the writer's, as the screen's sign-in changes it
    drives: Callable[[], Iterable[Drive]]
    progress: Callable[[], Mapping[str, Progress]]
    results: Callable[[], Mapping[str, JobResult]]
    host: Callable[[], HostFacts] = host_facts

    def status(self, state: str) -> StationStatus:
        return build_status(
            self.station(),
            self.host(),
            self.drives(),
            self.progress(),
            self.results(),
            state,
            datetime.now(UTC),
        )
