"""Issue 20: a station booted over the network, its records delivered to the floor's store.

QEMU's user network is the floor: its BOOTP answers the NIC's PXE ROM (Debian's ipxe-qemu) with
``boot.ipxe`` from its TFTP server (a directory of this test), which sets ``config-url`` and
chains ``make netboot``'s own ``wipestation.ipxe`` (written by ``netboot.write`` for the test's
image) from an HTTP server this test runs on the host's 127.0.0.1 (the guest's 10.0.2.2): kernel,
initrd and the station config (``station.toml``) come over HTTP. The config names a real
SeaweedFS on the host (tests/store/seaweed.py; the guest reaches its 127.0.0.1 S3 port as
10.0.2.2:PORT) with ``store_required``, and turns on unattended wiping with power-off. No report
stick, no boot stick: the records go to RAM and the store, signed with a per-boot key
(``key_protection: ephemeral``). No tap, no bridge: nothing leaves the machine.

Checked from the host: every drive's record JSON + PDF once under ``PREFIX/records/``, each
signature valid (the record's embedded key, ``reports.sign.verify_bytes``), the disks erased,
``PREFIX/stations/<station>/status.json`` read back while the station runs and at its end, the
secret nowhere on the kernel command line, and the guest powering off by itself. The second
scenario boots with the store down: the station says so and stays on until the store, started
later on the same port and data, holds every record once. Times are printed (``-s``), never
asserted: the machine is shared.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from wipestation.reports.readrecord import parse_object
from wipestation.reports.sign import verify_bytes
from wipestation.reports.store import StoreLocation, record_key
from wipestation.reports.store_client import StoreClient, StoreError

from netboot import netboot
from tests.helpers.http_server import serve_http
from tests.store.seaweed import Seaweed, running_seaweed
from tests.vm.hostcheck import TRACE, pattern_traces
from tests.vm.machine import Boot, Image, Machine, MachineError
from tests.vm.rack import Disk, Rack

pytestmark = pytest.mark.vm

#: Debian's ipxe-qemu: the PXE ROM for virtio-net, BIOS only. Its PCI header names the modern
#: virtio-net (1af4:1041), so the NIC is modern-only (disable-legacy=on): on q35's root bus
#: the default transitional device (1af4:1000) does not match and SeaBIOS never runs the ROM.
IPXE_ROM = Path("/usr/lib/ipxe/qemu/pxe-virtio.rom")
BUCKET, PREFIX, STATION = "pxe-floor", "site-a", "pxe-station-1"
#: Generous: TCG on a shared 2-core machine, ~77 MiB through iPXE and QEMU's user network.
BOOT_TIMEOUT = 900
#: From READY to power-off: three small disks wiped, verified and their records delivered.
RUN_TIMEOUT = 1200
#: The store down at boot: how long the station may take to say its records wait for it.
WAITING_TIMEOUT = 1200
READY = r"WIPESTATION READY \S+ station=(\S+) tty=ttyS0 uptime=([\d.]+)s ([^\r\n]*)\r?\n"
RACK = Rack(
    disks=(
        Disk("virtio", 8, "VBLK0001"),
        Disk("nvme", 8, "NVME0001"),
        Disk("sata", 8, "SATA0001", model="FakeSSD-ATA", wwn="0x5000c500aabbcc01"),
    ),
    spare_ports=0,
)


@dataclass
class Fetch:
    path: str
    started: float
    ended: float = 0.0
    size: int = 0


@dataclass
class BootServer:
    """The floor's HTTP boot server: a directory, and what the guest fetched when."""

    root: Path
    port: int = 0
    fetches: list[Fetch] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"http://10.0.2.2:{self.port}/{name}"

    def fetched(self, name: str) -> list[Fetch]:
        return [f for f in self.fetches if f.path == f"/{name}"]


@pytest.fixture
def boot_server(tmp_path: Path) -> Iterator[BootServer]:
    with serving(tmp_path / "http") as served:
        yield served


@contextlib.contextmanager
def serving(root: Path) -> Iterator[BootServer]:
    """An HTTP server on 127.0.0.1 (a free port) for the files directly in ``root``."""
    served = BootServer(root)
    served.root.mkdir(exist_ok=True)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            fetch = Fetch(self.path, time.monotonic())
            served.fetches.append(fetch)
            path = served.root / self.path.lstrip("/")
            if "/" in self.path.lstrip("/") or not path.is_file():
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(path.stat().st_size))
            self.end_headers()
            with path.open("rb") as f:
                shutil.copyfileobj(f, self.wfile, 1 << 20)
            fetch.ended, fetch.size = time.monotonic(), path.stat().st_size

        def log_message(self, *args: object) -> None:
            pass

    with serve_http(Handler) as served.port:
        yield served


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Seaweed]:
    """A real SeaweedFS with the floor's bucket, running (a scenario may stop and restart it)."""
    with running_seaweed(tmp_path / "seaweed", BUCKET) as server:
        yield server


