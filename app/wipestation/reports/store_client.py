"""The S3 client: SigV4-signed HTTP(S) requests to any S3-compatible store, in-process.

Why in-process (measured, issue 20): the image already carries Python's ``http.client``, ``ssl``
(OpenSSL 3), ``hmac`` and ``hashlib``, so this module costs ~0 bytes of boot payload; curl would
add its binary + libcurl4 (the image keeps only libcurl-gnutls for tpm2-tools): 0.53 MiB LZ4 of a
payload at 76.1 of 80 MiB that still needs NIC drivers. In-process, a body is bytes (PDFs), no
secret ever reaches a process's argument list, and no process is started per record.

Every failure is a specific ``StoreError`` whose text an operator understands; none of them ever
contains the secret key (it is used only inside ``_signing_key``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import socket
import ssl
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from wipestation.errors import WipestationError

UNRESERVED = "-_.~"
TIMEOUT = 20.0
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
#: OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH: the certificate is valid but names another host.
HOSTNAME_MISMATCH = 62


class StoreError(WipestationError):
    """The object store could not be used; the message says why in an operator's words."""


class StoreUnreachableError(StoreError):
    """No answer: nothing listens, the name does not resolve, or the network is down."""


class StoreAuthError(StoreError):
    """403 for the credentials: wrong access key or secret, or no permission."""


class StoreTLSError(StoreError):
    """The TLS handshake failed (unknown CA, wrong name, expired certificate)."""


class StoreClockError(StoreError):
    """The station's clock is too far from the store's for a signed request (SigV4: 15 min)."""


class BucketMissingError(StoreError):
    """The configured bucket does not exist."""


