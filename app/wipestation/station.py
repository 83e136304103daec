"""What a booted station runs on each of its terminals (tty1, ttyS0): ``wipestation station``.

It loads the station configuration (the image's default file, ``wipestation.toml`` from the boot
stick, then the kernel command line), says what is wrong with it in plain words, prints the boot
banner ``WIPESTATION READY <version>`` (tests and operators wait for that line), and then hands
the terminal to the TUI — or, while the TUI is not part of the build, to a plain drive list.

The boot stick is found by the partition UUID the bootloader put on the command line
(``wipestation.boot=PARTUUID=…``), else by its label. It is mounted read-only just long enough to
copy its ``wipestation.toml``, then unmounted: the station never keeps the stick mounted, and only
the report writer mounts it read-write, while it writes.

This module never wipes and has no unattended runner of its own: the configuration (including
``wipestation.auto``/``unattended``) is handed to the TUI, which decides what to do with it; the
fallback drive list says plainly that it will not wipe. Nothing here ever writes to a drive.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import re
import select
import shutil
import struct
import sys
import termios
import time
import tty as tty_mod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from wipestation import __version__, boottimes, config
from wipestation.config import StationConfig
from wipestation.discovery.safety import BOOT_LABEL
from wipestation.errors import ToolError, ToolFailedError
from wipestation.tools import runner

READY_MARKER = "WIPESTATION READY"
#: The configuration file baked into the image (the optional config layer replaces it).
IMAGE_CONFIG = Path("/etc/wipestation/wipestation.toml")
RUN_DIR = Path("/run/wipestation")
#: How long to wait for the boot stick named on the command line (USB disks appear late).
STICK_WAIT_S = 8.0
#: This boot's copy of the stick's wipestation.toml, in RUN_DIR (``wipestation tui`` reads it too).
STICK_COPY = "stick-wipestation.toml"


@dataclass(frozen=True)
class StickSpec:
    """How the bootloader told us to find the boot stick."""

    partuuid: str = ""
    label: str = BOOT_LABEL

    @classmethod
    def from_cmdline(cls, text: str) -> StickSpec:
        opts = dict(tok.partition("=")[::2] for tok in text.split())
        boot = opts.get("wipestation.boot", "")
        partuuid = boot.removeprefix("PARTUUID=").lower() if boot.startswith("PARTUUID=") else ""
        return cls(partuuid, opts.get("wipestation.bootlabel") or BOOT_LABEL)

    def candidates(self, dev_disk: Path = Path("/dev/disk")) -> list[Path]:
        """Device links to try, strongest first."""
        out = [dev_disk / "by-partuuid" / self.partuuid] if self.partuuid else []
        return [*out, dev_disk / "by-label" / self.label]


def find_stick(
    spec: StickSpec,
    dev_disk: Path = Path("/dev/disk"),
    wait_s: float = STICK_WAIT_S,
    sleep: Callable[[float], None] = time.sleep,
) -> Path | None:
    """The boot stick's partition, waiting up to ``wait_s`` only when a PARTUUID was given."""
    deadline = time.monotonic() + (wait_s if spec.partuuid else 0)
    while True:
        for link in spec.candidates(dev_disk):
            if link.exists():
                return link.resolve()
        if time.monotonic() >= deadline:
            return None
        sleep(0.25)


