"""The S3 client against a real SeaweedFS store (tests/store/seaweed.py): no mock S3."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from wipestation.reports.store_client import (
    BucketMissingError,
    Credentials,
    Endpoint,
    ObjectLockedError,
    StoreAuthError,
    StoreClient,
    StoreClockError,
    StoreRejectedError,
    StoreTLSError,
    StoreUnreachableError,
    checksum_headers,
    sign,
)

from tests.store.seaweed import Seaweed, new_seaweed

#: Every byte value, twice: a PDF is binary, and a text round trip would show here.
BODY = bytes(range(256)) * 2 + "Zertifikat – 証明書\n".encode()


@pytest.fixture(scope="module")
def floor(seaweed: Seaweed) -> StoreClient:
    return seaweed.make_bucket("floor")


@pytest.fixture(scope="module")
def locked(seaweed: Seaweed) -> StoreClient:
    return seaweed.make_bucket("floor-locked", object_lock=True)


def test_sigv4_matches_the_aws_documented_example() -> None:
    """AWS S3 API reference, "Signature Calculations for the Authorization Header", GET Object
    example: the published signature for examplebucket/test.txt with Range: bytes=0-9."""
    headers = {
        "host": "examplebucket.s3.amazonaws.com",
        "range": "bytes=0-9",
        "x-amz-content-sha256": hashlib.sha256(b"").hexdigest(),
        "x-amz-date": "20130524T000000Z",
    }
    creds = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    auth = sign(
        "GET", "/test.txt", {}, headers, creds, "us-east-1", datetime(2013, 5, 24, tzinfo=UTC)
    )
    assert auth == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


def test_round_trip_is_byte_identical(floor: StoreClient) -> None:
    key = "site-a/records/no-lot/SN1/" + hashlib.sha256(BODY).hexdigest() + ".pdf"
    put = floor.put(key, BODY)
    assert put.created
    assert floor.get(key) == BODY
    info = floor.head(key)
    assert info is not None
    assert info.size == len(BODY)
    assert info.etag == hashlib.md5(BODY).hexdigest()
    assert [o.key for o in floor.list("site-a/records/no-lot/")] == [key]
    assert floor.head("site-a/records/no-such-key.json") is None


def test_second_put_is_already_delivered_and_never_overwrites(floor: StoreClient) -> None:
    key = "site-a/records/lot-1/SN2/record.json"
    assert floor.put(key, b'{"first": true}').created
    again = floor.put(key, b'{"second": true}')
    assert again.created is False  # 412: already there, which counts as delivered
    assert floor.get(key) == b'{"first": true}'


@pytest.mark.parametrize("header", ["content-md5", "x-amz-checksum-sha256"])
def test_a_body_not_matching_its_checksum_is_rejected_by_the_store(
    floor: StoreClient, header: str
) -> None:
    """Each integrity header alone: the store must check it (the body is what arrived)."""
    key = f"site-a/corrupt-{header}.json"
    headers = checksum_headers(b"the body as signed")
    headers[header] = checksum_headers(b"the body as corrupted")[header]
    other = "x-amz-checksum-sha256" if header == "content-md5" else "content-md5"
    del headers[other]
    with pytest.raises(StoreRejectedError) as caught:
        floor.put_raw(key, b"the body as signed", headers)
    assert caught.value.status == 400
    assert caught.value.code == "BadDigest"
    assert floor.head(key) is None


def test_wrong_secret_is_an_auth_error_that_never_shows_the_secret(seaweed: Seaweed) -> None:
    floor_client = seaweed.make_bucket("floor-auth")
    wrong = Credentials(seaweed.credentials.access_key, "wrong-secret-Zq93Xk")
    client = seaweed.client("floor-auth", wrong)
    with pytest.raises(StoreAuthError) as caught:
        client.put("site-a/x.json", b"{}")
    text = str(caught.value)
    assert "refused the credentials" in text
    assert "store_secret_key" in text
    assert "wrong-secret-Zq93Xk" not in text
    assert "wrong-secret-Zq93Xk" not in repr(client)
    assert "wrong-secret" not in repr(wrong)
    assert floor_client.head("site-a/x.json") is None


def test_unknown_access_key_is_an_auth_error(seaweed: Seaweed) -> None:
    client = seaweed.client("floor", Credentials("no-such-key", seaweed.credentials.secret_key))
    with pytest.raises(StoreAuthError, match="InvalidAccessKeyId"):
        client.get("anything")


def test_missing_bucket_is_named(seaweed: Seaweed) -> None:
    with pytest.raises(BucketMissingError, match="'no-such-bucket' does not exist"):
        seaweed.client("no-such-bucket").list("")


def test_stopped_store_is_unreachable(tmp_path: Path) -> None:
    server = new_seaweed(tmp_path / "weed")
    server.start()
    try:
        client = server.make_bucket("floor")
        assert client.put("k.json", b"1").created
    finally:
        server.stop()
    with pytest.raises(StoreUnreachableError, match="unreachable: Connection refused"):
        client.get("k.json")


def test_object_lock_status(floor: StoreClient, locked: StoreClient) -> None:
    assert floor.object_lock().enabled is False
    assert locked.object_lock().enabled is True


def test_a_locked_record_version_cannot_be_deleted(locked: StoreClient) -> None:
    """COMPLIANCE retention: not even the holder of the store's admin key deletes the version."""
    key = "site-a/records/lot-7/SN-FAIL/fail-record.json"
    until = datetime.now(UTC) + timedelta(days=1)
    put = locked.put(key, b'{"result": "FAIL"}', retain_until=until)
    assert put.created
    assert put.version_id
    info = locked.head(key)
    assert info is not None
    assert info.lock_mode == "COMPLIANCE"
    assert info.retain_until == until.strftime("%Y-%m-%dT%H:%M:%SZ")
    with pytest.raises(ObjectLockedError, match="under Object Lock retention"):
        locked.delete(key, put.version_id)
    # a plain delete only hides it behind a delete marker; the locked version stays readable
    locked.delete(key)
    body = locked.request("GET", key, query={"versionId": put.version_id}).body
    assert body == b'{"result": "FAIL"}'


