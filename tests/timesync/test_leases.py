"""networkd's lease files (a real capture from the image, tests/fixtures/networkd/): the DNS and
NTP servers the floor's DHCP named, and a file that cannot be read is unknown, never guessed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from wipestation import leases, resolvconf
from wipestation.leases import Lease, LeaseError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "networkd"


def test_qemus_lease_as_networkd_wrote_it() -> None:
    lease = leases.parse((FIXTURES / "lease-qemu-user").read_text(), "2")
    assert lease == Lease("2", "10.0.2.15", dns=("10.0.2.3",), ntp=())


def test_the_ntp_servers_of_a_lease() -> None:
    lease = leases.parse((FIXTURES / "lease-with-ntp").read_text(), "2")
    assert lease.ntp == ("10.0.0.1", "10.0.0.2")


def test_the_directory_is_read_by_interface_and_a_bad_file_is_left_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "11").write_text((FIXTURES / "lease-with-ntp").read_text())
    (tmp_path / "2").write_text((FIXTURES / "lease-qemu-user").read_text())
    (tmp_path / "3").write_text("# This is private data. Do not parse.\nDNS 10.0.0.53\n")
    with caplog.at_level(logging.WARNING):
        found = leases.read(tmp_path)
    assert [lease.name for lease in found] == ["2", "11"]
    assert "lease 3, line 2: not KEY=VALUE: 'DNS 10.0.0.53'" in caplog.text
    assert resolvconf.render(found) == f"{resolvconf.MARKER}\nnameserver 10.0.2.3\n"


def test_what_is_not_an_address_is_dropped_not_guessed() -> None:
    lease = leases.parse("ADDRESS=10.0.2.15\nDNS=10.0.2.3 dns.example 300.1.1.1\nNTP=\n")
    assert (lease.dns, lease.ntp) == (("10.0.2.3",), ())


def test_a_line_that_is_not_key_value_makes_the_lease_unknown() -> None:
    with pytest.raises(LeaseError, match="lease 2, line 1: not KEY=VALUE"):
        leases.parse("<html>\n", "2")


def test_no_directory_is_no_lease(tmp_path: Path) -> None:
    assert leases.read(tmp_path / "absent") == []
