"""``wipestation store check [--config FILE]``: is the floor's object store ready for records?

One line per check (reachable, credentials, bucket, write, conditional create, checksum, delete,
Object Lock), exit 1 when one fails. Runs on the station or on a laptop with the station's
config; its probe objects live under ``PREFIX/.wipestation-check/`` and are deleted again.
"""

from __future__ import annotations

import argparse
import secrets
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from wipestation import config, paths
from wipestation.config import StationConfig
from wipestation.errors import ConfigError
from wipestation.reports.store import CHECK_DIR, StoreSettings
from wipestation.reports.store_client import (
    BucketMissingError,
    StoreAuthError,
    StoreClient,
    StoreClockError,
    StoreError,
    StoreRejectedError,
    StoreTLSError,
    StoreUnreachableError,
    checksum_headers,
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: not run, because an earlier check failed
    detail: str

    def line(self) -> str:
        word = {True: "OK", False: "FAIL", None: "SKIP"}[self.ok]
        return f"{word:<5} {self.name:<18} {self.detail}"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="store_action", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="test the configured store, one line per check")
    check.add_argument(
        "--config", metavar="FILE", help="station config (default: the station's own)"
    )


def run(args: argparse.Namespace) -> int:
    failed = False
    for check in checks(args.config):
        print(check.line(), flush=True)
        failed |= check.ok is False
    return 1 if failed else 0


def load_config(path: str | None) -> StationConfig:
    """``--config FILE`` alone, or what the station reads (image, stick, network, cmdline)."""
    if path is None:
        return config.load("/proc/cmdline", paths.CONFIG_LAYERS)
    if not Path(path).is_file():
        raise ConfigError("--config", path, "no such file")
    return config.load("/dev/null", (path,))


def checks(path: str | None) -> Iterator[Check]:
    try:
        cfg = load_config(path)
        settings = config.store_settings(cfg)
    except ConfigError as e:
        yield Check("config", False, str(e))
        return
    problems = [p for p in cfg.errors if "store" in p]
    if settings is None or problems:
        yield Check("config", False, "; ".join(problems) or "no store configured (store = ...)")
        return
    yield Check("config", True, describe(settings))
    yield from StoreProbe(settings).run()


def describe(s: StoreSettings) -> str:
    lock = f", retention {s.retention_days} days" if s.retention_days else ""
    return f"{s.location} at {s.endpoint} (region {s.region}{lock})"


#: Every check against the store, in the order they run and print.
CHECKS = (
    "reachable", "credentials", "bucket", "write", "conditional create", "checksum", "delete",
    "object lock",
)  # fmt: skip


class StoreProbe:
    """The checks against the store itself, in order; a failure skips what depends on it."""

    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings
        self.client: StoreClient = settings.client(timeout=15.0)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        name = f"{socket.gethostname()}-{stamp}-{secrets.token_hex(4)}"
        self.key = settings.location.key(CHECK_DIR, f"{name}.txt")
        self.body = f"wipestation store check {name}\n".encode()
        self.version = ""  # the probe's version on a versioned (Object Lock) bucket

    def run(self) -> Iterator[Check]:
        access = list(self.access())
        yield from access
        if any(c.ok is False for c in access):
            yield from (Check(name, None, "not checked") for name in CHECKS[len(access) :])
            return
        steps: list[tuple[str, Callable[[], str]]] = [
            ("write", self.write),
            ("conditional create", self.conditional),
            ("checksum", self.checksum),
            ("delete", self.delete),
        ]
        for name, step in steps:
            yield attempt(name, step)
        yield self.object_lock()

    def access(self) -> Iterator[Check]:
        """reachable, credentials, bucket: one listing under the check prefix answers all three."""
        where = self.settings.endpoint
        try:
            self.client.list(self.settings.location.key(CHECK_DIR) + "/")
        except (StoreUnreachableError, StoreTLSError) as e:
            yield Check("reachable", False, str(e))
            return
        except (StoreAuthError, StoreClockError) as e:
            yield Check("reachable", True, f"{where} answered")
            yield Check("credentials", False, str(e))
            return
        except BucketMissingError as e:
            yield Check("reachable", True, f"{where} answered")
            yield Check("credentials", True, "accepted")
            yield Check("bucket", False, str(e))
            return
        except StoreError as e:
            yield Check("reachable", False, str(e))
            return
        yield Check("reachable", True, f"{where} answered")
        yield Check("credentials", True, f"accepted for {self.settings.credentials.access_key}")
        yield Check("bucket", True, f"{self.settings.location.bucket} exists and can be listed")

    def write(self) -> str:
        created = self.client.put(self.key, self.body)
        if not created.created:
            raise CheckFailed(f"{self.key} existed before the check wrote it")
        self.version = created.version_id
        if self.client.get(self.key) != self.body:
            raise CheckFailed(f"{self.key} read back differs from what was written")
        return f"put + get of {self.key}: byte-identical"

    def conditional(self) -> str:
        again = self.client.put(self.key, b"overwrite attempt\n")
        if again.created or self.client.get(self.key) != self.body:
            raise CheckFailed(
                "the store let a second upload overwrite the first (If-None-Match: * ignored): "
                "records could be replaced"
            )
        return "a second upload of the same key was refused (412): nothing is overwritten"

    def checksum(self) -> str:
        key = self.key.removesuffix(".txt") + "-corrupt.txt"
        headers = checksum_headers(b"not the body")
        headers["x-amz-content-sha256"] = checksum_headers(self.body)["x-amz-content-sha256"]
        try:
            self.client.put_raw(key, self.body, headers)
        except StoreRejectedError as e:
            return f"a body that does not match its checksum was rejected ({e.code or e.status})"
        self.client.delete(key)
        raise CheckFailed(
            "the store accepted a body that does not match its Content-MD5 and "
            "x-amz-checksum-sha256: a corrupted upload would go unnoticed"
        )

    def delete(self) -> str:
        """The probe's version itself where there is one: a plain delete of a versioned key only
        hides it behind a delete marker."""
        self.client.delete(self.key, self.version)
        if self.client.head(self.key) is not None:
            raise CheckFailed(f"{self.key} is still there after its delete")
        return f"{self.key} deleted"

    def object_lock(self) -> Check:
        try:
            lock = self.client.object_lock()
        except StoreError as e:
            return Check("object lock", False, str(e))
        days = self.settings.retention_days
        bucket = self.settings.location.bucket
        if lock.enabled:
            return Check("object lock", True, f"enabled on {bucket}" + (
                f"; every record is locked (COMPLIANCE) for {days} days" if days
                else "; store_retention_days is 0, so records are not locked"
            ))  # fmt: skip
        if days:
            return Check("object lock", False, (
                f"store_retention_days = {days} but bucket {bucket} has no Object Lock: "
                "create a bucket with Object Lock enabled"
            ))  # fmt: skip
        return Check("object lock", True, f"not enabled on {bucket} (records can be deleted)")


class CheckFailed(Exception):  # noqa: N818 (a check's outcome, never raised out of this module)
    """A check ran and the store did the wrong thing."""


def attempt(name: str, step: Callable[[], str]) -> Check:
    """Run one check: its line, never a traceback."""
    try:
        return Check(name, True, step())
    except (CheckFailed, StoreError) as e:
        return Check(name, False, str(e))
    except Exception as e:  # noqa: BLE001 (one line for the operator, whatever broke)
        return Check(name, False, f"{type(e).__name__}: {e}")
