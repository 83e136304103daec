"""What a booted station runs on each of its terminals (tty1, ttyS0): ``wipestation station``.

Boot-time wiring only: it loads the station configuration (the image's default file,
``wipestation.toml`` from the boot stick, then the kernel command line), says what is wrong with
it in plain words, prints the boot banner ``WIPESTATION READY <version>`` (tests and operators
wait for that line), and hands the terminal to its front end: the station screen
(``supervisor.py``), the headless conveyor (``conveyor.py``), or — on every terminal but the
controlling one — the station log.

The boot stick is found by the partition UUID the bootloader put on the command line
(``wipestation.boot=PARTUUID=…``), else by its label. It is mounted read-only just long enough to
copy its ``wipestation.toml``, then unmounted: the station never keeps the stick mounted, and only
the report writer mounts it read-write, while it writes. A stick that was named but has not
appeared is waited for visibly; after ``STICK_WAIT_S`` the station comes up without it, says so,
holds unattended wiping back (the stick's exclusions may be on it), and restarts with the
stick's settings when it arrives. Nothing here ever writes to a drive.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import shutil
import struct
import sys
import termios
import threading
import time
import tomllib
import tty as tty_mod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from wipestation import (
    __version__,
    boottimes,
    config,
    leases,
    netconfig,
    paths,
    resolvconf,
    timesync,
)
from wipestation.config import StationConfig
from wipestation.custody.manifest import MANIFESTS, MAX_BYTES
from wipestation.discovery.partuuid import PartitionFinder, PartitionScan
from wipestation.discovery.safety import BOOT_LABEL
from wipestation.errors import ToolError, ToolFailedError
from wipestation.planning import catalogue
from wipestation.tools import mount, runner

READY_MARKER = "WIPESTATION READY"
#: How long the start waits, visibly, for the boot stick named on the command line (USB disks
#: appear seconds into a boot, later behind hubs); a later arrival restarts the station.
STICK_WAIT_S = 8.0
POLL_S = 0.25


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

    @property
    def named(self) -> bool:
        """Whether the command line names the stick (then it is waited for, never forgotten)."""
        return bool(self.partuuid)

    def candidates(self, dev_disk: Path = Path("/dev/disk")) -> list[Path]:
        """Device links to try, strongest first."""
        out = [dev_disk / "by-partuuid" / self.partuuid] if self.partuuid else []
        return [*out, dev_disk / "by-label" / self.label]

    def arrived(self) -> bool:
        """The stick is here now, or another terminal's instance has already copied its
        settings (both instances wait for it; the first to see it copies them)."""
        return self.present() is not None or paths.STICK_COPY.exists()

    def exact(self, dev_disk: Path = Path("/dev/disk")) -> Path | None:
        """The named partition's udev link, never the label's."""
        link = dev_disk / "by-partuuid" / self.partuuid
        return link.resolve() if self.partuuid and link.exists() else None

    def present(self, dev_disk: Path = Path("/dev/disk")) -> Path | None:
        for link in self.candidates(dev_disk):
            if link.exists():
                return link.resolve()
        return None


def find_stick(
    spec: StickSpec,
    dev_disk: Path = Path("/dev/disk"),
    wait_s: float = STICK_WAIT_S,
    sleep: Callable[[float], None] = time.sleep,
    tell: Callable[[float], None] = lambda waited: None,
    scan: PartitionScan | None = None,
) -> Path | None:
    """The boot stick's partition, waiting up to ``wait_s`` only when a PARTUUID was given;
    ``tell(seconds waited)`` about every second meanwhile, so the wait is never silent. A
    ``scan`` finds it before udev's link exists (discovery/partuuid.py says why)."""
    start = time.monotonic()
    told = 0
    while True:
        waited = time.monotonic() - start
        over = not spec.named or waited >= wait_s
        found = spec.exact(dev_disk) or (scan.found if scan else None)
        if found or over:  # the label only once the named partition had its wait
            return found or spec.present(dev_disk)
        if int(waited) > told or not told:
            told = max(1, int(waited))
            tell(waited)
        sleep(POLL_S)


