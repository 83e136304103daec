"""The drive inventory: udev dicts → typed, protection-checked ``Drive`` values.

``open_for_wipe`` is the only door to a writable file descriptor on a drive: every write path in
the engine and the firmware methods goes through it (protection re-check, same identity, O_EXCL).
"""

from __future__ import annotations

import errno
import os
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from wipestation.discovery import controllers, safety, udev
from wipestation.discovery import identity as ident
from wipestation.discovery.attachment import attachment_of
from wipestation.errors import DeviceGoneError, SafetyError
from wipestation.model import Drive

#: Kernel names that are never wipe targets (RAM disks, zram, optical, floppies, stacked devices).
_NOT_TARGETS = ("ram", "zram", "sr", "fd", "dm-", "md", "nbd", "mtdblock")


#: Why a drive udev has not finished with may not be written yet (it could be the boot stick):
#: the hotplug watcher reports it as changed once udev is done.
NOT_IDENTIFIED = "not identified yet: udev is still reading this drive"


def is_target_node(p: dict[str, str]) -> bool:
    """Whole disks worth listing: real media, attached loop devices, nothing stacked or empty."""
    name = p.get("DEVNAME", "").rsplit("/", 1)[-1]
    if not name or name.startswith(_NOT_TARGETS) or "boot" in name:  # mmcblk0boot0 (eMMC hw part)
        return False
    if re.fullmatch(r"mmcblk\d+rpmb", name):  # a block device before Linux 4.14: never a target
        return False
    if p.get("sysfs:device/type") == "5" or p.get("ID_CDROM") == "1":
        return False
    size = p.get("sysfs:size")
    if udev.fixed_scsi_disk(p):
        return True  # even at 0 bytes (udev.has_media): the plan says why
    return size is None or int(size or 0) > 0


def _int(p: dict[str, str], key: str, default: int) -> int:
    try:
        return int(p.get(key, "") or default)
    except ValueError:
        return default


def listing_order(drives: Iterable[Drive]) -> list[Drive]:
    """Loop devices first, then by name as people count (sda, sdb, ..., sdz, sdaa)."""
    return sorted(drives, key=lambda d: (d.transport != "loop", _natural(d.name)))


def drive_from_properties(p: dict[str, str]) -> Drive:
    """Pure: one udev/sysfs dict → an unprotected ``Drive``."""
    name = p.get("DEVNAME", "").rsplit("/", 1)[-1]
    transport = ident.transport_of(p)
    reading = ident.read_serial(p, transport)
    serial = reading.serial
    model = ident.model_of(p)
    wwn = ident.wwn_of(p)
    size = _int(p, "sysfs:size", 0) * 512
    identity, source = ident.identity_of(
        serial, wwn, model, size, p, placeholder=reading.placeholder
    )
    shown_as = controllers.presentation(p)
    attached, attached_why = attachment_of(p, transport)
    usb_id = (
        f"{p['ID_VENDOR_ID']}:{p['ID_MODEL_ID']}"
        if p.get("ID_BUS") == "usb" and p.get("ID_VENDOR_ID")
        else ""
    )
    return Drive(
        path=p.get("DEVNAME", f"/dev/{name}"),
        name=name,
        transport=transport,
        model=model,
        serial=serial,
        wwn=wwn,
        firmware=(
            p.get("sysfs:device/firmware_rev")
            or p.get("ID_REVISION")
            or p.get("sysfs:device/rev", "")
        ).strip(),
        size_bytes=size,
        logical_block_size=_int(p, "sysfs:queue/logical_block_size", 512),
        physical_block_size=_int(p, "sysfs:queue/physical_block_size", 512),
        rotational=p.get("sysfs:queue/rotational", "0") == "1",
        removable=p.get("sysfs:removable", "0") == "1",
        read_only=p.get("sysfs:ro", "0") == "1",
        identity=identity,
        identity_source=source,
        serial_sources=reading.sources,
        serial_disagreement=reading.disagreement,
        serial_placeholder=reading.placeholder,
        vendor=ident.vendor_of(p),
        devnum=(_int(p, "MAJOR", 0), _int(p, "MINOR", 0)),
        devpath=p.get("DEVPATH", ""),
        id_path=p.get("ID_PATH", ""),
        usb_id=usb_id,
        backing_file=p.get("sysfs:loop/backing_file", ""),
        controller=shown_as.controller,
        volume=shown_as.volume,
        bmc_media=shown_as.bmc_media,
        raid_member=controllers.raid_member_of(p),
        attachment=attached,
        attachment_why=attached_why,
    )


def disambiguate(drives: list[Drive]) -> list[Drive]:
    """Two drives with one serial (bridges, card readers): suffix the physical path and flag it."""
    counts = Counter(d.identity for d in drives)
    out = []
    for d in drives:
        if counts[d.identity] > 1:
            where = d.id_path or d.name
            d = replace(d, identity=f"{d.identity}@{where}", identity_duplicate=True)
        out.append(d)
    return out


def shares_identity(other: Drive, drive: Drive) -> bool:
    """Whether ``other`` (another node) has ``drive``'s identity, suffixed or not."""
    if other.name == drive.name:
        return False
    return other.identity == drive.identity or (
        other.identity_duplicate and other.identity.startswith(f"{drive.identity}@")
    )


