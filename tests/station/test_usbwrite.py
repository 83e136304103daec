"""``make usb`` refuses everything but a removable USB disk (real loop devices stand in)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from wipestation import usbwrite
from wipestation.discovery.inventory import Inventory
from wipestation.errors import WipestationError
from wipestation.model import Transport

pytestmark = pytest.mark.root
MiB = 1024 * 1024


def head(dev: str) -> bytes:
    with open(dev, "rb") as f:
        return f.read(4096)


def test_loop_device_is_refused_as_not_usb(make_loop) -> None:
    dev = make_loop(size=64 * MiB)
    with pytest.raises(WipestationError, match="not a USB disk"):
        usbwrite.check_target(dev, 1 * MiB, Inventory())


def test_missing_device_and_partition_refused(tmp_path) -> None:
    with pytest.raises(WipestationError, match="not a whole disk"):
        usbwrite.check_target("/dev/does-not-exist", 1, Inventory())
    plain = tmp_path / "file.img"
    plain.write_bytes(b"x")
    with pytest.raises(WipestationError, match="not a whole disk"):
        usbwrite.check_target(str(plain), 1, Inventory())


def test_every_reason_is_listed(make_loop) -> None:
    drive = Inventory().get(make_loop(size=16 * MiB))
    assert drive is not None
    mounted = replace(drive, protected=True, protected_reasons=("mounted: /dev/x on /mnt",))
    reasons = usbwrite.refusal_reasons(mounted, 64 * MiB, drive.path)
    text = "\n".join(reasons)
    assert "not a USB disk" in text
    assert "not a removable disk" in text
    assert "mounted" in text
    assert "too small" in text


def test_a_removable_usb_disk_is_accepted_and_needs_typed_name(make_loop) -> None:
    drive = Inventory().get(make_loop(size=16 * MiB))
    assert drive is not None
    stick = replace(drive, transport=Transport.USB, removable=True)
    assert usbwrite.refusal_reasons(stick, 1 * MiB, stick.path) == []
    assert usbwrite.confirmed(stick.name, stick)
    assert usbwrite.confirmed(f" {stick.path}\n", stick)
    assert not usbwrite.confirmed("yes", stick)
    assert not usbwrite.confirmed("", stick)


def test_main_refuses_loop_device_without_asking(make_loop, tmp_path, capsys) -> None:
    image = tmp_path / "wipestation.img"
    image.write_bytes(b"\0" * 4096)
    dev = make_loop(size=16 * MiB)
    before = head(dev)

    def never(_prompt: str) -> str:
        raise AssertionError("must not ask for confirmation")

    assert usbwrite.main([str(image), dev], ask=never) == 1
    assert "not a USB disk" in capsys.readouterr().err
    assert head(dev) == before