def test_tls_needs_the_private_ca_and_the_right_name(seaweed: Seaweed, floor: StoreClient) -> None:
    """The store's https port, its certificate signed by a private CA (tests/store/seaweed.py)."""
    assert floor.put("site-a/tls.json", b'{"tls": 1}').created
    plain = StoreClient(Endpoint(seaweed.https_endpoint), seaweed.credentials, "floor")
    with pytest.raises(StoreTLSError, match="set store_ca to the CA certificate"):
        plain.get("site-a/tls.json")
    creds = seaweed.credentials
    trusted = StoreClient(Endpoint(seaweed.https_endpoint, ca=str(seaweed.ca)), creds, "floor")
    assert trusted.get("site-a/tls.json") == b'{"tls": 1}'
    by_name = seaweed.https_endpoint.replace("127.0.0.1", "localhost")
    wrong_name = StoreClient(Endpoint(by_name, ca=str(seaweed.ca)), seaweed.credentials, "floor")
    with pytest.raises(StoreTLSError, match="certificate is not valid for 'localhost'"):
        wrong_name.get("site-a/tls.json")
    not_tls = StoreClient(Endpoint(seaweed.endpoint.replace("http:", "https:")), creds, "floor")
    with pytest.raises(StoreTLSError, match="does not speak TLS on this port"):
        not_tls.get("site-a/tls.json")


def test_listing_follows_continuation_tokens(seaweed: Seaweed, floor: StoreClient) -> None:
    for i in range(5):
        floor.put(f"site-b/paged/{i}.json", b"{}")
    keys = [o.key for o in floor.list("site-b/paged/", page=2)]
    assert keys == [f"site-b/paged/{i}.json" for i in range(5)]


def test_a_station_clock_an_hour_off_is_named(seaweed: Seaweed, floor: StoreClient) -> None:
    """SigV4 carries the time; the store refuses one too far from its own (measured: 1 h)."""
    slow = datetime.now(UTC) - timedelta(hours=1)
    skewed = StoreClient(Endpoint(seaweed.endpoint), seaweed.credentials, "floor",
                         clock=lambda: slow)  # fmt: skip
    with pytest.raises(StoreClockError, match="this station's clock .* is too far from the store"):
        skewed.list("site-a/")