def station_toml(store: Seaweed) -> str:
    """Unattended with power-off, headless on ttyS0, the store required; the secret is here,
    served over HTTP to the station (never on its kernel command line)."""
    creds = store.credentials
    return f"""[station]
station = "{STATION}"
unattended = true
poweroff = true
ui = "headless"
console = "ttyS0"
store = "s3://{BUCKET}/{PREFIX}"
store_endpoint = "http://10.0.2.2:{store.ports["s3.port"]}"
store_access_key = "{creds.access_key}"
store_secret_key = "{creds.secret_key}"
store_required = true
"""


def serve_netboot(image: Image, served: BootServer, store: Seaweed, tftp: Path) -> None:
    """``make netboot``'s files for this image on the HTTP server, the station config beside
    them, and the boot server's TFTP script that names the config and chains the script."""
    netboot.write(image.kernel.parent, served.root, netboot.Server("10.0.2.2", served.port))
    (served.root / "station.toml").write_text(station_toml(store))
    write_tftp(tftp, served, served.url("station.toml"))


def write_tftp(tftp: Path, served: BootServer, config_url: str = "") -> None:
    """The boot server's TFTP: ``boot.ipxe`` sets the config URL and chains the HTTP script."""
    tftp.mkdir(exist_ok=True)
    config = f"set config-url {config_url}\n" if config_url else ""
    (tftp / "boot.ipxe").write_text(f"#!ipxe\n{config}chain {served.url(netboot.SCRIPT)}\n")


class NetbootMachine(Machine):
    """No -kernel, no stick: SeaBIOS boots the virtio-net NIC's iPXE ROM first (bootindex=0)
    on QEMU's user network, whose TFTP serves ``tftp`` and whose BOOTP names ``boot.ipxe``.
    ``graphics=off`` has SeaBIOS copy the ROM's screen to ttyS0 (serial.log shows iPXE)."""

    def __init__(self, image: Image, tftp: Path, name: str, rack: Rack = RACK) -> None:
        super().__init__(Boot(image, mode="net"), rack=rack, name=name)
        self.tftp = tftp

    def command(self) -> list[str]:
        nic = f"virtio-net-pci,netdev=n0,bootindex=0,romfile={IPXE_ROM},disable-legacy=on"
        netdev = f"user,id=n0,tftp={self.tftp},bootfile=boot.ipxe"
        return [*super().command(), "-machine", "graphics=off", "-netdev", netdev, "-device", nic]


def client(store: Seaweed) -> StoreClient:
    return store.client(BUCKET)


def poll(what: str, timeout: float, fn: Callable[[], Any], alive: Machine | None = None) -> Any:
    """``fn()`` until it returns something true (a store that is down answers nothing)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if result := fn():
                return result
        except StoreError:
            pass
        if alive is not None and alive.proc is not None and alive.proc.poll() is not None:
            raise MachineError(f"the guest powered off before {what}")
        if time.monotonic() > deadline:
            raise MachineError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.5)


def status_json(store: Seaweed) -> dict[str, Any]:
    key = StoreLocation(BUCKET, PREFIX).key("stations", STATION, "status.json")
    return dict(json.loads(client(store).get(key)))


def status_with_drives(store: Seaweed) -> dict[str, Any] | None:
    """The live status once it lists every rack disk (by serial)."""
    status = status_json(store)
    serials = {d["serial"] for d in status["drives"]}
    return status if {d.serial for d in RACK.disks} <= serials else None


def record_objects(store: Seaweed) -> dict[str, bytes]:
    """Every object under PREFIX/records/, each key listed once."""
    keys = [o.key for o in client(store).list(f"{PREFIX}/records/")]
    assert len(keys) == len(set(keys)), keys
    return {k: client(store).get(k) for k in keys}


#: How often the test lists the store's records (the resolution of its records/s figure).
POLL_S = 0.5


class Arrivals:
    """When each record's JSON first appeared in the store (host clock), polled in a thread."""

    def __init__(self, store: Seaweed) -> None:
        self.store, self.seen = store, dict[str, float]()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                listed = client(self.store).list(f"{PREFIX}/records/")
            except StoreError:
                continue
            for o in listed:
                if o.key.endswith(".json"):
                    self.seen.setdefault(o.key, time.monotonic())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def rate(self) -> str:
        times = sorted(self.seen.values())
        n, span = len(times), (times[-1] - times[0]) if times else 0.0
        if n < 2 or span < POLL_S:  # seen together: only a lower bound can be said
            return f"{n} records within one {POLL_S:g} s poll (>= {n / POLL_S:.0f} records/s)"
        return f"{n} records in {span:.1f} s = {(n - 1) / span:.2f} records/s after the first"


