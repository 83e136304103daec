"""``make usb DEV=/dev/sdX``: write the Wipestation image to a real USB stick, carefully.

This is the one place on a workstation where the project writes a whole disk, so it refuses
anything that is not a removable USB disk, anything protected by the inventory (mounted, swap,
holding the running system, held by dm/md, a Wipestation or report stick...), and anything too
small; and it asks the operator to type the device name before writing. The write itself goes
through ``Inventory.open_for_wipe`` (protection re-checked, same identity, ``O_EXCL``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from wipestation.discovery.inventory import Inventory
from wipestation.errors import WipestationError
from wipestation.model import Drive, Transport
from wipestation.units import human_size

CHUNK = 4 * 1024 * 1024


def refusal_reasons(drive: Drive | None, image_size: int, path: str) -> list[str]:
    """Why ``drive`` must not receive the image; empty when it may."""
    if drive is None:
        return [f"{path} is not a whole disk the inventory knows (give /dev/sdX, not a partition)"]
    reasons = []
    if drive.transport != Transport.USB:
        reasons.append(f"{drive.path} is not a USB disk (transport: {drive.transport})")
    if not drive.removable:
        reasons.append(f"{drive.path} is not a removable disk")
    reasons += [f"{drive.path}: {r}" for r in drive.protected_reasons]
    if drive.read_only:
        reasons.append(f"{drive.path} is read-only (write-protect switch?)")
    if drive.size_bytes < image_size:
        reasons.append(
            f"{drive.path} is too small: {human_size(drive.size_bytes)} < image "
            f"{human_size(image_size)}"
        )
    return reasons


def check_target(path: str, image_size: int, inventory: Inventory | None = None) -> Drive:
    """The drive at ``path`` if the image may be written to it; raises with every reason."""
    inv = inventory or Inventory()
    drive = inv.get(path) if os.path.exists(path) else None
    reasons = refusal_reasons(drive, image_size, path)
    if reasons:
        raise WipestationError("refusing to write the image:\n  " + "\n  ".join(reasons))
    assert drive is not None
    return drive


def confirmed(answer: str, drive: Drive) -> bool:
    """The operator must type the device name (``sdX`` or ``/dev/sdX``) exactly."""
    return answer.strip() in (drive.name, drive.path)


def write_image(image: Path, drive: Drive, inventory: Inventory) -> None:
    fd = inventory.open_for_wipe(drive, direct=False)
    try:
        with open(image, "rb") as src:
            while chunk := src.read(CHUNK):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def main(argv: list[str] | None = None, ask: Callable[[str], str] = input) -> int:
    p = argparse.ArgumentParser(prog="make usb", description=__doc__.splitlines()[0])
    p.add_argument("image", type=Path)
    p.add_argument("device", nargs="?", default="", help="the stick, e.g. /dev/sdb")
    args = p.parse_args(argv)
    inv = Inventory()
    if not args.device:
        sticks = [d for d in inv.drives() if not refusal_reasons(d, 0, d.path)]
        print("usage: make usb DEV=/dev/sdX   (removable USB disks seen now:)")
        for d in sticks:
            print(f"  {d.path}  {d.vendor} {d.model}  {human_size(d.size_bytes)}  {d.serial}")
        return 2
    try:
        drive = check_target(args.device, args.image.stat().st_size, inv)
    except (WipestationError, OSError) as e:
        print(f"make usb: {e}", file=sys.stderr)
        return 1
    print(
        f"About to ERASE {drive.path}: {drive.vendor} {drive.model}, serial {drive.serial or '?'}, "
        f"{human_size(drive.size_bytes)}, and write {args.image}."
    )
    if not confirmed(ask(f"Type {drive.name} to continue: "), drive):
        print("make usb: not confirmed; nothing written", file=sys.stderr)
        return 1
    try:
        write_image(args.image, drive, inv)
    except (WipestationError, OSError) as e:
        print(f"make usb: {e}", file=sys.stderr)
        return 1
    print(f"Done: {drive.path} now boots Wipestation (BIOS and UEFI).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
