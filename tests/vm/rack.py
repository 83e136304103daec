"""Virtual racks for the VM tests and ``make demo``: the disks a station sees, declared as data.

A ``Rack`` lists ``Disk``s (kind, size, serial, model, WWN, fill pattern, fault rules), an
optional report stick and an optional label printer (a serial port wired to a file). ``Machine``
turns it into QEMU arguments with ``Rack.prepare(workdir)``; nothing here starts QEMU.

Facts behind the choices (reference/qemu.md): every backend uses ``discard=unmap`` (the default
``ignore`` makes TRIM a silent no-op on the host file); PCIe devices sit on their own root port so
they can be hot-unplugged; NVMe needs a serial; the report stick is a FAT image on usb-storage.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

Kind = Literal["nvme", "sata", "scsi", "virtio", "usb", "sd", "megasas", "megasas-jbod"]
#: "sd": an SD card on its own sdhci-pci controller (QEMU 7.2 emulates no eMMC); QEMU's sd-card
#: takes no serial (the guest sees QEMU's CID) and its size must be a power of 2.
#: "megasas": a scsi-hd behind QEMU's MegaRAID (megasas-gen2, its default use_jbod=off: the guest
#: sees a logical drive); "megasas-jbod": behind a second one with use_jbod=on (a JBOD disk).
KINDS: tuple[Kind, ...] = ("nvme", "sata", "scsi", "virtio", "usb", "sd", "megasas", "megasas-jbod")
#: What a disk is filled with before boot, so an erase is visible on the host afterwards.
PATTERN = b"WIPEME-PATTERN!\n"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Fault:
    """A blkdebug error rule: I/O at ``sector`` fails with ``errno`` (reads still work by default).

    ``event`` is a blkdebug event (``write_aio``, ``read_aio``...), ``iotype`` limits the rule to
    one kind of request, ``once`` fires it a single time.
    """

    sector: int
    errno: int = 5
    event: str = "write_aio"
    iotype: str = "write"
    once: bool = False

    def options(self, i: int) -> str:
        p = f"inject-error.{i}."
        return ",".join(
            (
                f"{p}event={self.event}",
                f"{p}errno={self.errno}",
                f"{p}sector={self.sector}",
                f"{p}once={'on' if self.once else 'off'}",
                f"{p}immediately=off",
                f"{p}iotype={self.iotype}",
            )
        )


@dataclass(frozen=True)
class Disk:
    """One drive in the rack. ``id`` (default: the serial, lower case) names its QEMU device
    ``dev-<id>``, block node ``<id>`` and backing file ``<id>.img``."""

    kind: Kind
    size_mib: int
    serial: str
    model: str = ""
    wwn: str = ""  # "0x5000c500aabbcc01"; sata and scsi only
    fill: bytes | None = PATTERN  # None: sparse zeros
    faults: tuple[Fault, ...] = ()
    removable: bool = False  # usb only
    id: str = ""
    #: 4096: a 4Kn disk (logical = physical block size); nvme, scsi and virtio only
    block_size: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown disk kind {self.kind!r}; one of {KINDS}")
        if not self.id:
            object.__setattr__(self, "id", self.serial.lower().replace("_", "-"))

    @property
    def device_id(self) -> str:
        return f"dev-{self.id}"


@dataclass(frozen=True)
class ReportStick:
    """A USB stick with one FAT file system (no partition table), as a technician would bring."""

    label: str = "WIPEREPORTS"
    size_mib: int = 64
    serial: str = "REPORTSTICK01"
    #: files put on the stick before boot, (path on the stick, content)
    files: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class Rack:
    disks: tuple[Disk, ...] = ()
    report_stick: ReportStick | None = None
    #: A label printer on the guest's ttyS1, written to ``printer.out`` in the work dir.
    printer: bool = False
    #: Empty PCIe root ports for disks plugged in later (``Machine.hot_add``).
    spare_ports: int = 2
    #: MegaRAID controllers (megasas-gen2) with no disk behind them.
    empty_megasas: int = 0

    def with_disks(self, *disks: Disk) -> Rack:
        return replace(self, disks=(*self.disks, *disks))


@dataclass
class Prepared:
    """A rack made real in a work directory: QEMU arguments plus where everything lives."""

    args: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)  # disk id → backing file
    report_stick: Path | None = None
    printer_out: Path | None = None
    free_ports: list[str] = field(default_factory=list)


def fill_file(path: Path, size_mib: int, fill: bytes | None) -> None:
    """Create ``path`` of ``size_mib`` MiB, repeating ``fill`` (sparse when None)."""
    with open(path, "wb") as f:
        if fill is None:
            f.truncate(size_mib * MIB)
            return
        block = (fill * (MIB // len(fill) + 1))[:MIB]
        for _ in range(size_mib):
            f.write(block)


def make_fat_stick(path: Path, label: str, size_mib: int) -> None:
    path.unlink(missing_ok=True)
    subprocess.run(
        ["mkfs.vfat", "-n", label, "-C", str(path), str(size_mib * 1024)],
        check=True,
        capture_output=True,
    )


def put_files(fat_image: Path, files: tuple[tuple[str, bytes], ...], workdir: Path) -> None:
    """Copy ``files`` onto a FAT image with mtools (directories must exist or be top level)."""
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    for name, content in files:
        src = workdir / f"put-{Path(name).name}"
        src.write_bytes(content)
        subprocess.run(
            ["mcopy", "-o", "-i", str(fat_image), str(src), f"::{name}"], check=True, env=env
        )
        src.unlink()


def blockdev_args(node: str, filename: Path, faults: tuple[Fault, ...] = ()) -> list[str]:
    """file → (blkdebug →) raw, with discard passed through to the host file."""
    args = ["-blockdev", f"driver=file,node-name=f-{node},filename={filename},discard=unmap"]
    below = f"f-{node}"
    if faults:
        rules = ",".join(f.options(i) for i, f in enumerate(faults))
        args += ["-blockdev", f"driver=blkdebug,node-name=dbg-{node},image={below},{rules}"]
        below = f"dbg-{node}"
    # The raw node must sit above blkdebug: it is what emits the write_aio event.
    return [*args, "-blockdev", f"driver=raw,node-name={node},file={below},discard=unmap"]


def device_props(disk: Disk, bus: str) -> dict[str, str]:
    """QEMU ``-device`` properties for ``disk`` on ``bus`` (also what QMP device_add takes)."""
    if disk.kind == "sd":
        return {"driver": "sd-card", "id": disk.device_id, "drive": disk.id}
    base = {"id": disk.device_id, "drive": disk.id, "serial": disk.serial}
    if disk.kind == "nvme":
        return {"driver": "nvme", **base, "bus": bus}
    if disk.kind == "virtio":
        return {"driver": "virtio-blk-pci", **base, "bus": bus}
    if disk.kind == "sata":
        extra = {"model": disk.model} if disk.model else {}
        extra |= {"wwn": disk.wwn} if disk.wwn else {}
        return {"driver": "ide-hd", **base, "bus": bus, "rotation_rate": "1", **extra}
    if disk.kind in ("scsi", "megasas", "megasas-jbod"):
        extra = {"product": disk.model} if disk.model else {}
        extra |= {"wwn": disk.wwn} if disk.wwn else {}
        return {"driver": "scsi-hd", **base, "bus": bus, "rotation_rate": "1", **extra}
    return {
        "driver": "usb-storage",
        **base,
        "bus": bus,
        "removable": "on" if disk.removable else "off",
    }


def block_props(disk: Disk) -> dict[str, str]:
    """A 4Kn disk's block sizes: nvme, scsi-hd and virtio-blk-pci all take these properties."""
    if not disk.block_size:
        return {}
    size = str(disk.block_size)
    return {"logical_block_size": size, "physical_block_size": size}


