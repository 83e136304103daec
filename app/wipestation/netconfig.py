"""The station config from the network: ``wipestation.config=http(s)://…/station.toml``.

A network-booted station has no stick to carry its ``wipestation.toml``: the boot server's iPXE
script names one on the kernel command line instead (per-MAC or per-station files are the boot
server's business). It is the same TOML as the stick's. It is fetched once per boot, by the
first terminal's instance, retried while the network comes up (bounded: ``FETCH_BUDGET_S`` in
all), over TLS verified against ``wipestation.config_ca=`` (a PEM file) or the system's CAs,
and kept whole in ``/run/wipestation`` with the outcome, so the other terminal and a restarted
station use this boot's answer. A config that cannot be fetched or is not valid TOML is an
outcome too, with the reason, which the boot wiring shows (and then never wipes unattended).
Standard library only (urllib): no process, no proxy from the environment.
"""

from __future__ import annotations

import fcntl
import http.client
import os
import ssl
import threading
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from wipestation import paths
from wipestation.errors import WipestationError

#: The whole fetch, retries included, at boot. The station starts before systemd's basic
#: target (issue 18), networkd long after it: a netbooted VM at load 8 (TCG) had its lease
#: ~35 s after the station asked, and 30 s failed 2 runs of 2 (tests/vm/test_pxe.py).
FETCH_BUDGET_S = 90.0
#: One attempt's socket timeout (connect, and each read), within what is left of the budget.
ATTEMPT_TIMEOUT_S = 5.0
#: How long past the budget an attempt that is still reading is waited for, then given up.
GRACE_S = 1.0
#: A station config is a few hundred bytes; anything this big is not one.
MAX_BYTES = 256 * 1024
FAILED_SUFFIX = ".failed"


class NetConfigError(WipestationError):
    """The network config could not be had; the message says why, in one line."""


class _TransientError(Exception):
    """Worth another attempt while the budget lasts (the network may still be coming up)."""


@dataclass(frozen=True)
class NetSource:
    """Where the kernel command line says the station config is."""

    url: str = ""
    ca: str = ""

    @classmethod
    def from_cmdline(cls, text: str) -> NetSource:
        opts = dict(tok.partition("=")[::2] for tok in text.split())
        return cls(opts.get("wipestation.config", ""), opts.get("wipestation.config_ca", ""))

    @property
    def named(self) -> bool:
        return bool(self.url)


@dataclass(frozen=True)
class NetConfig:
    """This boot's outcome: the fetched file, or why there is none."""

    url: str = ""
    copy: Path | None = None
    problem: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.url) and self.copy is None


#: No ``wipestation.config=`` on the command line: the stick and the image configure the station.
NOT_NAMED = NetConfig()


def _context(ca: str) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=ca or None)
    except (OSError, ssl.SSLError) as e:
        raise NetConfigError(f"wipestation.config_ca={ca}: cannot use it ({e})") from None


def _opener(ca: str) -> urllib.request.OpenerDirector:
    """No proxy from the environment: the config comes from the boot server as named."""
    https = urllib.request.HTTPSHandler(context=_context(ca))
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), https)


def _read(resp: http.client.HTTPResponse, deadline: float) -> bytes:
    """The body in pieces, so a server that trickles cannot outlast the budget."""
    body = b""
    while piece := resp.read1(16384):  # at most one read from the socket: the deadline holds
        body += piece
        if len(body) > MAX_BYTES:
            raise NetConfigError(f"larger than {MAX_BYTES // 1024} KiB: not a station config")
        if time.monotonic() > deadline:
            raise _TransientError("the server sent the file too slowly")
    return body


def _tls_problem(e: ssl.SSLCertVerificationError) -> str:
    why = e.verify_message or str(e)
    hint = "; is the station's clock right?" if "expired" in why or "not yet" in why else ""
    return f"TLS certificate not trusted ({why}{hint}); see wipestation.config_ca="