def wait_for_stick(spec: StickSpec, wait_s: float, out: TextIO) -> Path | None:
    """``find_stick`` on the terminal, with the kernel's partitions searched beside udev's
    links while it waits."""
    scan = PartitionScan(PartitionFinder(spec.partuuid)).start() if spec.named and wait_s else None
    try:
        return find_stick(
            spec, wait_s=wait_s, tell=lambda s: _tell(out, waiting_line(spec, s)), scan=scan
        )
    finally:
        if scan:
            scan.stop()


def waiting_line(spec: StickSpec, waited: float) -> str:
    return f"waiting for the boot stick (PARTUUID={spec.partuuid}) ... {waited:.0f} s"


@contextlib.contextmanager
def mounted_read_only(device: Path, run_dir: Path = paths.RUN_DIR) -> Iterator[Path]:
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
            mount.unmount(where)
            with contextlib.suppress(OSError):
                where.rmdir()


def mount_fat_read_only(device: Path, where: Path) -> None:
    """The kernel's vfat; FUSE's fusefat, read-only, on a (test host) kernel without it."""
    opts = "nodev,nosuid,noexec,utf8,shortname=mixed"
    done = mount.mount(str(device), where, "vfat", opts, read_only=True)
    if done.returncode != 0:
        argv = mount.build_mount_argv(str(device), where, "vfat", opts, read_only=True)
        raise ToolFailedError(argv, done.returncode, runner.tail(done.stderr or done.stdout))


def copy_stick_config(device: Path, run_dir: Path = paths.RUN_DIR) -> tuple[Path | None, str]:
    """Copy ``wipestation.toml`` off the stick (an empty file when it has none), so a restarted
    station keeps this boot's settings after the stick is pulled; and the stick's manifests
    (``*.csv``, ``manifests/*.csv``), which a relative ``manifest`` setting names
    (``config.manifest_path``). Returns (copy, problem).

    The copy appears whole or not at all (both terminals' instances may copy at once)."""
    dest = run_dir / paths.STICK_COPY.name
    part = dest.with_name(f".{dest.name}.{os.getpid()}")
    try:
        with mounted_read_only(device, run_dir) as root:
            src = root / "wipestation.toml"
            if src.exists():
                shutil.copyfile(src, part)
            else:
                part.write_text("")
            _copy_manifests(root, run_dir)
            _copy_store_files(part, root, run_dir)
        part.replace(dest)
        return dest, ""
    except (ToolError, OSError) as e:
        return None, f"boot stick {device}: cannot read wipestation.toml ({e}); file ignored"


def _listing(directory: Path) -> list[Path]:
    return list(directory.iterdir()) if directory.is_dir() else []