def device_arg(props: dict[str, str]) -> str:
    rest = ",".join(f"{k}={v}" for k, v in props.items() if k != "driver")
    return f"{props['driver']},{rest}"


class _Buses:
    """Hands out buses: a root port per PCIe disk, AHCI ports, one virtio-scsi HBA, one xHCI."""

    def __init__(self) -> None:
        self.args: list[str] = []
        self.ports = 0
        self.sata = 0
        self.scsi = 0
        self.megas: dict[str, str] = {}  # disk kind -> its controller's bus
        self.mega_count = 0

    def root_port(self) -> str:
        self.ports += 1
        n = self.ports
        self.args += ["-device", f"pcie-root-port,id=rp{n},chassis={n},slot={n}"]
        return f"rp{n}"

    def megasas(self, kind: str) -> str:
        """The bus of the MegaRAID controller for ``kind`` ("megasas", "megasas-jbod"), made on
        first use; "" makes one that no disk uses."""
        if kind in self.megas:
            return self.megas[kind]
        name, self.mega_count = f"mega{self.mega_count}", self.mega_count + 1
        jbod = ",use_jbod=on" if kind == "megasas-jbod" else ""
        self.args += ["-device", f"megasas-gen2,id={name},bus={self.root_port()}{jbod}"]
        if kind:
            self.megas[kind] = f"{name}.0"
        return f"{name}.0"

    def bus_for(self, kind: Kind) -> str:
        if kind in ("nvme", "virtio"):
            return self.root_port()
        if kind == "sata":
            if self.sata % 6 == 0:
                self.args += ["-device", f"ahci,id=ahci{self.sata // 6}"]
            self.sata += 1
            return f"ahci{(self.sata - 1) // 6}.{(self.sata - 1) % 6}"
        if kind == "scsi":
            if self.scsi == 0:
                self.args += ["-device", f"virtio-scsi-pci,id=vs0,bus={self.root_port()}"]
            self.scsi += 1
            return "vs0.0"
        if kind in ("megasas", "megasas-jbod"):
            return self.megasas(kind)
        if kind == "sd":  # the card finds its controller's (only) sd-bus by itself
            self.ports += 1
            self.args += ["-device", f"sdhci-pci,id=sdhci{self.ports}"]
            return ""
        return "xhci.0"


