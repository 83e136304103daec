"""An S3-compatible store as a reconcile SOURCE (``s3://BUCKET/PREFIX``, issue 20).

Stations upload each record under ``PREFIX/records/<lot or no-lot>/<identity>/<sha256>.json``;
every ``*.json`` there is read and goes through the verifier a stick's file goes through
(``sources.check_bytes``), so the store yields the same ``FoundRecord``/``Rejected`` values and
reconcile does not know where a record came from. The store's settings come from options or the
standard AWS environment variables; a secret is never an option (a process's arguments are
visible to every user of the machine).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wipestation.custody.records import FoundRecord
from wipestation.custody.sources import (
    MAX_RECORD_BYTES,
    Collected,
    Collector,
    Rejected,
    SourceError,
    check_bytes,
)
from wipestation.discovery.identity import safe_filename
from wipestation.reports.store import (
    StoreLocation,
    StoreSettings,
    parse_endpoint,
    parse_region,
    read_credentials,
)
from wipestation.reports.store_client import (
    Credentials,
    StoreAuthError,
    StoreClient,
    StoreError,
    StoreTLSError,
)

SCHEME = "s3://"
DEFAULT_REGION = "us-east-1"
CREDENTIALS_HINT = "--store-credentials-file FILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"


@dataclass(frozen=True)
class StoreOptions:
    """What the command line says about the store (empty: ask the environment)."""

    endpoint: str = ""
    region: str = ""
    credentials_file: str = ""
    ca: str = ""


def is_store(source: str) -> bool:
    return source.startswith(SCHEME)


def _bad(source: str, why: str) -> SourceError:
    return SourceError(f"{source}: {why}")


def _credentials(source: str, options: StoreOptions, env: Mapping[str, str]) -> Credentials:
    """The credentials file named, else the AWS environment variables; never the secret in
    a message."""
    if options.credentials_file:
        try:
            return read_credentials(Path(options.credentials_file))
        except ValueError as e:
            raise _bad(source, str(e)) from None
    key, secret = env.get("AWS_ACCESS_KEY_ID", ""), env.get("AWS_SECRET_ACCESS_KEY", "")
    if not (key.strip() and secret.strip()):
        raise _bad(source, f"no credentials for the store: give {CREDENTIALS_HINT}")
    return Credentials(key.strip(), secret.strip())


def settings_for(source: str, options: StoreOptions, env: Mapping[str, str]) -> StoreSettings:
    """The store's typed settings; raises SourceError naming what is missing or wrong."""
    try:
        location = StoreLocation.parse(source)
    except ValueError as e:
        raise _bad(source, str(e)) from None
    endpoint = options.endpoint or env.get("AWS_ENDPOINT_URL", "")
    if not endpoint:
        raise _bad(source, "which store? give --store-endpoint URL (or AWS_ENDPOINT_URL)")
    region = options.region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or ""
    try:
        endpoint, region = parse_endpoint(endpoint), parse_region(region or DEFAULT_REGION)
    except ValueError as e:
        raise _bad(source, f"store endpoint or region: {e}") from None
    creds = _credentials(source, options, env)
    return StoreSettings(location, endpoint, region, creds, options.ca)


def record_prefixes(location: StoreLocation, lot: str) -> tuple[str, ...]:
    """All lots' records, or the lot's and the untagged ones when the lot is known."""
    if not lot:
        return (location.key("records") + "/",)
    return tuple(location.key("records", part) + "/" for part in (safe_filename(lot), "no-lot"))


def _check(
    client: StoreClient, name: str, key: str, size: int, trusted: tuple[str, ...]
) -> FoundRecord | Rejected | None:
    if size > MAX_RECORD_BYTES:  # not fetched: one planted object must not fill the memory
        return Rejected(name, f"cannot read: larger than {MAX_RECORD_BYTES // 2**20} MiB")
    return check_bytes(name, client.get(key), trusted)


def _collect(settings: StoreSettings, lot: str, trusted: tuple[str, ...]) -> Collected:
    client = settings.client()
    out = Collector()  # sorts as a stick's records are sorted (unenrolled kept apart)
    bucket = settings.location.bucket
    for prefix in record_prefixes(settings.location, lot):
        for obj in client.list(prefix):
            if not obj.key.endswith(".json"):
                continue
            out.add(_check(client, f"{SCHEME}{bucket}/{obj.key}", obj.key, obj.size, trusted))
    return out.collected()


def collect_store(settings: StoreSettings, lot: str, trusted: tuple[str, ...]) -> Collected:
    """Every record in the store (the lot's, when known), verified; a store that cannot be
    used is a SourceError in the operator's words."""
    try:
        return _collect(settings, lot, trusted)
    except StoreAuthError:
        raise _bad(
            str(settings.location),
            f"store {settings.endpoint} refused the credentials (403): check {CREDENTIALS_HINT}, "
            "and that the key may read the bucket",
        ) from None
    except StoreTLSError as e:  # the client speaks of the station's store_ca setting
        raise _bad(str(settings.location), str(e).replace("store_ca", "--store-ca")) from None
    except StoreError as e:
        raise _bad(str(settings.location), str(e)) from None
