"""The station's identity file (``wipestation.identity/1``): its public key, for enrolment.

An office enrols a station once: it takes this file (or the PEM public key, or just the
fingerprint shown on the station) from a channel it trusts and passes it to ``verify-report
--trust``. The file is signed by the key it names, which proves the key's holder made it, not
that the file came from the right station: that is what enrolling it means.
"""

from __future__ import annotations

from pathlib import Path

from wipestation import __version__
from wipestation.discovery.identity import safe_filename
from wipestation.errors import ReportError
from wipestation.reports.atomic import mkdirs_durable, write_atomic
from wipestation.reports.record import Record, now_iso, serialize
from wipestation.reports.sign import (
    StationSigner,
    fingerprint_of,
    pem_of,
    public_from_pem,
    verify_record,
)

SCHEMA_ID = "wipestation.identity/1"
#: Where the writer leaves a copy on the report medium (public: enrolment material only).
IDENTITY_DIR = "wipestation-identity"


def build_identity(signer: StationSigner, station_id: str, created_at: str = "") -> Record:
    body: Record = {
        "schema": SCHEMA_ID,
        "created_at": created_at or now_iso(),
        "station": {"id": station_id, "software_version": __version__},
        "key": {
            "algorithm": signer.algorithm,
            "protection": signer.protection,
            "fingerprint": signer.fingerprint,
            "public_key_pem": pem_of(signer.algorithm, signer.public_raw).decode("ascii"),
        },
    }
    return signer.sign(body)


def identity_name(station_id: str) -> str:
    return f"{safe_filename(station_id)}.identity.json"


def write_identity(directory: Path, signer: StationSigner, station_id: str) -> Path:
    """Write (durably) the identity file; an unchanged key leaves an existing file alone."""
    path = directory / identity_name(station_id)
    try:
        if fingerprint_of_identity(path.read_bytes()) == signer.fingerprint:
            return path
    except (OSError, ReportError):
        pass
    mkdirs_durable(directory)
    return write_atomic(path, serialize(build_identity(signer, station_id)))


def check_identity(record: Record) -> str:
    """The fingerprint an identity record enrols; ReportError when it is not a sound one.

    The key it names (``key.public_key_pem``, else ``key.fingerprint``) must be the key that
    signed it: a damaged or altered identity is refused rather than trusted.
    """
    if record.get("schema") != SCHEMA_ID:
        raise ReportError(f"not a station identity file ({SCHEMA_ID})")
    named = _named_key(record.get("key"))
    verdict = verify_record(record)
    if not verdict.ok or verdict.fingerprint != named:
        why = verdict.reason if not verdict.ok else f"it is signed by {verdict.fingerprint}"
        raise ReportError(f"the identity is not signed by the key it names ({why})")
    return named


def _named_key(key: object) -> str:
    """The fingerprint of the key an identity names (computed from its PEM when it has one)."""
    if not isinstance(key, dict):
        raise ReportError("the identity names no key")
    pem, given = key.get("public_key_pem"), key.get("fingerprint")
    if isinstance(pem, str):
        fp = fingerprint_of(public_from_pem(pem.encode())[1])
        if given is not None and given != fp:
            raise ReportError("the identity's key fingerprint is not its public key's")
        return fp
    if isinstance(given, str):
        return given
    raise ReportError("the identity names no key (key.public_key_pem)")


def fingerprint_of_identity(data: bytes) -> str:
    from wipestation.reports.readrecord import parse_object

    return check_identity(parse_object(data))