def prepare(rack: Rack, workdir: Path, reuse: bool = False) -> Prepared:
    """Create backing files in ``workdir`` and return the QEMU arguments for the rack.

    With ``reuse``, files that exist at the right size are kept as they are (``make demo`` keeps
    the disks between runs so you can look at what a wipe left behind)."""
    out = Prepared()
    buses = _Buses()
    # One xHCI for USB disks, the report stick and a USB boot stick (Machine adds that one).
    buses.args += ["-device", "qemu-xhci,id=xhci"]
    devices: list[str] = []
    for disk in rack.disks:
        path = workdir / f"{disk.id}.img"
        if not (reuse and path.exists() and path.stat().st_size == disk.size_mib * MIB):
            fill_file(path, disk.size_mib, disk.fill)
        out.files[disk.id] = path
        devices += blockdev_args(disk.id, path, disk.faults)
        props = device_props(disk, buses.bus_for(disk.kind)) | block_props(disk)
        devices += ["-device", device_arg(props)]
    if rack.report_stick:
        stick = rack.report_stick
        out.report_stick = workdir / "report-stick.img"
        if not (reuse and out.report_stick.exists()):
            make_fat_stick(out.report_stick, stick.label, stick.size_mib)
            put_files(out.report_stick, stick.files, workdir)
        devices += blockdev_args("reportstick", out.report_stick)
        devices += [
            "-device",
            f"usb-storage,id=dev-reportstick,bus=xhci.0,drive=reportstick,"
            f"serial={stick.serial},removable=on",
        ]
    for _ in range(rack.empty_megasas):
        buses.megasas("")
    out.free_ports = [buses.root_port() for _ in range(rack.spare_ports)]
    out.args = [*buses.args, *devices]
    if rack.printer:
        out.printer_out = workdir / "printer.out"
    return out


#: The issue's demo rack: 2 NVMe, 2 SATA, 2 SCSI, 1 virtio, 1 USB, all different; report stick
#: and label printer.
DEMO_RACK = Rack(
    disks=(
        Disk("nvme", 96, "NVME0001"),
        Disk("nvme", 128, "NVME0002"),
        Disk("sata", 64, "SATA0001", model="FakeSSD-ATA", wwn="0x5000c500aabbcc01"),
        Disk("sata", 80, "SATA0002", model="FakeHDD-ATA", wwn="0x5000c500aabbcc02"),
        Disk("scsi", 48, "SCSI0001", model="FakeSAS", wwn="0x5000c500aabbcc03"),
        Disk("scsi", 112, "SCSI0002", model="FakeSAS"),
        Disk("virtio", 72, "VBLK0001"),
        Disk("usb", 40, "USB0001"),
    ),
    report_stick=ReportStick(),
    printer=True,
)


def small_rack(size_mib: int = 16) -> Rack:
    """DEMO_RACK's eight disks at ``size_mib`` each: what the boot tests attach."""
    return replace(DEMO_RACK, disks=tuple(replace(d, size_mib=size_mib) for d in DEMO_RACK.disks))
