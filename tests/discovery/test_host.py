"""The computer's SMBIOS identity, read from /sys/class/dmi/id trees of real machines.

The trees are written from dumps their owners published (tests/fixtures/dmi/PROVENANCE.md);
a dump made as a user says ``Permission denied`` for the root-only files, and so is read here by
an unprivileged process (a forked child that drops to ``nobody``): unknown, never guessed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest
from wipestation.discovery import identity as ident
from wipestation.discovery.host import (
    FILES,
    HostIdentity,
    chassis_name,
    read_host,
)
from wipestation.reports.record import host_line, load_schema

from tests.discovery.dmi_dumps import machine_files, write_tree

NOBODY = 65534
GIGABYTE = "Gigabyte Technology Co., Ltd."
OEM = "To be filled by O.E.M."


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory an unprivileged reader can enter (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="dmi-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def read_as_nobody(root: Path) -> dict[str, object]:
    """``read_host(root).to_json()`` as read by uid 65534, in a forked child."""
    out, into = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop root, read, report, never return into pytest
        try:
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            os.write(into, json.dumps(read_host(root).to_json()).encode())
        finally:
            os._exit(0)
    os.close(into)
    with os.fdopen(out, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    return json.loads(data)


def machine(name: str, dest: Path) -> Path:
    return write_tree(machine_files(name), dest / name)


def test_a_user_dump_reads_the_root_only_files_as_unreadable(open_dir: Path) -> None:
    host = read_as_nobody(machine("acer-switch-sa5-271", open_dir))
    assert (host["manufacturer"], host["product"], host["sku"]) == (
        "Acer",
        "Switch SA5-271",
        "Switch SA5-271_111E_1.06",
    )
    assert host["chassis_type"] == "Tablet"
    assert (host["serial"], host["uuid"], host["board_serial"]) == (None, None, None)
    assert host["unreadable"] == ["serial", "uuid", "board_serial"]
    assert host["placeholders"] == {}
    assert host_line(host) == "Acer Switch SA5-271, S/N unknown"


def test_the_same_tree_read_as_root_has_nothing_unreadable(open_dir: Path) -> None:
    host = read_host(machine("acer-switch-sa5-271", open_dir))
    assert host.unreadable == ()
    assert host.serial is None  # the file holds nothing a user's dump could show: unknown


def test_coreboot_laptop_read_as_a_user(open_dir: Path) -> None:
    host = read_as_nobody(machine("acer-c720p-coreboot", open_dir))
    assert (host["manufacturer"], host["product"], host["family"]) == (
        "GOOGLE",
        "Peppy",
        "Google_Slippy",
    )
    assert (host["chassis_type"], host["bios_vendor"], host["bios_date"]) == (
        "Laptop",
        "coreboot",
        "07/14/2017",
    )
    assert host["unreadable"] == ["serial", "board_serial"]  # no product_uuid file at all
    assert host["uuid"] is None
    assert host["sku"] is None


def test_an_oem_default_board_is_no_identity(open_dir: Path) -> None:
    host = read_host(machine("gigabyte-c1037un-eu", open_dir))
    assert host.manufacturer == GIGABYTE
    assert (host.product, host.version, host.family, host.serial, host.board_serial) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert dict(host.placeholders) == {
        k: OEM for k in ("product", "version", "family", "serial", "board_serial")
    }
    assert host.uuid == "03AA02FC-0414-0575-5206-670700080009"
    assert (host.chassis_type, host.board_name) == ("Desktop", "C1037UN-EU")
    assert host_line(host.to_json()) == f"{GIGABYTE}, S/N unknown (placeholder '{OEM}')"


def test_a_thinkpad_without_its_published_serials(open_dir: Path) -> None:
    host = read_host(machine("lenovo-thinkpad-t410s", open_dir))
    assert (host.manufacturer, host.product, host.version) == (
        "LENOVO",
        "29123AG",
        "ThinkPad T410s",
    )
    assert host.chassis_type == "Notebook"
    assert host.uuid == "E020ACF9-D8F6-E111-9EB6-B426B0AA384D"
    assert (host.serial, host.board_serial, host.unreadable, host.placeholders) == (
        None,
        None,
        (),
        (),
    )
    assert host.bios_version == "6UET70WW (1.50 )"  # kept as the firmware says it


def test_default_string_is_a_placeholder(open_dir: Path) -> None:
    b550 = read_host(machine("gigabyte-b550-aorus-pro-v2", open_dir))
    assert (b550.product, b550.family, b550.version, b550.sku) == (
        "B550 AORUS PRO V2",
        "B550 MB",
        None,
        None,
    )
    assert dict(b550.placeholders) == {"version": "Default string", "sku": "Default string"}
    x570 = read_host(machine("gigabyte-x570s-aero-g", open_dir))
    assert x570.board_serial is None
    assert dict(x570.placeholders) == {"board_serial": "Default string"}
    assert x570.manufacturer is None  # the published copy is cut before sys_vendor: unknown


def test_a_real_service_tag(open_dir: Path) -> None:
    host = read_host(machine("dell-optiplex-7010", open_dir))
    assert (host.manufacturer, host.product, host.serial) == (
        "Dell Inc.",
        "OptiPlex 7010",
        "5Q4Q7Y1",
    )
    assert host.uuid == "4c4c4544-0051-3410-8051-b5c04f375931"
    assert host.board_serial == "/5Q4Q7Y1/CN7220036H04QB/"
    assert host.placeholders == ()
    assert host.unreadable == ()
    assert host_line(host.to_json()) == "Dell Inc. OptiPlex 7010, S/N 5Q4Q7Y1"


def test_no_smbios_at_all(tmp_path: Path) -> None:
    host = read_host(tmp_path / "absent")
    assert not host.smbios
    assert all(getattr(host, f) is None for f in FILES)
    assert host_line(host.to_json()) == "unknown computer, S/N unknown"


@pytest.mark.parametrize(
    ("number", "name"),
    [("3", "Desktop"), ("10", "Notebook"), ("23", "Rack Mount Chassis"), ("30", "Tablet")],
)
def test_chassis_types_are_named_by_the_smbios_table(number: str, name: str) -> None:
    assert chassis_name(number) == name


def test_a_chassis_lock_bit_an_unlisted_type_and_garbage() -> None:
    assert chassis_name(str(0x80 | 17)) == "Main Server Chassis"
    assert chassis_name("99") == "type 99 (not in SMBIOS 3.7)"
    assert chassis_name("x3") is None


@pytest.mark.parametrize(
    "said",
    [
        "To Be Filled By O.E.M.",
        "To be filled by O.E.M.",
        "Default string",
        "System Serial Number",
        "Not Specified",
        "0123456789",
        "123456789",
        "None",
        "0",
        "00000000-0000-0000-0000-000000000000",
        "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
    ],
)
def test_dmi_placeholders_are_the_drive_serial_rule(said: str, open_dir: Path) -> None:
    assert ident.is_placeholder(said)
    host = read_host(write_tree({"product_serial": said, "product_uuid": said}, open_dir / "t"))
    assert (host.serial, host.uuid) == (None, None)
    assert dict(host.placeholders) == {"serial": said, "uuid": said}


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_empty_and_blank_strings_are_unknown_not_placeholders(blank: str, tmp_path: Path) -> None:
    host = read_host(write_tree({"product_serial": blank}, tmp_path / "t"))
    assert host.serial is None
    assert host.placeholders == ()


def test_the_record_schema_describes_every_host_field() -> None:
    schema = load_schema()["properties"]["host"]
    assert set(schema["properties"]) == set(HostIdentity().to_json())
    assert set(FILES) | {"placeholders", "unreadable", "smbios"} == {
        f.name for f in fields(HostIdentity)
    }


def test_a_qemu_guest_with_the_smbios_a_computer_mode_test_gives(open_dir: Path) -> None:
    host = read_host(machine("qemu-7.2-q35-smbios", open_dir))
    assert (host.manufacturer, host.product, host.serial) == (
        "Wipestation Test Lab",
        "Asset PC 9000",
        "WS-SN-0042",
    )
    assert (host.uuid, host.sku, host.family) == (
        "5c1b3f0e-8d2a-4c61-9b7e-1f2a3b4c5d6e",
        "SKU-77",
        "Test Family",
    )
    assert (host.board_serial, host.chassis_type, host.bios_vendor) == (
        "BRD-0042",
        "Other",
        "SeaBIOS",
    )


def test_a_plain_qemu_guest_has_no_serial(open_dir: Path) -> None:
    host = read_host(machine("qemu-7.2-q35-default", open_dir))
    assert (host.manufacturer, host.product) == ("QEMU", "Standard PC (Q35 + ICH9, 2009)")
    assert (host.serial, host.uuid, host.placeholders) == (None, None, ())
    assert host_line(host.to_json()) == "QEMU Standard PC (Q35 + ICH9, 2009), S/N unknown"
