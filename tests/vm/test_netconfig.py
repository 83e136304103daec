"""Issue 20: what a network boot needs, in the image. A guest with a virtio-net NIC on QEMU's
user network gets a DHCP lease (systemd-networkd), fetches ``wipestation.config=`` from an HTTP
server this test runs on the host's 127.0.0.1 (the guest's 10.0.2.2) and shows the fetched
station name. A config the server does not have (404) is shown as a config problem and holds
unattended wiping back. Nothing leaves the machine: the guest asks only 10.0.2.2.
"""

from __future__ import annotations

import http.server
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.helpers.http_server import serve_http
from tests.vm.machine import Boot, Image, Machine
from tests.vm.test_boot import PROBE_UNIT, WANTS

pytestmark = pytest.mark.vm

#: up to the line's end: a line half written when the log is read must not match
READY = r"WIPESTATION READY \S+ station=(\S+) tty=ttyS0 uptime=([\d.]+)s ([^\r\n]*)\r?\n"
#: Generous: TCG on a shared 2-core machine; the fetch itself may retry for 30 s while DHCP runs.
BOOT_TIMEOUT = 300
STATION_TOML = b'[station]\nstation = "floor-7"\n'
#: networkd's view of the links once the station is up (networkctl needs D-Bus; the image has none).
PROBE = """for i in $(seq 300); do
  grep -qs OPER_STATE=routable /run/systemd/netif/links/* && break
  sleep 0.2
done
echo PROBE-BEGIN
cat /run/systemd/netif/links/*
echo PROBE-END
"""


@dataclass
class Served:
    """What the HTTP server answers (path -> status, body), and the paths it was asked for."""

    port: int = 0
    routes: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)


@pytest.fixture
def http_server() -> Iterator[Served]:
    served = Served()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            served.hits.append(self.path)
            status, body = served.routes.get(self.path, (404, b"not here"))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serve_http(Handler) as served.port:
        yield served


def netboot(image: Image, url: str, append: str = "", probe: bool = False) -> Boot:
    files: dict[str, str | bytes] = {}
    if probe:
        files |= {
            "/etc/systemd/system/probe.service": PROBE_UNIT,
            f"{WANTS}/probe.service": "@symlink:../probe.service",
            "/usr/local/bin/probe": PROBE,
        }
    return Boot.kernel(image, f"wipestation.config={url} {append}".strip(), extra_files=files)


def machine(boot: Boot, name: str) -> Machine:
    return Machine(boot, name=name, netdev="user")


def test_dhcp_fetches_the_station_config(image: Image, http_server: Served) -> None:
    http_server.routes["/station.toml"] = (200, STATION_TOML)
    url = f"http://10.0.2.2:{http_server.port}/station.toml"
    with machine(netboot(image, url, probe=True), "netconfig") as m:
        ready = m.wait_for_console_text(READY, BOOT_TIMEOUT)
        took = m.seconds_since_start()
        print(f"READY after {took:.1f} s wall, guest uptime {ready[2]} s: {ready[0]}")
        out = m.wait_for_console_text(r"(?s)PROBE-BEGIN(.*)PROBE-END", 120, log="probe.log")
    print("links:", " ".join(line for line in out[1].split() if "_STATE=" in line))
    assert ready[1] == "floor-7", ready[0]
    assert set(http_server.hits) == {"/station.toml"}
    assert "OPER_STATE=routable" in out[1], out[1]
    assert "ADMIN_STATE=configured" in out[1], out[1]


def test_a_config_the_server_does_not_have_is_shown_and_never_unattended(
    image: Image, http_server: Served
) -> None:
    url = f"http://10.0.2.2:{http_server.port}/gone.toml"
    with machine(netboot(image, url, "wipestation.auto=1"), "netconfig-404") as m:
        ready = m.wait_for_console_text(READY, BOOT_TIMEOUT)
        print(f"READY after {m.seconds_since_start():.1f} s wall: {ready[0]}")
        problem = m.wait_for_console_text(r"- (station config .*)", 60)
    assert http_server.hits == ["/gone.toml"]
    assert ready[1] != "floor-7"
    expected = f"station config {url}: HTTP 404 Not Found; unattended wiping is off"
    assert problem[1].strip() == expected
