"""Issue 18's key at station scale, by phase: the help screen's echo in the 48-disk VM.

Boots the built image (``make image``) with the rack of ``tests/vm/test_scale.py`` (24 SCSI,
12 NVMe, 12 SATA disks, pattern-filled, plus the report stick), unattended with the station
screen on ttyS0 and no power-off, and sends ``?`` over the serial line: once as the first disk
is being wiped (the start crunch: 48 drives probed and started), at +30/60/90 s of the wipes,
and three times after all 48 passed (the screen's own floor under TCG, 48 rows, nothing
running). The time is from the key to the help's last line on the console, read every 0.2 s.
Beside it, QEMU's own CPU on the host: with 2 host cores, the guest's vCPUs and the emulation
of 48 disks' I/O share them. Prints; never asserts (the machine may be shared). ~8 min.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.vm.machine import Boot, Image, Machine  # noqa: E402
from tests.vm.rack import Rack, ReportStick  # noqa: E402
from tests.vm.test_redesign import UNATTENDED_BANNER, screen_text, wait_screen  # noqa: E402
from tests.vm.test_scale import (  # noqa: E402
    DISKS,
    HELP_SHOWN,
    PROBE_FILES,
    head_zeroed_any,
    station_use,
)
from tests.vm.test_scenarios import BOOT_TIMEOUT  # noqa: E402

OPTS = (
    "wipestation.console=ttyS0 wipestation.ui=tui wipestation.auto=1 "
    "wipestation.method=overwrite-zero wipestation.verify=full wipestation.poweroff=0"
)
ALL_PASSED = f"passed {len(DISKS)}"


def qemu_cores(m: Machine, secs: float = 10.0) -> float:
    """QEMU's CPU on the host over ``secs`` (all its threads: vCPUs and device emulation)."""
    assert m.proc is not None

    def used() -> float:
        st = Path(f"/proc/{m.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()  # type: ignore[union-attr]
        return (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")

    before = used()
    time.sleep(secs)
    return (used() - before) / secs


def key(m: Machine, label: str) -> float:
    """``?`` until the help is drawn, then Esc; prints and returns the seconds."""
    before = screen_text(m).count(HELP_SHOWN)
    sent = time.monotonic()
    m.send_console("?")
    m.retry(lambda: screen_text(m).count(HELP_SHOWN) > before or None, 120, "the help")
    took = time.monotonic() - sent
    print(f"  {label:<36} help drawn {took:5.2f} s", flush=True)
    time.sleep(3)
    m.send_console("\x1b")
    time.sleep(5)
    return took


def all_passed(m: Machine) -> bool:
    return ALL_PASSED in screen_text(m)[-20000:]


def during(m: Machine) -> None:
    """The crunch, then every 30 s of the wipes while they last."""
    t0 = time.monotonic()
    key(m, "start crunch (first disk zeroed)")
    for at in (30, 60, 90):
        time.sleep(max(0.0, t0 + at - time.monotonic()))
        if all_passed(m):
            return
        key(m, f"+{at} s into the wipes")
        if at == 30:
            print(f"  QEMU on the host, wipes running: {qemu_cores(m):.2f} cores", flush=True)


def after(m: Machine, reps: int) -> None:
    m.retry(lambda: all_passed(m) or None, 900, "all drives passed")
    time.sleep(20)  # the last reports written
    print(f"  QEMU on the host, station idle: {qemu_cores(m):.2f} cores", flush=True)
    for i in range(reps):
        key(m, f"idle, 48 rows, #{i + 1}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default=os.environ.get("WIPESTATION_BUILD", str(REPO / "build")))
    p.add_argument("--idle-reps", type=int, default=3)
    args = p.parse_args(argv)
    image = Image.from_build(Path(args.build))
    rack = Rack(disks=DISKS, report_stick=ReportStick(), spare_ports=0)
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)", flush=True)
    boot = Boot.kernel(image, OPTS, extra_files=PROBE_FILES)
    with Machine(boot, rack=rack, name="vmkeys", memory_mib=2048) as m:
        wait_screen(m, UNATTENDED_BANNER.format(method="overwrite-zero"), BOOT_TIMEOUT)
        m.retry(lambda: head_zeroed_any(m, DISKS) or None, 300, "the first disk being wiped")
        during(m)
        after(m, args.idle_reps)
        print(f"  station: {station_use(m)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