@contextlib.contextmanager
def mounted_read_only(device: Path, run_dir: Path = RUN_DIR) -> Iterator[Path]:
    """Mount ``device`` read-only on a private directory for the duration of the block."""
    run_dir.mkdir(parents=True, exist_ok=True)
    where = run_dir / f"stick-{os.getpid()}"
    where.mkdir(exist_ok=True)
    # Both station instances start together; take turns so neither sees a half-done mount.
    with open(run_dir / "stick.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        mount_fat_read_only(device, where)
        try:
            yield where
        finally:
            runner.run(["umount", str(where)], timeout=20, check=False)
            with contextlib.suppress(OSError):
                where.rmdir()


def mount_fat_read_only(device: Path, where: Path) -> None:
    """The kernel's vfat; FUSE's fusefat, read-only, on a (test host) kernel without it."""
    opts = "ro,nodev,nosuid,noexec,utf8,shortname=mixed"
    argv = ["mount", "-r", "-t", "vfat", "-o", opts, str(device), str(where)]
    done = runner.run(argv, timeout=20, check=False)
    if (
        done.returncode != 0
        and "unknown filesystem type" in done.stderr
        and runner.which("fusefat")
    ):
        done = runner.run(["fusefat", "-o", "ro", str(device), str(where)], timeout=20, check=False)
    if done.returncode != 0:
        raise ToolFailedError(argv, done.returncode, runner.tail(done.stderr or done.stdout))


def copy_stick_config(device: Path, run_dir: Path = RUN_DIR) -> tuple[Path | None, str]:
    """Copy ``wipestation.toml`` off the stick (an empty file when it has none), so a restarted
    station keeps this boot's settings after the stick is pulled. Returns (copy, problem)."""
    dest = run_dir / STICK_COPY
    try:
        with mounted_read_only(device, run_dir) as root:
            src = root / "wipestation.toml"
            if src.exists():
                shutil.copyfile(src, dest)
            else:
                dest.write_text("")
            return dest, ""
    except (ToolError, OSError) as e:
        return None, f"boot stick {device}: cannot read wipestation.toml ({e}); file ignored"


def known_method(name: str) -> bool:
    """Whether ``name`` is a registered erase method (so a typo is a config error)."""
    from wipestation import methods
    from wipestation.errors import WipestationError

    try:
        methods.get(name)
    except WipestationError:
        return False
    return True


def load_station_config(
    cmdline_path: Path = Path("/proc/cmdline"),
    image_config: Path = IMAGE_CONFIG,
    stick_config: Path | None = None,
    problems: tuple[str, ...] = (),
) -> StationConfig:
    """Defaults < image file < stick file < kernel command line; never raises."""
    paths = tuple(p for p in (image_config, stick_config) if p is not None)
    cfg = config.load(cmdline_path, paths, known_method=known_method)
    return replace(cfg, errors=(*problems, *cfg.errors)) if problems else cfg


def banner(cfg: StationConfig, tty: str, stick: Path | None, uptime: float | None = None) -> str:
    where = f"boot stick {stick}" if stick else "no boot stick (network or -kernel boot)"
    up = f" uptime={uptime:.1f}s" if uptime is not None else ""
    return f"{READY_MARKER} {__version__} station={cfg.station} tty={tty or '?'}{up} {where}"


def read_uptime(path: Path = Path("/proc/uptime")) -> float | None:
    try:
        return float(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def describe_errors(cfg: StationConfig) -> str:
    if not cfg.errors:
        return ""
    lines = ["Configuration problems (safe defaults are used instead):"]
    lines += [f"  - {e}" for e in cfg.errors]
    return "\n".join(lines)


def tui_entry() -> Callable[[StationConfig], int] | None:
    """How to start the TUI in this build, or None when the TUI is not part of it.

    The TUI receives the configuration loaded here (``tui_cmd.run_station(cfg)``); it restarts
    itself on a crash and keeps running wipes alive.
    """
    try:
        if importlib.util.find_spec("wipestation.tui.app") is None:
            return None
        from wipestation.cli import tui_cmd
    except ImportError:
        return None
    return lambda cfg: int(tui_cmd.run_station(cfg) or 0)


def run_list_console(cfg: StationConfig, out: TextIO, inp: TextIO) -> int:
    """Fallback UI: the drive list, refreshed on Enter, until stdin closes. It never wipes."""
    from wipestation.cli.list_cmd import format_table
    from wipestation.discovery.inventory import Inventory

    if cfg.unattended:
        out.write("Unattended mode is configured, but this build has no station screen to run ")
        out.write("it: nothing will be wiped.\n")

    while True:
        out.write(format_table(Inventory(cfg.exclude).drives()) + "\n")
        out.write("(the interactive screen is not part of this build; Enter refreshes)\n")
        out.flush()
        if not inp.readline():
            while True:  # no keyboard on this terminal: keep the list on screen
                time.sleep(3600)


def parse_cpr(reply: bytes) -> tuple[int, int] | None:
    """A cursor position report ``ESC [ rows ; cols R`` → (rows, cols)."""
    m = re.search(rb"\x1b\[(\d+);(\d+)R", reply)
    return (int(m[1]), int(m[2])) if m else None


def size_serial_terminal(fd: int, timeout: float = 0.5) -> tuple[int, int] | None:
    """A serial line has no window size; ask the terminal at the other end, like ``resize``.

    Moves the cursor far down-right, asks where it ended up, and sets the kernel's window size
    so the TUI fills the screen. No answer (nothing attached) leaves the size alone.
    """
    if not os.isatty(fd) or os.get_terminal_size(fd) != os.terminal_size((0, 0)):
        return None
    old = termios.tcgetattr(fd)
    try:
        tty_mod.setraw(fd)
        os.write(fd, b"\x1b7\x1b[999;999H\x1b[6n\x1b8")
        reply = b""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0 and not reply.endswith(b"R"):
            if not select.select([fd], [], [], left)[0]:
                break
            reply += os.read(fd, 32)
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, old)
    size = parse_cpr(reply)
    if size:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
    return size


def run(tty: str = "", out: TextIO = sys.stdout, inp: TextIO = sys.stdin) -> int:
    """Boot-time entry point: config, banner, then the UI on this terminal."""
    boottimes.mark("python-started")
    cmdline = Path("/proc/cmdline")
    spec = StickSpec.from_cmdline(cmdline.read_text(encoding="utf-8", errors="replace"))
    copied = RUN_DIR / STICK_COPY
    # After a restart the stick may be gone (it may be pulled once the station is up): keep the
    # configuration this boot started with instead of waiting for it again.
    stick = find_stick(spec, wait_s=0 if copied.exists() else STICK_WAIT_S)
    if stick:
        stick_config, problem = copy_stick_config(stick)
    else:
        stick_config, problem = (copied if copied.exists() else None), ""
    cfg = load_station_config(cmdline, IMAGE_CONFIG, stick_config, (problem,) if problem else ())
    print(banner(cfg, tty, stick, read_uptime()), file=out, flush=True)
    boottimes.mark("banner")
    with contextlib.suppress(OSError, termios.error, ValueError):
        size_serial_terminal(inp.fileno())
    if cfg.errors:
        print(describe_errors(cfg), file=out, flush=True)
        time.sleep(5)  # long enough to read before the screen is taken over
    if tty and tty != cfg.console:
        boottimes.startup_done()
        return run_log_view(cfg, out)
    entry = tui_entry()
    if cfg.unattended and (cfg.ui == "headless" or entry is None):
        from wipestation.conveyor import run_headless

        boottimes.startup_done()
        return run_headless(cfg, Tee(out, STATION_LOG))
    if entry is not None:
        return entry(cfg)  # the screen calls startup_done once it is up
    boottimes.startup_done()
    return run_list_console(cfg, out, inp)


#: What the controlling terminal does, as lines (the TUI logs here too; see cli/tui_cmd.py).
STATION_LOG = RUN_DIR / "station.log"


class Tee:
    """Writes to the terminal and appends to the station log, so other terminals can follow."""

    def __init__(self, out: TextIO, log_path: Path) -> None:
        self.out, self.log_path = out, log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, text: str) -> int:
        with contextlib.suppress(OSError), self.log_path.open("a", encoding="utf-8") as f:
            f.write(text)
        return self.out.write(text)

    def flush(self) -> None:
        self.out.flush()


def run_log_view(cfg: StationConfig, out: TextIO, log_path: Path = STATION_LOG) -> int:
    """A second terminal never controls jobs: it follows the controlling terminal's log."""
    out.write(f"This terminal shows the station log; the station is operated on {cfg.console}.\n")
    out.flush()
    pos = 0
    while True:
        try:
            with log_path.open(encoding="utf-8", errors="replace") as f:
                f.seek(pos if pos <= log_path.stat().st_size else 0)
                chunk = f.read()
                pos = f.tell()
        except OSError:
            chunk = ""
        if chunk:
            out.write(chunk)
            out.flush()
        else:
            time.sleep(0.5)
