"""The DHCP leases systemd-networkd writes: which DNS and NTP servers the floor's DHCP named.

Why read networkd's files: the image runs networkd without systemd-resolved or timesyncd (no
D-Bus, no payload), so nothing else takes the lease's DNS= and NTP= options. networkd saves
each interface's lease as ``/run/systemd/netif/leases/<ifindex>``: ``KEY=VALUE`` lines after a
``#`` comment, addresses space-separated (``dhcp_lease_save`` in systemd's
src/libsystemd-network/sd-dhcp-lease.c; a capture from the image is in
tests/fixtures/networkd/). The file says it is private to networkd: this reader fails closed —
a line it cannot read makes the whole lease unknown (LeaseError), and a value that is not an
IP address is dropped, never guessed at.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from pathlib import Path

from wipestation.errors import WipestationError

LEASES_DIR = Path("/run/systemd/netif/leases")
#: A lease is a few hundred bytes; anything much bigger is not one.
MAX_BYTES = 64 * 1024
log = logging.getLogger(__name__)


class LeaseError(WipestationError):
    """A lease file that cannot be read as one; the message names the file and line."""


@dataclass(frozen=True)
class Lease:
    """What one interface's DHCP lease offers the station."""

    name: str
    address: str = ""
    dns: tuple[str, ...] = ()
    ntp: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()


def _addresses(value: str) -> tuple[str, ...]:
    """The IP addresses of a space-separated list; anything else is dropped."""
    out = []
    for word in value.split():
        try:
            out.append(str(ipaddress.ip_address(word)))
        except ValueError:
            continue
    return tuple(out)


def _fields(text: str, name: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.isupper() or not key.replace("_", "").isalnum():
            raise LeaseError(f"lease {name}, line {number}: not KEY=VALUE: {line[:60]!r}")
        found[key] = value.strip()
    return found


def parse(text: str, name: str = "lease") -> Lease:
    """One lease file's text; LeaseError when a line is not ``KEY=VALUE``."""
    f = _fields(text, name)
    address = _addresses(f.get("ADDRESS", ""))
    domains = f.get("DOMAINNAME", "").split() + f.get("DOMAIN_SEARCH_LIST", "").split()
    return Lease(
        name,
        address[0] if address else "",
        _addresses(f.get("DNS", "")),
        _addresses(f.get("NTP", "")),
        tuple(dict.fromkeys(d for d in domains if d.replace(".", "").replace("-", "").isalnum())),
    )


def read(directory: Path = LEASES_DIR) -> list[Lease]:
    """Every readable lease in ``directory``, by interface index; an unreadable one is logged
    and left out (an interface without a lease has no file)."""
    try:
        files = sorted((p for p in directory.iterdir() if p.is_file()), key=_index)
    except OSError:
        return []
    leases = []
    for path in files:
        try:
            leases.append(parse(_text(path), path.name))
        except (OSError, UnicodeDecodeError, LeaseError) as e:
            log.warning("DHCP lease %s ignored: %s", path, e)
    return leases


def _text(path: Path) -> str:
    with path.open("rb") as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise LeaseError(f"lease {path.name}: larger than {MAX_BYTES // 1024} KiB")
    return data.decode("utf-8")


def _index(path: Path) -> tuple[int, str]:
    return (int(path.name), "") if path.name.isdigit() else (1 << 30, path.name)
