"""The VM harness itself: rack → QEMU arguments, fault rules, hot-plug through QMP."""

from __future__ import annotations

import pytest

from tests.vm import cpio
from tests.vm.machine import Boot, Image, Machine
from tests.vm.rack import PATTERN, Disk, Fault, Rack, small_rack

pytestmark = pytest.mark.vm


def test_rack_files_and_fault_nodes(image: Image) -> None:
    rack = Rack(disks=(Disk("virtio", 4, "FAULTY01", faults=(Fault(sector=4096),)),))
    with Machine(Boot.kernel(image), rack=rack, name="faults") as m:
        nodes = {n["node-name"] for n in m.qmp("query-named-block-nodes")}
        assert {"faulty01", "dbg-faulty01", "f-faulty01"} <= nodes
        data = m.disk_file("faulty01").read_bytes()
        assert len(data) == 4 * 1024 * 1024
        assert data.startswith(PATTERN * 4)


def test_hot_add_and_remove_seen_by_the_station(image: Image) -> None:
    boot = Boot.kernel(image, "wipestation.console=ttyS0")  # the screen on the serial console
    with Machine(boot, rack=small_rack(), name="hotplug") as m:
        m.wait_for_console_text(r"WIPESTATION READY", 240)
        m.wait_for_console_text(r"NVME0002", 120)  # the drive table is on the screen
        m.hot_add(Disk("virtio", 8, "HOTPLUG01"))
        m.wait_for_console_text(r"HOTPLUG01", 120)
        m.device_del("dev-hotplug01")


def test_cpio_layer_round_trip(tmp_path) -> None:
    import subprocess

    archive = tmp_path / "x.cpio"
    archive.write_bytes(cpio.newc({"/etc/a/b.txt": "hello", "/etc/a/link": "@symlink:b.txt"}))
    subprocess.run(["cpio", "-idm", "--quiet", "-F", str(archive)], cwd=tmp_path, check=True)
    assert (tmp_path / "etc/a/b.txt").read_text() == "hello"
    assert (tmp_path / "etc/a/link").readlink().name == "b.txt"
