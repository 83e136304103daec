"""``make bench-boot`` (and the end of ``make bench``): power-on to station screen, measured.

Boots the built image (``make image``) under QEMU (TCG unless ``ACCEL`` says otherwise) with the
eight-disk test rack, the station screen on tty1 as a station ships, three ways, interleaved:
from the USB stick image under SeaBIOS (how a user boots; issue 18's figure) and under OVMF, and
with ``-kernel``/``-initrd`` (the VM tests' boot), and over the network (``netboot``: the NIC's
iPXE ROM, ``make netboot``'s files over HTTP on QEMU's user network, tests/vm/test_pxe.py;
its "firmware" share includes iPXE's download of kernel and initrd). It reads back the
milestones the station stamps with the kernel's uptime (``wipestation/boottimes.py``), the
systemd split (``systemd-analyze``) and what each process cost in CPU seconds. Power-on times add
the firmware's share: wall clock at the ``WIPESTATION READY`` line on ttyS0 minus the uptime that
line carries, so each boot splits into firmware+GRUB (reading kernel and initrd through the
emulated stick) and kernel→screen. Prints per run and medians; never asserts (the machine may
be shared).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from netboot import netboot  # noqa: E402
from tests.vm import cpio  # noqa: E402
from tests.vm.machine import Boot, Image, Machine  # noqa: E402
from tests.vm.rack import small_rack  # noqa: E402
from tests.vm.test_pxe import NetbootMachine, serving, write_tftp  # noqa: E402

WANTS = "/etc/systemd/system/multi-user.target.wants"
UNIT = """[Unit]
After=wipestation@tty1.service
[Service]
Type=simple
ExecStart=/bin/sh /usr/local/bin/boot-probe
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS2
"""
# Waits until the screen has listed the whole rack (or 60 s), then reports.
PROBE = """for i in $(seq 120); do
  grep -q 'drives=@ROWS@' /run/wipestation/boot-times 2>/dev/null && break
  sleep 0.5
done
sleep 2
echo PROBE-BEGIN
systemd-analyze | head -1
cat /run/wipestation/boot-times
echo CPU
/opt/wipestation/venv/bin/python3 -c '
import glob
rows = []
for f in glob.glob("/proc/[0-9]*/stat"):
    try:
        s = open(f).read()
    except OSError:
        continue
    b = s[s.rindex(")") + 2 :].split()
    cpu = sum(int(x) for x in b[11:15]) / 100  # utime stime cutime cstime
    rows.append((cpu, s[s.index("(") + 1 : s.rindex(")")]))
for cpu, name in sorted(rows, reverse=True)[:8]:
    print(f"{cpu:6.2f} {name}")
