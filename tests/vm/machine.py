"""``Machine``: one QEMU guest running the Wipestation image, as a context manager.

    with Machine(Boot.kernel(image), rack=small_rack()) as m:
        m.wait_for_console_text(r"WIPESTATION READY", timeout=120)
        m.device_del("dev-nvme0001")

Every machine gets a unique work directory (disks, serial log, QMP socket, QEMU's stderr). QEMU
runs with TCG by default (KVM on the project machines cannot boot a stock kernel), ``-nodefaults``
and ``-no-reboot``. Leaving the block always kills QEMU; the work directory is deleted unless the
block raised (or ``keep=True``), and then its path is printed so the serial log can be read.

The guest's ttyS0 is the station console (logged to ``serial.log``, input through
``send_console``); ttyS1 is the label printer when the rack has one; ttyS2 is a spare port logged
to ``probe.log`` that tests may write to from ``extra_files`` units without disturbing the TUI.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tests.vm import cpio
from tests.vm.hostcheck import BOOT_FAT, Stick
from tests.vm.rack import (
    Disk,
    Prepared,
    Rack,
    ReportStick,
    blockdev_args,
    device_props,
    fill_file,
    make_fat_stick,
    prepare,
    put_files,
)

OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
#: UEFI firmware by Boot.firmware name: its code (read-only) and the variable store each machine
#: gets a copy of. "ovmf-secboot": Secure Boot enforced, Microsoft's keys enrolled (issue 21).
UEFI = {
    "ovmf": (OVMF_CODE, OVMF_VARS),
    "ovmf-secboot": (
        Path("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"),
        Path("/usr/share/OVMF/OVMF_VARS_4M.ms.fd"),
    ),
}
DEFAULT_APPEND = "console=ttyS0,115200 libata.allow_tpm=1 quiet loglevel=3 panic=-1"
T = TypeVar("T")


class MachineError(AssertionError):
    """Something awaited did not happen; the message names it and where the logs are."""


@dataclass(frozen=True)
class Image:
    """The build outputs a machine boots from (``make image``)."""

    kernel: Path
    initrd: Path
    usb: Path

    @classmethod
    def from_build(cls, build: Path) -> Image:
        return cls(build / "vmlinuz", build / "wipestation.initrd", build / "wipestation.img")

    def write_initrd(self, dest: Path, extra: bytes) -> None:
        """The image's initrd with one more (uncompressed) archive that wins over the app and
        config layers: it goes just before the base, which the kernel must unpack last (LZ4,
        see image/build.sh), and which never has a file at a path the tests add."""
        layers = [Path(p) for p in Path(f"{self.initrd}.layers").read_text().split()]
        with open(dest, "wb") as f:
            for layer in (*layers[:-1], None):
                data = extra if layer is None else layer.read_bytes()
                # Each archive starts 4-byte aligned; the kernel skips the zeros between them.
                f.write(data + b"\0" * (-len(data) % 4))
            f.write(layers[-1].read_bytes())  # nothing after it (image/build.sh)

    @property
    def partuuid(self) -> str:
        """The USB image's partition UUID (what its GRUB passes as ``wipestation.boot``)."""
        return Path(f"{self.usb}.partuuid").read_text().strip()


@dataclass(frozen=True)
class Boot:
    """How the guest boots: ``kernel`` (-kernel/-initrd/-append) or ``usb`` (the stick image).

    ``firmware`` is ``seabios``, ``ovmf`` or ``ovmf-secboot`` (Secure Boot enforced). A ``usb``
    boot attaches a private sparse copy of the image, so the guest may write reports to it and
    the build output stays untouched.
    """

    image: Image
    mode: str = "kernel"
    firmware: str = "seabios"
    append: str = DEFAULT_APPEND
    #: kernel boots only: files added to the initramfs as one more cpio layer, path → content.
    extra_files: dict[str, str | bytes] = field(default_factory=dict)
    #: also attach the (copied) USB image as a non-boot stick on a kernel boot
    attach_stick: bool = False
    #: files put on the stick copy's FAT partition before boot, e.g. {"wipestation.toml": "..."}
    stick_files: dict[str, str] = field(default_factory=dict)

    @classmethod
    def kernel(cls, image: Image, append_extra: str = "", **kw: Any) -> Boot:
        return cls(image, "kernel", append=f"{DEFAULT_APPEND} {append_extra}".strip(), **kw)

    @classmethod
    def usb(cls, image: Image, firmware: str = "seabios", **kw: Any) -> Boot:
        return cls(image, "usb", firmware=firmware, **kw)