class Inventory:
    """Lists drives and re-checks one right before it is written."""

    def __init__(
        self, excludes: Iterable[str] = (), proc: str = "/proc", sys_block: str = "/sys/class/block"
    ) -> None:
        self.excludes = normalise_excludes(excludes)
        self.proc = proc
        self.sys_block = sys_block
        #: the last full listing: a re-check lists again only when one of these shares the
        #: drive's identity (8 drives re-checked twice each listed 16 times before)
        self._known: tuple[Drive, ...] | None = None

    def drives(self, *, busy_of: str | None = None) -> list[Drive]:
        """Every target disk. ``busy_of``: ask the kernel about that one disk's exclusive claim
        only (``get``: the listing is there to disambiguate identities; a sibling held by its
        own wipe job cost up to 0.8 s of ``busy_reason`` retries, per sibling, per recheck)."""
        state = safety.read_system_state(self.proc)
        found = [
            self._protect(drive_from_properties(p), p, parts, state, busy_of=busy_of)
            for p, parts in udev.iter_disks()
            if is_target_node(p)
        ]
        listed = listing_order(disambiguate(found))
        self._known = tuple(listed)
        return listed

    def get(self, path_or_name: str, others: Iterable[Drive] | None = None) -> Drive | None:
        """One drive, as ``drives()`` would list it.

        A duplicate serial is resolved against the full list. ``others`` (the drives a caller
        already knows, e.g. the hotplug watcher) spares that full listing when none of them
        shares this drive's identity: at boot, a listing per arriving drive cost ~0.4 s each
        under QEMU TCG.
        """
        name = os.path.basename(os.path.realpath(path_or_name))
        found = udev.disk_by_name(name)
        if found is None or not is_target_node(found[0]):
            return None
        p, parts = found
        state = safety.read_system_state(self.proc)
        drive = self._protect(drive_from_properties(p), p, parts, state)
        if others is not None and not any(shares_identity(o, drive) for o in others):
            return drive
        return next((d for d in self.drives(busy_of=drive.name) if d.name == drive.name), drive)

    def _protect(
        self,
        d: Drive,
        p: dict[str, str],
        parts: list[dict[str, str]],
        state: safety.SystemState,
        *,
        busy_of: str | None = None,
    ) -> Drive:
        members = safety.members_of(p, parts, self.sys_block)
        excluded_by = safety.match_exclusion(
            self.excludes,
            path=d.path,
            name=d.name,
            serial=d.serial,
            wwn=d.wwn,
            identity=d.identity,
            # an exclusion written with udev's form of the serial ("AB_12_34") still holds
            by_id=[*p.get("DEVLINKS", "").split(), *sorted(ident.udev_aliases(d.serial))],
        )
        reasons = safety.protection_reasons(members, state, excluded_by)
        # A partition udev has not read yet may be the boot stick's (its UUID and label unknown).
        if any(d.get(udev.NOT_INITIALIZED) for d in (p, *parts)):
            reasons.append(NOT_IDENTIFIED)
        if not reasons and busy_of in (None, d.name):
            busy = safety.busy_reason(d.path)
            reasons = [busy] if busy else []
        return replace(d, protected=bool(reasons), protected_reasons=tuple(reasons))

    def recheck(self, planned: Drive) -> Drive:
        """The drive as it is now, if it is still the planned one and may be written.

        Raises:
            DeviceGoneError: the device node no longer exists.
            SafetyError: it is protected or read-only now, or another drive sits at that path.
        """
        now = self.get(planned.path, self._known)
        if now is None:
            raise DeviceGoneError(f"{planned.path} is gone (was {planned.identity})")
        check_same_drive(planned, now)
        if now.protected:
            raise SafetyError(f"refusing to write {now.path}: " + "; ".join(now.protected_reasons))
        if now.read_only:
            raise SafetyError(f"refusing to write {now.path}: the device is read-only")
        return now

    def open_for_wipe(self, planned: Drive, *, direct: bool = True) -> int:
        """Re-check protection and identity, then open read-write with O_EXCL.

        Raises:
            DeviceGoneError: the device node no longer exists.
            SafetyError: it is protected now, or a different drive sits at that path.
        """
        now = self.recheck(planned)
        flags = os.O_RDWR | os.O_EXCL | os.O_CLOEXEC | (os.O_DIRECT if direct else 0)
        fd = open_exclusive(now.path, flags)
        st = os.fstat(fd)
        if (os.major(st.st_rdev), os.minor(st.st_rdev)) != now.devnum:
            os.close(fd)
            raise SafetyError(f"{now.path} changed device number while opening; not writing")
        return fd


def open_exclusive(path: str, flags: int, attempts: int = 8, pause_s: float = 0.1) -> int:
    """O_EXCL open that outlasts a momentary claim (udev's or another inventory's busy probe
    after a close-write event), but not a mount, which stays."""
    for attempt in range(attempts):
        try:
            return os.open(path, flags)
        except OSError as e:
            if e.errno != errno.EBUSY or attempt == attempts - 1:
                raise SafetyError(f"cannot open {path} exclusively: {e.strerror}") from e
            time.sleep(pause_s)
    raise AssertionError("unreachable")


def check_same_drive(planned: Drive, now: Drive) -> None:
    if now.identity != planned.identity or now.devnum != planned.devnum:
        raise SafetyError(
            f"refusing to write {planned.path}: it is now {now.identity!r} "
            f"({now.devnum[0]}:{now.devnum[1]}), not the planned {planned.identity!r}"
        )


def normalise_excludes(excludes: Iterable[str]) -> list[str]:
    """Accept paths, by-id links, serials and WWNs; links are also resolved to their device."""
    out: list[str] = []
    for ex in excludes:
        for part in ex.split(","):
            part = part.strip()
            if not part:
                continue
            out.append(part)
            if part.startswith("/dev/") and os.path.exists(part):
                out.append(os.path.realpath(part))
    return out


def _natural(name: str) -> tuple[int | str, ...]:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))