class StoreRejectedError(StoreError):
    """The store answered but refused the request (bad checksum, locked object, ...)."""

    def __init__(self, message: str, status: int, code: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


class ObjectLockedError(StoreRejectedError):
    """A delete or overwrite of an object version under Object Lock retention was refused."""


class StoreProtocolError(StoreError):
    """The store's answer could not be read as S3."""


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str = field(repr=False)


@dataclass(frozen=True)
class Endpoint:
    """Where the store listens: ``http(s)://host[:port]``, its region and the CA to trust."""

    url: str
    region: str = "us-east-1"
    ca: str = ""

    @property
    def parts(self) -> urllib.parse.SplitResult:
        return urllib.parse.urlsplit(self.url)


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class PutResult:
    """A delivered object: ``created`` false means it was already there (412), also delivered."""

    key: str
    created: bool
    version_id: str = ""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    version_id: str = ""
    retain_until: str = ""
    lock_mode: str = ""


@dataclass(frozen=True)
class ObjectLockStatus:
    """The bucket's Object Lock: ``enabled`` and its default retention, if any."""

    enabled: bool
    mode: str = ""
    days: int | None = None


def quote(text: str, safe: str = "/") -> str:
    return urllib.parse.quote(text, safe=UNRESERVED + safe)


def canonical_query(query: dict[str, str]) -> str:
    return "&".join(f"{quote(k, '')}={quote(v, '')}" for k, v in sorted(query.items()))


def _signing_key(secret: str, day: str, region: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def sign(
    method: str,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    creds: Credentials,
    region: str,
    now: datetime,
) -> str:
    """The SigV4 ``Authorization`` header over every header in ``headers`` (lower-case names)."""
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    names = sorted(headers)
    canonical = "\n".join(
        [
            method,
            quote(path),
            canonical_query(query),
            "".join(f"{n}:{' '.join(headers[n].split())}\n" for n in names),
            ";".join(names),
            headers["x-amz-content-sha256"],
        ]
    )
    scope = f"{day}/{region}/s3/aws4_request"
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{digest}"
    sig = hmac.new(_signing_key(creds.secret_key, day, region), to_sign.encode(), hashlib.sha256)
    return (
        f"AWS4-HMAC-SHA256 Credential={creds.access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={sig.hexdigest()}"
    )


def error_code(body: bytes) -> tuple[str, str]:
    """(Code, Message) of an S3 error document; ("", "") when there is none."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return "", ""
    return (root.findtext("Code") or "").strip(), (root.findtext("Message") or "").strip()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def xml_items(body: bytes, item: str) -> list[dict[str, str]]:
    """Every ``item`` element's child texts (namespace dropped), for list answers."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise StoreProtocolError(f"the store's answer is not XML ({e})") from e
    return [
        {_local(c.tag): (c.text or "").strip() for c in el}
        for el in root.iter()
        if _local(el.tag) == item
    ]


def checksum_headers(body: bytes) -> dict[str, str]:
    """The integrity headers the store checks the body against, and the payload hash it signs."""
    sha = hashlib.sha256(body)
    return {
        "content-md5": base64.b64encode(hashlib.md5(body).digest()).decode(),
        "x-amz-checksum-sha256": base64.b64encode(sha.digest()).decode(),
        "x-amz-content-sha256": sha.hexdigest(),
    }


def retention_headers(retain_until: datetime) -> dict[str, str]:
    """S3 Object Lock in COMPLIANCE mode: nobody, not even the bucket's owner, deletes before."""
    return {
        "x-amz-object-lock-mode": "COMPLIANCE",
        "x-amz-object-lock-retain-until-date": retain_until.astimezone(UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
    }


class StoreClient:
    """One bucket on one store; every call is one signed request with a timeout."""

    def __init__(
        self,
        endpoint: Endpoint,
        creds: Credentials,
        bucket: str,
        timeout: float = TIMEOUT,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.endpoint, self.creds, self.bucket, self.timeout = endpoint, creds, bucket, timeout
        self.clock = clock

    def __repr__(self) -> str:
        return f"StoreClient({self.endpoint.url!r}, bucket={self.bucket!r})"

    # -- operations ---------------------------------------------------------------------------

    def put(self, key: str, body: bytes, retain_until: datetime | None = None) -> PutResult:
        """Conditional create: 412 (the key exists) counts as delivered, never an overwrite."""
        headers = {"if-none-match": "*", **checksum_headers(body)}
        if retain_until is not None:
            headers.update(retention_headers(retain_until))
        resp = self.request("PUT", key, body=body, headers=headers, ok=(200, 412))
        return PutResult(key, resp.status == 200, resp.headers.get("x-amz-version-id", ""))

    def overwrite(self, key: str, body: bytes, content_type: str = "") -> PutResult:
        """A plain PUT that replaces the object (a station's status.json, never a record): no
        ``If-None-Match``, the same integrity headers."""
        headers = {
            **checksum_headers(body),
            **({"content-type": content_type} if content_type else {}),
        }
        resp = self.request("PUT", key, body=body, headers=headers)
        return PutResult(key, True, resp.headers.get("x-amz-version-id", ""))

    def put_raw(self, key: str, body: bytes, headers: dict[str, str]) -> PutResult:
        """A PUT with the caller's integrity headers (``store check``'s corrupted checksum)."""
        resp = self.request("PUT", key, body=body, headers=headers, ok=(200, 412))
        return PutResult(key, resp.status == 200, resp.headers.get("x-amz-version-id", ""))

    def get(self, key: str) -> bytes:
        return self.request("GET", key).body

    def head(self, key: str) -> ObjectInfo | None:
        """The object's size, ETag and lock, or None when there is no such key."""
        resp = self.request("HEAD", key, ok=(200, 404))
        if resp.status == 404:
            return None
        h = resp.headers
        return ObjectInfo(
            key,
            int(h.get("content-length", "0")),
            h.get("etag", "").strip('"'),
            h.get("x-amz-version-id", ""),
            h.get("x-amz-object-lock-retain-until-date", ""),
            h.get("x-amz-object-lock-mode", ""),
        )

    def list(self, prefix: str, page: int = 1000) -> tuple[ObjectInfo, ...]:
        """Every key under ``prefix`` (ListObjectsV2, ``page`` keys per request, following the
        continuation tokens)."""
        found: list[ObjectInfo] = []
        query = {"list-type": "2", "prefix": prefix, "max-keys": str(page)}
        while True:
            body = self.request("GET", None, query=query).body
            found += [listed(item) for item in xml_items(body, "Contents")]
            token = _top(body).get("NextContinuationToken", "")
            if not token:
                return tuple(found)
            query = {**query, "continuation-token": token}

    def delete(self, key: str, version_id: str = "") -> None:
        """Delete ``key`` (one version of it with ``version_id``); a locked version is refused."""
        if not version_id:
            self.request("DELETE", key, ok=(200, 204))
            return
        resp = self.request("DELETE", key, query={"versionId": version_id}, ok=(200, 204, 403))
        if resp.status == 403 and error_code(resp.body)[0] == "AccessDenied":
            raise ObjectLockedError(
                f"{self._where()} refused to delete {self.bucket}/{key} version {version_id}: "
                "it is under Object Lock retention",
                403,
                "AccessDenied",
            )
        if resp.status == 403:
            raise self._failure("DELETE", key, resp)

    def object_lock(self) -> ObjectLockStatus:
        """The bucket's Object Lock configuration (``GET ?object-lock``)."""
        resp = self.request("GET", "", query={"object-lock": ""}, ok=(200, 404))
        if resp.status == 404:
            if error_code(resp.body)[0] == "NoSuchBucket":
                raise self._failure("GET", None, resp)
            return ObjectLockStatus(False)
        conf = _top(resp.body)
        rule = next(iter(xml_items(resp.body, "DefaultRetention")), {})
        days = rule.get("Days", "")
        return ObjectLockStatus(
            conf.get("ObjectLockEnabled", "") == "Enabled",
            rule.get("Mode", ""),
            int(days) if days.isdigit() else None,
        )

    def create_bucket(self, object_lock: bool = False) -> None:
        """Create the bucket (tests, and a store's first setup); Object Lock only at creation."""
        headers = {"x-amz-bucket-object-lock-enabled": "true"} if object_lock else {}
        self.request("PUT", None, headers=headers)

    # -- one request --------------------------------------------------------------------------

    def request(
        self,
        method: str,
        key: str | None,
        *,
        query: dict[str, str] | None = None,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> Response:
        """One signed request; a status outside ``ok`` becomes the specific ``StoreError``."""
        query = query or {}
        path = f"/{self.bucket}" + ("" if key is None else f"/{key}")
        sent = self._headers(method, path, query, body, headers or {})
        resp = self._send(method, path, query, body, sent)
        if resp.status not in ok:
            raise self._failure(method, key, resp)
        return resp

    def _headers(
        self, method: str, path: str, query: dict[str, str], body: bytes, extra: dict[str, str]
    ) -> dict[str, str]:
        now = self.clock()
        headers = {
            "host": self.endpoint.parts.netloc,
            "x-amz-date": now.strftime("%Y%m%dT%H%M%SZ"),
            "x-amz-content-sha256": hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256,
            **{k.lower(): v for k, v in extra.items()},
        }
        auth = sign(method, path, query, headers, self.creds, self.endpoint.region, now)
        return {**headers, "authorization": auth, "content-length": str(len(body))}

    def _send(
        self, method: str, path: str, query: dict[str, str], body: bytes, headers: dict[str, str]
    ) -> Response:
        target = quote(path) + (f"?{canonical_query(query)}" if query else "")
        conn = self._connection()
        try:
            conn.request(method, target, body=body or None, headers=headers)
            r = conn.getresponse()
            data = r.read()
        except ssl.SSLError as e:
            raise StoreTLSError(self._tls_words(e)) from None
        except (OSError, http.client.HTTPException) as e:
            raise StoreUnreachableError(self._unreachable_words(e)) from None
        finally:
            conn.close()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)

    def _connection(self) -> http.client.HTTPConnection:
        p = self.endpoint.parts
        host, port = p.hostname or "", p.port
        if p.scheme == "http":
            return http.client.HTTPConnection(host, port, timeout=self.timeout)
        try:
            ctx = ssl.create_default_context(cafile=self.endpoint.ca or None)
        except (OSError, ssl.SSLError) as e:
            raise StoreTLSError(f"store_ca {self.endpoint.ca}: unusable ({e})") from None
        return http.client.HTTPSConnection(host, port, timeout=self.timeout, context=ctx)

    # -- words for the operator ---------------------------------------------------------------

    def _where(self) -> str:
        return f"store {self.endpoint.url}"

    def _unreachable_words(self, e: BaseException) -> str:
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e) or type(e).__name__
        if isinstance(e, socket.timeout | TimeoutError):
            why = f"no answer within {self.timeout:g} s"
        return f"{self._where()} unreachable: {why} (is the store running, the endpoint right?)"

    def _tls_words(self, e: ssl.SSLError) -> str:
        why = getattr(e, "verify_message", "") or e.reason or str(e)
        if getattr(e, "verify_code", 0) == HOSTNAME_MISMATCH:
            hint = "use the host name the store's certificate names in store_endpoint"
        elif e.reason == "WRONG_VERSION_NUMBER":
            hint = "the store does not speak TLS on this port: http:// instead of https://?"
        elif not self.endpoint.ca:
            hint = "set store_ca to the CA certificate that signed the store's certificate"
        else:
            hint = f"is {self.endpoint.ca} the CA that signed the store's certificate?"
        return f"TLS to {self._where()} failed: {why} ({hint})"

    def _failure(self, method: str, key: str | None, resp: Response) -> StoreError:
        code, message = error_code(resp.body)
        what = f"{method} {self.bucket}/{key or ''}".rstrip("/")
        if code == "NoSuchBucket" or (resp.status == 404 and key is None):
            return BucketMissingError(f"bucket {self.bucket!r} does not exist on {self._where()}")
        if code == "RequestTimeTooSkewed":
            return StoreClockError(
                f"{self._where()} refused the request: this station's clock "
                f"({self.clock():%Y-%m-%d %H:%M} UTC) is too far from the store's: set the clock"
            )
        if resp.status == 403 and code in AUTH_CODES:
            return StoreAuthError(
                f"{self._where()} refused the credentials ({resp.status} {code or 'Forbidden'}): "
                "check store_access_key and store_secret_key, and that the key may use the bucket"
            )
        detail = f"{code}: {message}" if code else f"HTTP {resp.status}"
        return StoreRejectedError(f"{self._where()} refused {what}: {detail}", resp.status, code)


#: S3 error codes that mean "these credentials are wrong", not "this object is protected".
AUTH_CODES = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", ""}
)


def listed(item: dict[str, str]) -> ObjectInfo:
    """One ``Contents`` entry of a listing."""
    size = item.get("Size", "")
    if not item.get("Key") or not size.isdigit():
        raise StoreProtocolError(f"a listing entry without a key or size: {item}")
    return ObjectInfo(item["Key"], int(size), item.get("ETag", "").strip('"'))


def _top(body: bytes) -> dict[str, str]:
    """The root element's direct child texts (namespace dropped)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise StoreProtocolError(f"the store's answer is not XML ({e})") from e
    return {_local(c.tag): (c.text or "").strip() for c in root}