'
echo PROBE-END
"""
READY = r"WIPESTATION READY \S+ station=\S+ tty=ttyS0 uptime=([\d.]+)s"


#: stick-ovmf-secboot: the stick under Secure Boot (Debian's OVMF with Microsoft's keys, SMM):
#: shim, signed GRUB and signed kernel (issue 21).
MODES = ("stick-seabios", "stick-ovmf", "kernel", "netboot", "stick-ovmf-secboot")
#: Generous: a shared 2-core machine at load 6 took over 240 s to READY from the stick (TCG).
BOOT_TIMEOUT = 600


def probe_files(rows: int) -> dict[str, str | bytes]:
    return {
        "/etc/systemd/system/boot-probe.service": UNIT,
        f"{WANTS}/boot-probe.service": "@symlink:../boot-probe.service",
        "/usr/local/bin/boot-probe": PROBE.replace("@ROWS@", str(rows)),
    }


def stick_with_probe(image: Image, extra: dict[str, str | bytes], tmp: Path) -> Image:
    """A copy of the stick whose boot/initrd.img starts with the probe's small cpio (the
    kernel unpacks it first; its paths are new), so the firmware reads what it reads on a real
    stick plus a few hundred bytes."""
    usb = tmp / "wipestation.img"
    subprocess.run(["cp", "--sparse=always", str(image.usb), str(usb)], check=True)
    shutil.copy(f"{image.usb}.partuuid", f"{usb}.partuuid")
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    fat, initrd = f"{usb}@@1M", tmp / "initrd.img"
    subprocess.run(
        ["mcopy", "-o", "-i", fat, "::/boot/initrd.img", str(initrd)], check=True, env=env
    )
    initrd.write_bytes(cpio.newc(extra) + initrd.read_bytes())
    subprocess.run(
        ["mcopy", "-o", "-i", fat, str(initrd), "::/boot/initrd.img"], check=True, env=env
    )
    return Image(image.kernel, image.initrd, usb)


@contextlib.contextmanager
def netboot_files(image: Image, rows: int, tmp: Path) -> Iterator[Path]:
    """``make netboot``'s files over HTTP, the initrd led by the probe's cpio (as on the stick),
    and the TFTP directory whose ``boot.ipxe`` chains them: the TFTP directory."""
    with serving(tmp / "http") as served:
        netboot.write(image.kernel.parent, served.root, netboot.Server("10.0.2.2", served.port))
        initrd = served.root / netboot.INITRD
        data = cpio.newc(probe_files(rows)) + initrd.read_bytes()
        initrd.unlink()  # a hard link to the build's own file
        initrd.write_bytes(data)
        write_tftp(tmp / "tftp", served)
        yield tmp / "tftp"


def machine_for(image: Image, stick: Image, mode: str, tftp: Path) -> Machine:
    rack = small_rack()
    if mode == "netboot":
        return NetbootMachine(image, tftp, "boottime", rack)
    if mode == "kernel":
        boot = Boot.kernel(image, extra_files=probe_files(rack_rows(mode)))
    else:
        boot = Boot.usb(stick, firmware=mode.removeprefix("stick-"))
    return Machine(boot, rack=rack, name="boottime")


def rack_rows(mode: str) -> int:
    rack = small_rack()
    rows = len(rack.disks) + (rack.report_stick is not None)  # the stick is listed, protected
    return rows + mode.startswith("stick")  # and so is the boot stick


def boot_once(image: Image, stick: Image, mode: str, run: int, tftp: Path) -> dict[str, float]:
    rows = rack_rows(mode)
    with machine_for(image, stick, mode, tftp) as m:
        ready = m.wait_for_console_text(READY, BOOT_TIMEOUT)
        firmware = m.seconds_since_start() - float(ready[1])
        out = m.wait_for_console_text(
            r"(?s)PROBE-BEGIN(.*)PROBE-END", BOOT_TIMEOUT, log="probe.log"
        )[1]
    lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
    split = lines[0]
    marks = [ln.split(" ", 2) for ln in lines[1 : lines.index("CPU")] if ln[0].isdigit()]
    cpu = lines[lines.index("CPU") + 1 :]
    first = {}
    for up, tty, what in marks:
        key = what.split()[0]
        if tty == "tty1" and key not in first:
            first[key] = float(up)
    listed = [float(up) for up, tty, what in marks if tty == "tty1" and f"drives={rows}" in what]
    screen, all8 = first.get("screen-up", float("nan")), min(listed, default=float("nan"))
    print(
        f"run {run} {mode}: firmware+GRUB {firmware:.1f} s, kernel->screen {screen:.1f} s | "
        f"{split.removeprefix('Startup finished in ')}"
    )
    print("  " + "  ".join(f"{k} {v:.1f}" for k, v in first.items() if k != "drive-listed"))
    print(
        f"  power-on to screen {firmware + screen:.1f} s, "
        f"to the whole rack listed ({rows} rows) {firmware + all8:.1f} s"
    )
    print("  CPU s: " + ", ".join(cpu))
    return {
        "screen": firmware + screen,
        "all8": firmware + all8,
        "firmware": firmware,
        "kernel": screen,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--build", default=str(REPO / "build"))
    p.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {MODES}")
    args = p.parse_args()
    image = Image.from_build(Path(args.build))
    if not image.initrd.exists():
        print("no image: run make image first", file=sys.stderr)
        return 2
    modes = [m for m in args.modes.split(",") if m]
    if bad := [m for m in modes if m not in MODES]:
        print(f"unknown mode {bad[0]!r}: choose from {', '.join(MODES)}", file=sys.stderr)
        return 2
    load = os.getloadavg()[0]
    print(f"boot time, eight-disk rack, accel={os.environ.get('ACCEL', 'tcg')}, load {load:.2f}")
    t0 = time.monotonic()
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
    with tempfile.TemporaryDirectory(prefix="bench-boot-") as tmp, contextlib.ExitStack() as stack:
        stick = stick_with_probe(image, probe_files(rack_rows("stick")), Path(tmp))
        rows = rack_rows("netboot")
        tftp = stack.enter_context(netboot_files(image, rows, Path(tmp)))
        for i in range(args.runs):  # interleaved: a busy spell hits every mode alike
            for mode in modes:
                runs[mode].append(boot_once(image, stick, mode, i + 1, tftp))
    for mode, rs in runs.items():
        med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
        print(
            f"{mode:13} median of {len(rs)}: power-on to station screen {med['screen']:.1f} s "
            f"(firmware+GRUB {med['firmware']:.1f} s + kernel->screen {med['kernel']:.1f} s), "
            f"rack listed {med['all8']:.1f} s"
        )
    print(f"took {time.monotonic() - t0:.0f} s, load now {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