def _attempt(opener: urllib.request.OpenerDirector, url: str, deadline: float) -> bytes:
    """One GET; a refusal that another attempt cannot change raises NetConfigError."""
    timeout = max(0.1, min(ATTEMPT_TIMEOUT_S, deadline - time.monotonic()))
    try:
        with opener.open(url, timeout=timeout) as resp:
            return _read(resp, deadline)
    except urllib.error.HTTPError as e:
        if e.code >= 500:
            raise _TransientError(f"HTTP {e.code} {e.reason}") from None
        raise NetConfigError(f"HTTP {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        if isinstance(e.reason, ssl.SSLCertVerificationError):
            raise NetConfigError(_tls_problem(e.reason)) from None
        raise _TransientError(_reason(e.reason)) from None
    except (OSError, http.client.HTTPException) as e:  # timeouts, resets, TLS, bad replies
        raise _TransientError(_reason(e)) from None


def _reason(e: object) -> str:
    if isinstance(e, TimeoutError):
        return "no answer (timed out)"
    if isinstance(e, OSError) and e.strerror:
        return e.strerror.lower()
    return str(e) or type(e).__name__


def check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError as e:
        raise NetConfigError(f"not a URL ({e})") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise NetConfigError("expected an http:// or https:// URL")


def parse(body: bytes) -> str:
    """The text, if it is a TOML document (what the station would read); else why not."""
    try:
        text = body.decode("utf-8")
        tomllib.loads(text)
    except UnicodeDecodeError:
        raise NetConfigError("not UTF-8 text: not a station config") from None
    except tomllib.TOMLDecodeError as e:
        raise NetConfigError(f"not valid TOML ({e})") from None
    return text


def fetch(
    source: NetSource,
    budget_s: float = FETCH_BUDGET_S,
    tell: Callable[[str], None] = lambda line: None,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """The config's text, retried with backoff while the network comes up; NetConfigError
    (its message prefixed by the URL) once it is refused or the budget is spent.

    The attempts run in a daemon thread that is given up ``GRACE_S`` after the budget: a
    server that answers a byte at a time (each within the socket timeout) cannot hold the
    boot, whatever urllib's timeouts allow."""
    outcome: list[str | NetConfigError] = []

    def attempt() -> None:
        try:
            outcome.append(_fetch(source, budget_s, tell, sleep))
        except NetConfigError as e:
            outcome.append(e)

    worker = threading.Thread(target=attempt, name="net-config", daemon=True)
    worker.start()
    worker.join(budget_s + GRACE_S)
    found = outcome[0] if outcome else NetConfigError(f"no whole answer in {budget_s:g} s")
    if isinstance(found, NetConfigError):
        raise NetConfigError(f"station config {source.url}: {found}")
    return found


def _fetch(
    source: NetSource, budget_s: float, tell: Callable[[str], None], sleep: Callable[[float], None]
) -> str:
    check_url(source.url)
    opener, start = _opener(source.ca), time.monotonic()
    deadline, pause = start + budget_s, 0.5
    while True:
        try:
            return parse(_attempt(opener, source.url, deadline))
        except _TransientError as e:
            why = str(e)
        left = deadline - time.monotonic()
        if left <= 0:
            raise NetConfigError(f"{why}; gave up after {budget_s:g} s")
        tell(f"station config {source.url}: {why}; retrying ({budget_s - left:.0f} s)")
        sleep(min(pause, left))
        pause = min(pause * 2, 4.0)


def overridden(stick: Path, fetched: Path) -> list[str]:
    """The settings both files set (the network's value wins), for the note on screen."""
    return sorted(set(_settings(stick)) & set(_settings(fetched)))


def _settings(path: Path) -> dict[str, object]:
    """A config file's settings as ``config.load`` reads them (``[station]``, else the top)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    section = data.get("station", data)
    return section if isinstance(section, dict) else {}


def _write_whole(path: Path, text: str) -> None:
    part = path.with_name(f".{path.name}.{os.getpid()}")
    part.write_text(text, encoding="utf-8")
    part.replace(path)


def boot_copy(
    source: NetSource,
    copy: Path | None = None,
    budget_s: float = FETCH_BUDGET_S,
    tell: Callable[[str], None] = lambda line: None,
) -> NetConfig:
    """This boot's network config in ``copy`` (default ``paths.NET_COPY``): fetched by the
    first instance to ask, then read back (the file, or why it failed) by the others and by
    restarts."""
    if not source.named:
        return NOT_NAMED
    copy = copy or paths.NET_COPY
    run_dir = copy.parent
    run_dir.mkdir(parents=True, exist_ok=True)
    failed = copy.with_name(copy.name + FAILED_SUFFIX)
    with open(run_dir / "net-config.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if copy.exists():
            return NetConfig(source.url, copy)
        if failed.exists():
            return NetConfig(source.url, None, failed.read_text(encoding="utf-8"))
        try:
            _write_whole(copy, fetch(source, budget_s, tell))
        except NetConfigError as e:
            _write_whole(failed, str(e))
            return NetConfig(source.url, None, str(e))
    return NetConfig(source.url, copy)
