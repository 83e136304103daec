"""Issue 20: the station's clock from NTP. The guest's RTC starts at 2020-01-01 (QEMU ``-rtc
base=``), ``wipestation.ntp=`` names a real NTP server this test runs on the host's 127.0.0.1
(chronyd, which never sets the host's clock; the guest's 10.0.2.2 on QEMU's user network): the
station steps its clock, its record of an unattended NVMe wipe says ``clock: ntp`` with the
step, and ``/etc/resolv.conf`` names the lease's DNS server. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.timesync.chrony import running
from tests.vm.hostcheck import Reports, Stick
from tests.vm.machine import Boot, Image, Machine
from tests.vm.rack import Disk, Rack, ReportStick
from tests.vm.test_boot import PROBE_UNIT, WANTS

pytestmark = pytest.mark.vm

RTC_BASE = "2020-01-01T00:00:00"
HEADLESS = "wipestation.console=ttyS0 wipestation.ui=headless wipestation.auto=1"
#: The guest's view once the clock is settled (timesync.py writes clock.json), on ttyS2.
PROBE = """for i in $(seq 1500); do
  test -s /run/wipestation/clock.json && break
  sleep 0.2
done
echo PROBE-BEGIN
echo "date=$(date -u +%s) uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "clock=$(cat /run/wipestation/clock.json)"
for f in /run/systemd/netif/leases/*; do echo "lease=$f"; sed 's/^/  /' "$f"; done
echo "resolv.conf:"; sed 's/^/  /' /etc/resolv.conf
echo PROBE-END
"""


class WrongClockMachine(Machine):
    """A machine whose RTC starts at ``RTC_BASE`` (the station must not believe it)."""

    def command(self) -> list[str]:
        return [*super().command(), "-rtc", f"base={RTC_BASE}"]


def test_the_station_sets_its_clock_from_ntp_and_its_record_says_so(
    image: Image, tmp_path: Path
) -> None:
    nvme = Disk("nvme", 16, "NVMECLK1")
    rack = Rack(disks=(nvme,), report_stick=ReportStick())
    with running(tmp_path / "chrony") as chrony:
        append = f"{HEADLESS} wipestation.method=auto wipestation.poweroff=1 "
        append += f"wipestation.ntp=10.0.2.2:{chrony.port}"
        files: dict[str, str | bytes] = {
            "/etc/systemd/system/probe.service": PROBE_UNIT,
            f"{WANTS}/probe.service": "@symlink:../probe.service",
            "/usr/local/bin/probe": PROBE,
        }
        boot = Boot.kernel(image, append, extra_files=files)
        with WrongClockMachine(boot, rack=rack, name="clock", netdev="user") as m:
            out = m.wait_for_console_text(r"(?s)PROBE-BEGIN(.*)PROBE-END", 300, log="probe.log")
            host_now = time.time()
            done = m.wait_for_console_text(r"DONE passed=(\d+) failed=(\d+) reports=(\d+)", 600)
            m.wait_exit(120)
            reports = Reports.load(Stick(m.prepared.report_stick))  # type: ignore[arg-type]
            rec = reports.check_drive(nvme)
    print(out[1])
    guest_now = int(re.search(r"date=(\d+)", out[1])[1])  # type: ignore[index]
    clock = json.loads(re.search(r"clock=(.*)", out[1])[1])  # type: ignore[index]
    assert done.groups() == ("1", "0", "1"), done[0]
    assert (clock["source"], clock["server"], clock["stepped"]) == (
        "ntp", f"10.0.2.2:{chrony.port}", True,
    ), clock  # fmt: skip
    # systemd advances a clock older than its own build (its epoch) at boot: the station found it
    # months behind rather than years, and set it right (the probe's line is read seconds late)
    assert clock["offset_s"] > 86400, clock
    assert abs(guest_now - host_now) < 60, (guest_now, host_now)
    assert "nameserver 10.0.2.3" in out[1], out[1]  # QEMU's DNS, from networkd's lease
    assert rec["clock"] == clock, rec.get("clock")
    assert rec["station"]["time_source"].startswith(f"NTP 10.0.2.2:{chrony.port} (clock stepped")
    assert rec["created_at"][:4] == time.strftime("%Y"), rec["created_at"]
    print("record times:", rec["created_at"], rec["sanitization"]["started_at"])
