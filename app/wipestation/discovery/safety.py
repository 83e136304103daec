"""Protection: the single most important safety rule. Decides which disks must never be written.

A disk is protected when it, a partition of it, or anything stacked on it (dm, md, LVM) is the
running system's boot medium, is mounted, is active swap, is held by dm/md, carries the
Wipestation boot stick or a report stick, or is excluded by the operator. ``open_for_wipe`` checks
all of it again right before opening a device for writing, and opens with O_EXCL.
"""

from __future__ import annotations

import errno
import os
import time
from dataclasses import dataclass, field

BOOT_LABEL = "WIPESTATION"
REPORT_LABEL = "WIPEREPORTS"


@dataclass(frozen=True)
class SystemState:
    """What the running system is using, as device numbers (major, minor)."""

    mounts: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    swaps: dict[tuple[int, int], str] = field(default_factory=dict)
    root_devnums: frozenset[tuple[int, int]] = frozenset()
    #: Partition UUID / label the bootloader told us we booted from (kernel command line).
    boot_partuuid: str = ""
    boot_label: str = BOOT_LABEL


def parse_mountinfo(text: str) -> tuple[dict[tuple[int, int], list[str]], set[tuple[int, int]]]:
    """Device numbers → mount points, plus the device(s) holding "/"."""
    mounts: dict[tuple[int, int], list[str]] = {}
    root: set[tuple[int, int]] = set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 5:
            continue
        major, minor = (int(x) for x in parts[2].split(":"))
        if major == 0:
            continue  # virtual filesystems (proc, tmpfs, overlay, ...)
        mounts.setdefault((major, minor), []).append(parts[4])
        if parts[4] == "/":
            root.add((major, minor))
    return mounts, root


def parse_swaps(text: str) -> list[str]:
    return [ln.split()[0] for ln in text.splitlines()[1:] if ln.strip()]


def parse_cmdline(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for tok in text.split():
        key, _, value = tok.partition("=")
        out[key] = value
    return out


def read_system_state(proc: str = "/proc") -> SystemState:
    with open(os.path.join(proc, "self/mountinfo"), encoding="utf-8") as f:
        mounts, root = parse_mountinfo(f.read())
    swaps: dict[tuple[int, int], str] = {}
    try:
        with open(os.path.join(proc, "swaps"), encoding="utf-8") as f:
            for path in parse_swaps(f.read()):
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                if st.st_rdev:
                    swaps[(os.major(st.st_rdev), os.minor(st.st_rdev))] = path
    except OSError:
        pass
    try:
        with open(os.path.join(proc, "cmdline"), encoding="utf-8") as f:
            cmd = parse_cmdline(f.read())
    except OSError:
        cmd = {}
    boot = cmd.get("wipestation.boot", "")
    return SystemState(
        mounts=mounts,
        swaps=swaps,
        root_devnums=frozenset(root),
        boot_partuuid=boot.removeprefix("PARTUUID=").lower(),
        boot_label=cmd.get("wipestation.bootlabel", BOOT_LABEL) or BOOT_LABEL,
    )


def holders(name: str, sys_block: str = "/sys/class/block") -> list[str]:
    """Everything stacked on ``name`` (dm, md, ...), transitively."""
    found: list[str] = []
    try:
        direct = os.listdir(os.path.join(sys_block, name, "holders"))
    except OSError:
        return found
    for h in direct:
        found.append(h)
        found.extend(holders(h, sys_block))
    return found


def devnum_of(name: str, sys_block: str = "/sys/class/block") -> tuple[int, int] | None:
    try:
        with open(os.path.join(sys_block, name, "dev"), encoding="ascii") as f:
            major, minor = f.read().strip().split(":")
        return int(major), int(minor)
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class Member:
    """A block node that belongs to a disk: the disk itself, a partition, or a holder."""

    name: str
    devnum: tuple[int, int] | None
    label: str = ""
    partuuid: str = ""


def members_of(
    disk: dict[str, str], partitions: list[dict[str, str]], sys_block: str = "/sys/class/block"
) -> list[Member]:
    nodes = [disk, *partitions]
    members: list[Member] = []
    for n in nodes:
        name = n.get("DEVNAME", "").rsplit("/", 1)[-1]
        num = (int(n["MAJOR"]), int(n["MINOR"])) if n.get("MAJOR") else devnum_of(name, sys_block)
        members.append(
            Member(name, num, n.get("ID_FS_LABEL", ""), n.get("ID_PART_ENTRY_UUID", "").lower())
        )
        members.extend(Member(h, devnum_of(h, sys_block)) for h in holders(name, sys_block))
    return members


def protection_reasons(
    members: list[Member], state: SystemState, excluded_by: str = ""
) -> list[str]:
    """Human-readable reasons this disk must not be written, empty when it is a target."""
    reasons: list[str] = []
    for m in members:
        if m.devnum in state.root_devnums:
            reasons.append(f"boot medium of the running system (/ is on {m.name})")
        for mp in state.mounts.get(m.devnum or (-1, -1), []):
            if mp != "/":
                reasons.append(f"mounted: /dev/{m.name} on {mp}")
        if m.devnum in state.swaps:
            reasons.append(f"active swap: /dev/{m.name}")
        if m.name.startswith(("dm-", "md")):
            reasons.append(
                f"in use by active {'device-mapper' if m.name[:3] == 'dm-' else 'md RAID'}"
                f" device {m.name}"
            )
        if state.boot_partuuid and m.partuuid == state.boot_partuuid:
            reasons.append(f"Wipestation boot stick (partition UUID {m.partuuid})")
        elif m.label == state.boot_label:
            reasons.append(f"Wipestation boot stick (label {m.label})")
        if m.label == REPORT_LABEL:
            reasons.append(f"report stick (label {REPORT_LABEL})")
    if excluded_by:
        reasons.append(f"excluded by operator ({excluded_by})")
    return list(dict.fromkeys(reasons))


def busy_reason(path: str, attempts: int = 6, first_pause_s: float = 0.025) -> str:
    """Ask the kernel: a block device that is mounted or claimed refuses O_EXCL with EBUSY.

    Asked a few times over ~0.8 s, backing off: a claim that lasts a moment is not "in use"
    (the kernel re-reading the partition table, another thread's probe of the same drive at
    boot: two probes at once each see the other's claim). Taken for one, an unattended station
    skipped the drive for good.
    """
    for attempt in range(attempts):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_EXCL | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError as e:
            if e.errno != errno.EBUSY:
                return ""
            if attempt < attempts - 1:
                time.sleep(first_pause_s * 2**attempt)
            continue
        os.close(fd)
        return ""
    return "busy: the kernel holds it open exclusively (mounted, swap or claimed)"


def match_exclusion(
    excludes: list[str],
    *,
    path: str,
    name: str,
    serial: str,
    wwn: str,
    identity: str,
    by_id: list[str],
) -> str:
    """The exclusion entry matching this disk (by path, name, serial, WWN or by-id link), or ''."""
    wanted = {path, name, f"/dev/{name}", serial, wwn, identity, *by_id}
    wanted.discard("")
    for ex in excludes:
        ex = ex.strip()
        if ex and (ex in wanted or ex.lower() == wwn.lower()):
            return ex
    return ""