def _copy_manifests(root: Path, run_dir: Path) -> None:
    """Each manifest whole (a temporary name, then renamed) beside the settings' copy; one
    larger than a manifest can be (``MAX_BYTES``) stays on the stick and is reported missing."""
    for src in [*root.iterdir(), *_listing(root / MANIFESTS)]:
        if src.suffix.lower() != ".csv" or not src.is_file() or src.stat().st_size > MAX_BYTES:
            continue
        dest = run_dir / src.relative_to(root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(f".{dest.name}.{os.getpid()}")
        shutil.copyfile(src, part)
        part.replace(dest)


#: settings that name a file which a relative path finds in the run directory
#: (``config.manifest_path``): the store's CA and its credentials file
STORE_FILES = ("store_ca", "store_credentials_file")


def _copy_store_files(settings: Path, root: Path, run_dir: Path) -> None:
    """The files the stick's settings name relatively for the object store, copied beside them
    (readable by root only: a credentials file holds the store's secret). One missing is left
    to the config's own check, which names it."""
    try:
        data = tomllib.loads(settings.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return  # the config's load says what is wrong with the file
    named = data.get("station", data)  # as config.load reads it
    if not isinstance(named, dict):
        return
    for rel in filter(None, (_inside(named.get(key)) for key in STORE_FILES)):
        src, dest = root / rel, run_dir / rel
        if src.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            part = dest.with_name(f".{dest.name}.{os.getpid()}")
            part.touch(mode=0o600)  # root-only before a byte of it is written
            shutil.copyfile(src, part)
            part.replace(dest)


def _inside(value: object) -> Path | None:
    """A relative path that stays inside the stick, or None."""
    if not isinstance(value, str) or not value:
        return None
    rel = Path(value)
    return None if rel.is_absolute() or ".." in rel.parts else rel


def load_station_config(
    cmdline_path: Path = Path("/proc/cmdline"),
    image_config: Path = paths.IMAGE_CONFIG,
    stick_config: Path | None = None,
    problems: tuple[str, ...] = (),
    net: netconfig.NetConfig = netconfig.NOT_NAMED,
) -> StationConfig:
    """Defaults < image file < stick file < network file (``wipestation.config=``) < kernel
    command line; never raises."""
    files = tuple(p for p in (image_config, stick_config, net.copy) if p is not None)
    cfg = config.load(cmdline_path, files, known_method=catalogue.known)
    cfg = replace(cfg, errors=(*problems, *cfg.errors)) if problems else cfg
    return with_network(cfg, net, stick_config)


def with_network(
    cfg: StationConfig, net: netconfig.NetConfig, stick_config: Path | None
) -> StationConfig:
    """A network config that could not be had holds unattended wiping back (its exclusions
    may be in it) and says why; one that came says so where it overrides the stick's file."""
    if net.failed:
        off = "; unattended wiping is off" if cfg.unattended else ""
        return replace(cfg, unattended=False, errors=(f"{net.problem}{off}", *cfg.errors))
    both = netconfig.overridden(stick_config, net.copy) if net.copy and stick_config else []
    if both:
        note = f"station config from {net.url} overrides the boot stick's wipestation.toml: "
        return replace(cfg, errors=(*cfg.errors, note + ", ".join(both)))
    return cfg


def hold_for_stick(cfg: StationConfig, spec: StickSpec) -> StationConfig:
    """The stick was named but is not here yet: no unattended wiping until its settings are
    read (its exclusions may be on it), and say so."""
    note = (
        f"the boot stick (PARTUUID={spec.partuuid}) has not appeared yet: its settings "
        "(wipestation.toml) apply when it does"
        + ("; unattended wiping waits for it" if cfg.unattended else "")
    )
    return replace(cfg, unattended=False, errors=(note, *cfg.errors))


def banner(cfg: StationConfig, tty: str, stick: Path | None, uptime: float | None = None,
           spec: StickSpec = StickSpec()) -> str:  # fmt: skip
    if stick:
        where = f"boot stick {stick}"
    elif spec.named:
        where = f"boot stick PARTUUID={spec.partuuid} not found yet (waiting for it)"
    else:
        where = "no boot stick (network or -kernel boot)"
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
    """Boot-time entry point: config, banner, then the front end on this terminal. Returning
    restarts the station (systemd), which re-reads the settings."""
    boottimes.mark("python-started")
    cmdline = Path("/proc/cmdline")
    text = cmdline.read_text(encoding="utf-8", errors="replace")
    spec = StickSpec.from_cmdline(text)
    waits = spec.named and spec.present() is None or netconfig.NetSource.from_cmdline(text).named
    if waits and "wipestation.ui=headless" not in text:
        threading.Thread(target=warm_screen, name="warm-screen", daemon=True).start()
    if on_station():
        resolvconf.start_following(leases.read)  # a config URL may name its host
    stick, cfg, read = boot_config(spec, cmdline, out)
    start_clock(cfg, tty)
    print(banner(cfg, tty, stick, read_uptime(), spec), file=out, flush=True)
    boottimes.mark("banner")
    with contextlib.suppress(OSError, termios.error, ValueError):
        size_serial_terminal(inp.fileno())
    if cfg.errors:
        print(describe_errors(cfg), file=out, flush=True)
        time.sleep(5)  # long enough to read before the screen is taken over
    # Held for a stick that is not here: restart when it (or another terminal's copy of its
    # settings) arrives. A stick that is here but unreadable is shown, not waited for.
    pending = spec if spec.named and stick is None and not read else None
    if tty and tty != cfg.console:
        boottimes.startup_done()
        return run_log_view(cfg, out, pending=pending)
    return run_front_end(cfg, out, pending)


def on_station(env: Mapping[str, str] = os.environ) -> bool:
    """Run by the image's station unit (it names the terminal in ``WIPESTATION_TTY``): only
    there may the station set the clock and write /etc/resolv.conf, never on a host where
    someone runs ``wipestation station`` by hand (its records then say "system clock")."""
    return bool(env.get("WIPESTATION_TTY"))


def start_clock(cfg: StationConfig, tty: str, env: Mapping[str, str] = os.environ) -> bool:
    """Set the clock from NTP (timesync.py) in its own thread, from the controlling terminal's
    station (the one that signs records): nothing but a record waits for it."""
    if not on_station(env) or (tty and tty != cfg.console):
        return False
    timesync.BOOT.start(cfg.ntp)
    return True


def warm_screen() -> None:
    """Load the station screen's modules while the boot stick is awaited: USB enumeration and
    udev take ~5 s of a stick boot under QEMU TCG, and importing Textual ~2.5 s of what follows
    (issue 18). The front end then finds them loaded; a failure shows up there, not here."""
    with contextlib.suppress(Exception):
        import wipestation.tui.app  # noqa: F401


def boot_config(
    spec: StickSpec, cmdline: Path, out: TextIO
) -> tuple[Path | None, StationConfig, bool]:
    """The boot stick (waited for visibly when named), the configuration it completes, and
    whether its settings were read (now, or earlier in this boot)."""
    copied = paths.STICK_COPY
    # After a restart the stick may be gone (it may be pulled once the station is up): keep the
    # configuration this boot started with instead of waiting for it again.
    wait = 0 if copied.exists() else STICK_WAIT_S
    stick = wait_for_stick(spec, wait, out)
    problem = ""
    if stick:
        boottimes.mark(f"stick-found {stick}")
        stick_config, problem = copy_stick_config(stick)
        boottimes.mark("stick-read")
    else:
        stick_config = copied if copied.exists() else None
    net = netconfig.boot_copy(_net_source(cmdline), tell=lambda line: _tell(out, line))
    problems = (problem,) * bool(problem)
    cfg = load_station_config(cmdline, paths.IMAGE_CONFIG, stick_config, problems, net)
    if spec.named and stick_config is None:  # not here yet, or unreadable: settings unknown
        cfg = hold_for_stick(cfg, spec)
    return stick, cfg, stick_config is not None


def _net_source(cmdline: Path) -> netconfig.NetSource:
    try:
        return netconfig.NetSource.from_cmdline(cmdline.read_text(errors="replace"))
    except OSError:
        return netconfig.NetSource()


def _tell(out: TextIO, line: str) -> None:
    print(line, file=out, flush=True)


def run_front_end(cfg: StationConfig, out: TextIO, pending: StickSpec | None) -> int:
    """The controlling terminal: the headless conveyor, or the station screen."""
    if cfg.unattended and cfg.ui == "headless":
        from wipestation.assembly import build_services
        from wipestation.conveyor import run_headless

        boottimes.startup_done()
        return run_headless(build_services(cfg), Tee(out, paths.STATION_LOG))
    from wipestation import supervisor

    arrived = pending.arrived if pending else None
    supervisor.run_station(cfg, extra={"stick_arrived": arrived})  # startup_done once it is up
    return 0


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


def run_log_view(
    cfg: StationConfig,
    out: TextIO,
    log_path: Path = paths.STATION_LOG,
    pending: StickSpec | None = None,
) -> int:
    """A second terminal never controls jobs: it follows the controlling terminal's log. When
    the boot stick it waits for arrives, it returns: the restart reads the stick's settings (it
    may be the controlling terminal then)."""
    out.write(f"This terminal shows the station log; the station is operated on {cfg.console}.\n")
    out.flush()
    pos = 0
    while pending is None or not pending.arrived():
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
    out.write("The boot stick arrived: restarting with its settings.\n")
    out.flush()
    return 0
