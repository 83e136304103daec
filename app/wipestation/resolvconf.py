"""``/etc/resolv.conf`` from the DHCP leases' DNS servers, so host names resolve.

Why here: without systemd-resolved (it brings D-Bus), networkd keeps the lease's DNS= to itself,
and glibc reads only ``/etc/resolv.conf``: a store endpoint or a config URL with a host name
would not resolve. The file is written whole (a temporary file renamed over it) and only when
it is absent or ours (its first line is ``MARKER``): a resolv.conf the image or an operator put
there is left alone. The image has none (image/slim.sh drops the build host's copy).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from wipestation.leases import Lease

RESOLV_CONF = Path("/etc/resolv.conf")
MARKER = "# written by wipestation from the DHCP lease (systemd-networkd)"
#: glibc reads at most three nameserver lines and six search domains.
MAX_SERVERS, MAX_DOMAINS = 3, 6
#: How often the leases are looked at: often while the network comes up, then now and then.
FAST_S, FAST_FOR_S, SLOW_S = 1.0, 120.0, 10.0
log = logging.getLogger(__name__)


def render(leases: Sequence[Lease]) -> str:
    """The file for these leases ('' when they name no DNS server)."""
    servers = list(dict.fromkeys(s for lease in leases for s in lease.dns))[:MAX_SERVERS]
    if not servers:
        return ""
    domains = list(dict.fromkeys(d for lease in leases for d in lease.domains))[:MAX_DOMAINS]
    lines = [MARKER, *(f"nameserver {s}" for s in servers)]
    lines += [f"search {' '.join(domains)}"] if domains else []
    return "\n".join(lines) + "\n"


def ours(path: Path) -> bool:
    """Absent, or written by this module: ours to (re)write."""
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            return f.readline().rstrip("\n") == MARKER
    except FileNotFoundError:
        return True
    except OSError:
        return False


def update(leases: Sequence[Lease], path: Path = RESOLV_CONF) -> bool:
    """Write ``path`` for ``leases`` when it is ours and would change; True when written."""
    text = render(leases)
    if not text or not ours(path) or _current(path) == text:
        return False
    part = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        part.write_text(text, encoding="utf-8")
        part.chmod(0o644)
        part.replace(path)
    except OSError as e:
        with contextlib.suppress(OSError):
            part.unlink()
        log.warning("%s not written: %s", path, e)
        return False
    log.info("%s written: %s", path, "; ".join(text.splitlines()[1:]))
    return True


def _current(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def follow(
    read: Callable[[], Sequence[Lease]],
    path: Path = RESOLV_CONF,
    stop: threading.Event | None = None,
) -> None:
    """Keep ``path`` in step with the leases for the station's life: every ``FAST_S`` while the
    network comes up, every ``SLOW_S`` after (a lease may come late, or change)."""
    stop = stop or threading.Event()
    start = time.monotonic()
    while True:
        update(read(), path)
        pause = FAST_S if time.monotonic() - start < FAST_FOR_S else SLOW_S
        if stop.wait(pause):
            return


def start_following(read: Callable[[], Sequence[Lease]], path: Path = RESOLV_CONF) -> None:
    threading.Thread(target=follow, args=(read, path), name="resolv.conf", daemon=True).start()