def assert_records_delivered(store: Seaweed, m: Machine) -> list[dict[str, Any]]:
    """Each rack disk: one JSON and one PDF under its content-derived key, the signature valid
    with the record's own (per-boot) key, the disk's serial; its disk erased on the host."""
    objects = record_objects(store)
    jsons = {k: b for k, b in objects.items() if k.endswith(".json")}
    assert len(jsons) == len(RACK.disks), sorted(objects)
    assert len(objects) == 2 * len(RACK.disks), sorted(objects)
    records = []
    for key, body in jsons.items():
        verdict = verify_bytes(body)
        assert verdict.ok, (key, verdict)
        record = parse_object(body)
        sha = hashlib.sha256(body).hexdigest()
        loc = StoreLocation(BUCKET, PREFIX)
        assert key == record_key(loc, "", record["drive"]["identity"], sha, "json")
        assert objects[key.removesuffix(".json") + ".pdf"].startswith(b"%PDF-")
        assert record["signature"]["key_protection"] == "ephemeral", record["signature"]
        assert record["station"]["id"] == STATION
        records.append(record)
    by_serial = {r["drive"]["serial"]: r for r in records}
    assert set(by_serial) == {d.serial for d in RACK.disks}, sorted(by_serial)
    for disk in RACK.disks:
        assert pattern_traces(m.disk_file(disk.id), TRACE) == 0, f"{disk.serial} not erased"
    return records


def assert_no_secret(store: Seaweed, served: BootServer, m: Machine) -> None:
    """The secret went over HTTP in the config only: not in the iPXE script (the kernel
    command line), not in the config URL, not on the console."""
    secret = store.credentials.secret_key
    assert secret not in (served.root / netboot.SCRIPT).read_text()
    assert secret not in served.url("station.toml")
    assert secret not in m.console_text()


def boot_times(m: Machine, served: BootServer, ready: re.Match[str]) -> str:
    t0, wall = m.started_at, m.seconds_since_start()
    initrd = served.fetched(netboot.INITRD)[0]
    took = initrd.ended - initrd.started
    mib = initrd.size / (1 << 20)
    return (
        f"netboot READY after {wall:.1f} s wall (guest uptime {ready[2]} s): iPXE fetched the "
        f"kernel at {served.fetched(netboot.KERNEL)[0].started - t0:.1f} s, the initrd "
        f"({mib:.1f} MiB) in {took:.1f} s = {mib / took:.1f} MiB/s, done at "
        f"{initrd.ended - t0:.1f} s"
    )


def test_netboot_rack_records_arrive_in_the_store(
    image: Image, boot_server: BootServer, store: Seaweed, tmp_path: Path
) -> None:
    serve_netboot(image, boot_server, store, tmp_path / "tftp")
    with NetbootMachine(image, tmp_path / "tftp", "pxe") as m:
        ready = m.wait_for_console_text(READY, BOOT_TIMEOUT)
        print(boot_times(m, boot_server, ready))
        arrivals = Arrivals(store)
        live = poll(
            "status.json listing the rack", RUN_TIMEOUT, lambda: status_with_drives(store), m
        )
        m.wait_for_console_text(r"DONE passed=3 failed=0", RUN_TIMEOUT)
        m.wait_exit(300)
        print(f"powered off {m.seconds_since_start():.1f} s after power-on")
        arrivals.stop()
        print(f"delivered as wiped: {arrivals.rate()}")
        assert ready[1] == STATION, ready[0]
        assert "no boot stick" in ready[3], ready[0]
        assert [f.path for f in boot_server.fetches if f.path == "/station.toml"]
        assert live["state"] == "running"
        assert_records_delivered(store, m)
        final = status_json(store)
        assert_no_secret(store, boot_server, m)
    assert final["state"] == "stopped", final
    results = {d["serial"]: d["result"] for d in final["drives"]}
    assert results == {d.serial: "PASS" for d in RACK.disks}, final["drives"]


def test_netboot_store_down_at_boot_waits_then_delivers_everything(
    image: Image, boot_server: BootServer, store: Seaweed, tmp_path: Path
) -> None:
    serve_netboot(image, boot_server, store, tmp_path / "tftp")
    store.stop()  # same port, data and identities when it comes back
    with NetbootMachine(image, tmp_path / "tftp", "pxe-store-down") as m:
        ready = m.wait_for_console_text(READY, BOOT_TIMEOUT)
        print(boot_times(m, boot_server, ready))
        waiting = m.wait_for_console_text(
            r"(?:STORE|WAITING) (\d+) records not yet in the store: ([^\r\n]*)", WAITING_TIMEOUT
        )
        print(f"station says: {waiting[0].strip()} at {m.seconds_since_start():.1f} s")
        assert m.proc is not None
        assert m.proc.poll() is None, "powered off without the store"
        assert "DONE" not in m.console_text()
        store.start()
        came_back = time.monotonic()
        arrivals = Arrivals(store)
        m.wait_for_console_text(r"DONE passed=3 failed=0", RUN_TIMEOUT)
        m.wait_exit(300)
        arrivals.stop()
        first = min(arrivals.seen.values(), default=came_back) - came_back
        print(f"store back: first record after {first:.1f} s; then {arrivals.rate()}")
        assert int(waiting[1]) >= 1, waiting[0]
        assert "unreachable" in waiting[2], waiting[0]
        assert_records_delivered(store, m)
        assert_no_secret(store, boot_server, m)