#: Where the boot stick's FAT partition starts (GRUB's boot code lies before it).
BOOT_FAT_OFFSET = 1024 * 1024


def head_sha256(path: Path, size: int) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read(size)).hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def tpm_args(control_socket: Path) -> list[str]:
    """QEMU's TPM 2.0 (TIS interface) backed by a software TPM listening on ``control_socket``
    (``swtpm socket --tpm2 --ctrl type=unixio,path=...``; the caller runs it)."""
    return [
        "-chardev",
        f"socket,id=chrtpm,path={control_socket}",
        "-tpmdev",
        "emulator,id=tpm0,chardev=chrtpm",
        "-device",
        "tpm-tis,tpmdev=tpm0",
    ]


def accel_from_env() -> str:
    return os.environ.get("ACCEL", "tcg")


class Machine:
    """A running guest. Create it with ``with``; see the module docstring."""

    def __init__(
        self,
        boot: Boot,
        rack: Rack | None = None,
        *,
        name: str = "vm",
        accel: str | None = None,
        memory_mib: int = 1024,
        smp: int = 2,
        keep: bool = False,
        workdir: Path | None = None,
        console: str = "socket",
        reuse: bool = False,
        tpm_socket: Path | None = None,
        netdev: str = "",
    ) -> None:
        self.boot = boot
        self.rack = rack or Rack()
        self.name = name
        self.accel = accel or accel_from_env()
        self.memory_mib = memory_mib
        self.smp = smp
        self.keep = keep
        self._given_dir = workdir
        self.dir = workdir or Path()
        #: "socket" (logged, scriptable) or "stdio" (``make demo``: the user's terminal)
        self.console = console
        #: keep disks and report stick already in ``workdir`` (a second boot of the same rack)
        self.reuse = reuse
        #: a TPM 2.0: the control socket of a running ``swtpm socket --tpm2`` (``tpm_args``)
        self.tpm_socket = tpm_socket
        #: a virtio-net NIC on this QEMU -netdev backend (e.g. "user,restrict=on"); none if empty
        self.netdev = netdev
        self.proc: subprocess.Popen[bytes] | None = None
        self.prepared = Prepared()
        self.started_at = 0.0
        self._qmp: socket.socket | None = None
        self._qmp_buf = b""
        self.events: list[dict[str, Any]] = []
        self._console_pos = 0
        self._console: socket.socket | None = None
        #: sha256 of the attached boot stick copy as it was handed to QEMU (tests compare it)
        self.stick_sha256_before = ""
        self.stick_head_before = ""
        self.stick_files_before: dict[str, str] = {}

    # ---- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Machine:
        if self._given_dir:
            self.dir = self._given_dir
            self.dir.mkdir(parents=True, exist_ok=True)
        else:
            base = os.environ.get("WIPESTATION_VM_TMP") or None
            self.dir = Path(tempfile.mkdtemp(prefix=f"wipestation-{self.name}-", dir=base))
        try:
            self.start()
        except BaseException:
            self._stop()
            self._report_kept()
            raise
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._stop()
        if exc_type is None and not self.keep and not self._given_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        elif exc_type is not None:
            self._report_kept()

    def _report_kept(self) -> None:
        print(f"\nVM artifacts kept in {self.dir} (serial.log, qemu.log, disks)")

    def command(self) -> list[str]:
        """The QEMU command line (the rack must have been prepared)."""
        d = self.dir
        # Secure Boot firmware keeps its variables writable from SMM only (else the OS could
        # change the keys): SMM on, and the flash "secure".
        machine = "q35,smm=on" if self.boot.firmware == "ovmf-secboot" else "q35"
        args = [
            "qemu-system-x86_64",
            "-machine",
            f"{machine},accel={self.accel}",
            "-cpu",
            "max" if self.accel == "tcg" else "host",
            "-smp",
            str(self.smp),
            "-m",
            str(self.memory_mib),
            "-nodefaults",
            "-no-reboot",
            "-display",
            "none",
            "-monitor",
            "none",
            "-qmp",
            f"unix:{d / 'qmp.sock'},server=on,wait=off",
            *self._console_args(),
            "-serial",
            f"file:{self.prepared.printer_out}" if self.prepared.printer_out else "null",
            "-serial",
            f"file:{d / 'probe.log'}",
        ]
        if self.boot.firmware == "ovmf-secboot":
            args += ["-global", "driver=cfi.pflash01,property=secure,value=on"]
        if self.boot.firmware in UEFI:
            code, variables = UEFI[self.boot.firmware]
            shutil.copyfile(variables, d / "OVMF_VARS.fd")
            args += [
                "-drive",
                f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
                "-drive",
                f"if=pflash,format=raw,unit=1,file={d / 'OVMF_VARS.fd'}",
            ]
        if self.boot.mode == "kernel":
            initrd = self.boot.image.initrd
            if self.boot.extra_files:
                initrd = d / "initrd"
                self.boot.image.write_initrd(initrd, cpio.newc(self.boot.extra_files))
            args += ["-kernel", str(self.boot.image.kernel), "-initrd", str(initrd)]
            args += ["-append", self.boot.append]
        args += self.prepared.args
        if self.tpm_socket:
            args += tpm_args(self.tpm_socket)
        if self.netdev:
            args += ["-netdev", f"{self.netdev},id=nic0", "-device", "virtio-net-pci,netdev=nic0"]
        if self.boot.mode == "usb" or self.boot.attach_stick:
            stick = d / "boot-stick.img"
            # A kept work dir (make demo) keeps its stick, and its reports, until the image changes.
            if not stick.exists() or stick.stat().st_mtime < self.boot.image.usb.stat().st_mtime:
                subprocess.run(
                    ["cp", "--sparse=always", str(self.boot.image.usb), str(stick)], check=True
                )
            self._put_on_stick(stick)
            self._remember_stick(stick)
            boot = ",bootindex=0" if self.boot.mode == "usb" else ""
            args += blockdev_args("bootstick", stick)
            args += [
                "-device",
                f"usb-storage,id=dev-bootstick,bus=xhci.0,drive=bootstick,"
                f"serial=WIPESTATIONSTICK,removable=on{boot}",
            ]
        return args

    def _put_on_stick(self, stick: Path, files: dict[str, str] | None = None) -> None:
        """``files`` (default ``boot.stick_files``) onto the stick copy's FAT partition."""
        env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
        for name, content in (self.boot.stick_files if files is None else files).items():
            src = self.dir / f"stick-file-{Path(name).name}"
            src.write_text(content)
            subprocess.run(
                ["mcopy", "-o", "-i", f"{stick}@@1M", str(src), f"::/{name}"], check=True, env=env
            )

    def _console_args(self) -> list[str]:
        log = f"logfile={self.dir / 'serial.log'}"
        if self.console == "stdio":
            return [
                "-chardev",
                f"stdio,id=console,mux=on,signal=off,{log}",
                "-serial",
                "chardev:console",
                "-mon",
                "chardev=console,mode=readline",
            ]
        sock = f"socket,id=console,path={self.dir / 'console.sock'},server=on,wait=off"
        return ["-chardev", f"{sock},{log}", "-serial", "chardev:console"]

    def prepare(self, reuse: bool = False) -> list[str]:
        """Create the rack's files in the work dir and return the QEMU command line (for a
        foreground run like ``make demo``; ``with Machine(...)`` does this itself)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.prepared = prepare(self.rack, self.dir, reuse)
        return self.command()

    def start(self) -> None:
        self.prepared = prepare(self.rack, self.dir, self.reuse)
        argv = self.command()
        (self.dir / "qemu.cmd").write_text(" ".join(argv) + "\n")
        self.started_at = time.monotonic()
        with open(self.dir / "qemu.log", "wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self._qmp = self._connect("qmp.sock")
        self._qmp_read()  # greeting
        self.qmp("qmp_capabilities")

    def _connect(self, name: str, timeout: float = 10) -> socket.socket:
        path = str(self.dir / name)

        def attempt() -> socket.socket | None:
            self._check_alive()
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
            except OSError:
                s.close()
                return None
            return s

        return self.retry(attempt, timeout, f"QEMU socket {name}")

    def _stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self.qmp("quit")
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for s in (self._qmp, self._console):
            if s:
                s.close()
        self._qmp = self._console = None

    def _check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise MachineError(
                f"QEMU exited with status {self.proc.returncode}; see {self.dir}/qemu.log:\n"
                + self.tail("qemu.log")
            )

    def wait_exit(self, timeout: float) -> int:
        """Wait for the guest to power off (QEMU exits thanks to -no-reboot)."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise MachineError(
                f"guest did not power off within {timeout:g} s; console tail:\n"
                + self.tail("serial.log")
            ) from None

    # ---- console -----------------------------------------------------------------------------

    @property
    def console_log(self) -> Path:
        return self.dir / "serial.log"

    def console_text(self) -> str:
        try:
            return self.console_log.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def tail(self, name: str = "serial.log", chars: int = 3000) -> str:
        try:
            data = (self.dir / name).read_bytes()[-chars:]
        except FileNotFoundError:
            return "(empty)"
        return re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", data.decode("utf-8", "replace"))

    def wait_for_console_text(
        self, regex: str, timeout: float, *, log: str = "serial.log", from_start: bool = False
    ) -> re.Match[str]:
        """Wait until ``regex`` appears in the console output (after the last match, unless
        ``from_start``); returns the match. ``log`` may name ``probe.log`` or ``printer.out``."""
        pattern = re.compile(regex, re.MULTILINE)
        start = 0 if from_start or log != "serial.log" else self._console_pos

        def attempt() -> re.Match[str] | None:
            path = self.dir / log
            text = path.read_bytes().decode("utf-8", "replace") if path.exists() else ""
            m = pattern.search(text, start)
            if m and log == "serial.log":
                self._console_pos = m.end()
            if not m:
                self._check_alive()
            return m

        return self.retry(attempt, timeout, f"/{regex}/ in {log}", log=log)

    def send_console(self, text: str | bytes) -> None:
        """Type on the serial console (ttyS0)."""
        if self._console is None:
            self._console = self._connect("console.sock")
            # The log file has everything; read the socket too, or QEMU stops the guest's UART
            # as soon as the socket's buffer is full and the screen freezes mid-frame.
            threading.Thread(target=self._drain_console, args=(self._console,), daemon=True).start()
        self._console.sendall(text.encode() if isinstance(text, str) else text)

    @staticmethod
    def _drain_console(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while sock.recv(65536):
                pass

    def seconds_since_start(self) -> float:
        return time.monotonic() - self.started_at

    def retry(
        self, fn: Callable[[], T | None], timeout: float, what: str, log: str = "serial.log"
    ) -> T:
        """Call ``fn`` until it returns something other than None, or fail naming ``what``."""
        deadline = time.monotonic() + timeout
        while True:
            result = fn()
            if result is not None:
                return result
            if time.monotonic() > deadline:
                raise MachineError(
                    f"timed out after {timeout:g} s waiting for {what}; "
                    f"artifacts in {self.dir}; {log} tail:\n{self.tail(log)}"
                )
            time.sleep(0.2)

    # ---- QMP ---------------------------------------------------------------------------------

    def _qmp_read(self) -> dict[str, Any]:
        assert self._qmp is not None
        while b"\n" not in self._qmp_buf:
            chunk = self._qmp.recv(65536)
            if not chunk:
                raise MachineError("QMP connection closed (QEMU exited?)")
            self._qmp_buf += chunk
        line, self._qmp_buf = self._qmp_buf.split(b"\n", 1)
        return json.loads(line)

    def qmp(self, command: str, **arguments: Any) -> Any:
        """Run a QMP command and return its ``return`` value; errors raise MachineError."""
        assert self._qmp is not None, "machine not started"
        msg: dict[str, Any] = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self._qmp.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._qmp_read()
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise MachineError(f"QMP {command} {arguments}: {reply['error']}")
            return reply.get("return")

    def wait_for_event(self, name: str, timeout: float = 10, **data: Any) -> dict[str, Any]:
        """Wait for a QMP event (e.g. DEVICE_DELETED) whose data contains ``data``."""
        assert self._qmp is not None

        def match() -> dict[str, Any] | None:
            for ev in self.events:
                if ev["event"] == name and data.items() <= ev.get("data", {}).items():
                    self.events.remove(ev)
                    return ev
            self._qmp.settimeout(0.2)
            try:
                ev = self._qmp_read()
                if "event" in ev:
                    self.events.append(ev)
            except TimeoutError:
                pass
            finally:
                self._qmp.settimeout(None)
            return None

        return self.retry(match, timeout, f"QMP event {name} {data}")

    def device_del(self, device_id: str, wait: bool = True) -> None:
        """Unplug a device (a rack disk's id is ``dev-<disk id>``), by default until it is gone."""
        self.qmp("device_del", id=device_id)
        if wait:
            self.wait_for_event("DEVICE_DELETED", device=device_id)

    def device_add(self, **props: str) -> None:
        self.qmp("device_add", **props)

    def blockdev_add(self, **spec: Any) -> None:
        self.qmp("blockdev-add", **spec)

    def hot_add(self, disk: Disk) -> Path:
        """Plug a new disk in (nvme/virtio on a spare root port, scsi on vs0, usb on xHCI)."""
        path = self.dir / f"{disk.id}.img"
        fill_file(path, disk.size_mib, disk.fill)
        self.blockdev_add(
            driver="raw",
            **{"node-name": disk.id, "discard": "unmap"},
            file={"driver": "file", "filename": str(path), "discard": "unmap"},
        )
        if disk.kind in ("nvme", "virtio"):
            if not self.prepared.free_ports:
                raise MachineError("no spare PCIe root port left: raise Rack.spare_ports")
            bus = self.prepared.free_ports.pop(0)
        else:
            bus = {"scsi": "vs0.0", "usb": "xhci.0"}.get(disk.kind, "")
            if not bus:
                raise MachineError(f"{disk.kind} disks cannot be hot-plugged in this rack")
        self.device_add(**device_props(disk, bus))
        self.prepared.files[disk.id] = path
        return path

    def hot_add_report_stick(self, stick: ReportStick) -> Path:
        """Plug a fresh FAT report stick into the xHCI (as the rack's stick would be)."""
        path = self.dir / "report-stick.img"
        make_fat_stick(path, stick.label, stick.size_mib)
        put_files(path, stick.files, self.dir)
        self.blockdev_add(
            driver="raw",
            **{"node-name": "reportstick"},
            file={"driver": "file", "filename": str(path)},
        )
        self.device_add(
            driver="usb-storage",
            id="dev-reportstick",
            bus="xhci.0",
            drive="reportstick",
            serial=stick.serial,
            removable="on",
        )
        self.prepared.report_stick = path
        return path

    def prepare_boot_stick(self, files: dict[str, str] | None = None) -> Path:
        """A private copy of the image's USB stick in the work dir, with ``files`` (default
        ``boot.stick_files``) on its FAT partition, for ``hot_add_boot_stick``. Records
        ``stick_sha256_before`` like a stick attached at boot."""
        stick = self.dir / "boot-stick.img"
        subprocess.run(["cp", "--sparse=always", str(self.boot.image.usb), str(stick)], check=True)
        self._put_on_stick(stick, files)
        self._remember_stick(stick)
        return stick

    def _remember_stick(self, stick: Path) -> None:
        """The boot stick as handed to QEMU: its boot code (before the FAT) and every file."""
        self.stick_sha256_before = file_sha256(stick)
        self.stick_head_before = head_sha256(stick, BOOT_FAT_OFFSET)
        self.stick_files_before = Stick(stick, BOOT_FAT).snapshot()

    def hot_add_boot_stick(self, stick: Path | None = None) -> Path:
        """Plug the boot stick into the xHCI, as a stick that enumerates late would appear:
        ``stick`` from ``prepare_boot_stick`` (made now when None)."""
        stick = stick or self.prepare_boot_stick()
        self.blockdev_add(
            driver="raw",
            **{"node-name": "bootstick"},
            file={"driver": "file", "filename": str(stick)},
        )
        self.device_add(
            driver="usb-storage",
            id="dev-bootstick",
            bus="xhci.0",
            drive="bootstick",
            serial="WIPESTATIONSTICK",
            removable="on",
        )
        return stick

    def bytes_written(self, device_id: str) -> int:
        """What the guest has written to a device so far, as QEMU counts it (query-blockstats
        ``wr_bytes``; ``device_id`` is e.g. ``dev-<disk id>``)."""
        for entry in self.qmp("query-blockstats"):
            if f"/{device_id}/" in f"{entry.get('qdev', '')}/":
                return int(entry["stats"]["wr_bytes"])
        raise MachineError(f"no block statistics for {device_id}")

    def kill(self) -> None:
        """Pull the plug: QEMU is killed at once, nothing in the guest gets to flush."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    # ---- host-side checks ----------------------------------------------------------------------

    def disk_file(self, disk_id: str) -> Path:
        return self.prepared.files[disk_id]

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Stop the guest's CPUs while the host inspects something."""
        self.qmp("stop")
        try:
            yield
        finally:
            self.qmp("cont")
