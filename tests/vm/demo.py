"""``make demo``: boot the image in QEMU with the issue's virtual rack; the station's serial
console is this terminal (Ctrl-A X quits QEMU, Ctrl-A C toggles the QEMU monitor).

Everything lives in ``build/demo/`` and is kept between runs (disks are re-created only when
missing, or with ``--fresh``): the eight rack disks ``<serial>.img``, the report stick
``report-stick.img`` (FAT, label WIPEREPORTS), the boot stick ``boot-stick.img`` (a copy of
``build/wipestation.img``; its FAT partition starts at 1 MiB), the label printer's output
``printer.out`` and the console log ``serial.log``. See README "Inspecting the demo".
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.vm.machine import Boot, Image, Machine
from tests.vm.rack import DEMO_RACK

DEMO_CONFIG = """# written by make demo: this terminal is the serial console, so it controls the
# station; the label printer is the VM's second serial port
[station]
station = "demo"
console = "ttyS0"
printer = "escpos:/dev/ttyS1"
"""


def configure_stick(stick: Path) -> None:
    """Put the demo's wipestation.toml on the boot stick's FAT partition (at 1 MiB)."""
    toml = stick.with_name("wipestation.toml")
    toml.write_text(DEMO_CONFIG)
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    subprocess.run(
        ["mcopy", "-o", "-i", f"{stick}@@1M", str(toml), "::/wipestation.toml"], check=True, env=env
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    p.add_argument("--accel", default=os.environ.get("ACCEL", "tcg"), help="tcg (default) or kvm")
    p.add_argument("--build", type=Path, default=Path("build"))
    p.add_argument("--fresh", action="store_true", help="re-create the disks and sticks")
    p.add_argument("--kernel", action="store_true", help="boot -kernel/-initrd, skip GRUB")
    p.add_argument("--ovmf", action="store_true", help="UEFI firmware instead of SeaBIOS")
    p.add_argument("--memory", type=int, default=2048, help="guest RAM in MiB")
    args = p.parse_args(argv)

    image = Image.from_build(args.build)
    workdir = args.build / "demo"
    if args.fresh:
        shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    if args.kernel:
        boot = Boot.kernel(
            image,
            f"wipestation.boot=PARTUUID={image.partuuid} wipestation.printer=escpos:/dev/ttyS1 "
            "wipestation.console=ttyS0",
            attach_stick=True,
        )
    else:
        boot = Boot.usb(image, firmware="ovmf" if args.ovmf else "seabios")
    m = Machine(
        boot,
        DEMO_RACK,
        name="demo",
        accel=args.accel,
        memory_mib=args.memory,
        workdir=workdir,
        console="stdio",
    )
    argv_qemu = m.prepare(reuse=True)
    configure_stick(workdir / "boot-stick.img")
    (workdir / "qemu.cmd").write_text(" ".join(argv_qemu) + "\n")
    print(
        f"Wipestation demo: {len(DEMO_RACK.disks)} disks, report stick and label printer in "
        f"{workdir}/\nBooting with {args.accel.upper()} (about 30 s under TCG). "
        "Ctrl-A X quits, Ctrl-A C is the QEMU monitor.\n",
        flush=True,
    )
    return subprocess.run(argv_qemu).returncode


if __name__ == "__main__":
    sys.exit(main())
