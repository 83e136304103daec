"""/etc/resolv.conf from the leases' DNS servers: written whole, only where it is absent or ours."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from wipestation import resolvconf
from wipestation.leases import Lease

LEASES = [
    Lease("2", dns=("10.0.2.3",), domains=("floor.example",)),
    Lease("3", dns=("10.0.0.53", "10.0.2.3", "10.0.0.54", "10.0.0.55")),
]


def test_the_file_names_up_to_three_servers_and_the_search_domains() -> None:
    assert resolvconf.render(LEASES) == (
        f"{resolvconf.MARKER}\nnameserver 10.0.2.3\nnameserver 10.0.0.53\nnameserver 10.0.0.54\n"
        "search floor.example\n"
    )
    assert resolvconf.render([Lease("2")]) == ""


def test_an_absent_file_is_written_whole_and_then_kept_in_step(tmp_path: Path) -> None:
    path = tmp_path / "resolv.conf"
    assert resolvconf.update(LEASES[:1], path)
    assert path.read_text() == f"{resolvconf.MARKER}\nnameserver 10.0.2.3\nsearch floor.example\n"
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert not resolvconf.update(LEASES[:1], path)  # unchanged: not rewritten
    assert resolvconf.update(LEASES[1:], path)
    assert "nameserver 10.0.0.53" in path.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["resolv.conf"]  # no temporary left


def test_a_file_that_is_not_ours_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "resolv.conf"
    path.write_text("nameserver 192.0.2.1\n")
    assert not resolvconf.update(LEASES, path)
    assert path.read_text() == "nameserver 192.0.2.1\n"


def test_no_dns_in_the_leases_writes_nothing(tmp_path: Path) -> None:
    assert not resolvconf.update([Lease("2", address="10.0.2.15")], tmp_path / "resolv.conf")
    assert not (tmp_path / "resolv.conf").exists()


def test_an_unwritable_place_is_a_log_line_not_a_failure(tmp_path: Path) -> None:
    assert not resolvconf.update(LEASES, tmp_path / "missing-dir" / "resolv.conf")


def test_following_picks_up_a_lease_that_comes_late(tmp_path: Path) -> None:
    path, found, stop = tmp_path / "resolv.conf", list[Lease](), threading.Event()
    worker = threading.Thread(target=resolvconf.follow, args=(lambda: found, path, stop))
    worker.start()
    try:
        time.sleep(0.3)
        assert not path.exists()
        found.append(LEASES[0])
        deadline = time.monotonic() + 5
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "nameserver 10.0.2.3" in path.read_text()
    finally:
        stop.set()
        worker.join(5)
    assert not worker.is_alive()
