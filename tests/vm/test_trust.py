"""Issue 17, trust: a station with a TPM 2.0 signs inside it, and nothing on its sticks can forge.

The guest gets QEMU's TPM (TIS) backed by a real software TPM (Debian's swtpm) whose state lives
in a host directory. An unattended station wipes a disk; from the host, after power-off: the
record says ``tpm`` and carries an ECDSA P-256 signature that verifies against the identity the
station published (hostcheck); no private key lies anywhere on the report stick or the boot
stick; a record forged with a fresh key, or one claiming the TPM's public key, fails
``verify-report`` against the enrolled identity. A second boot with the same TPM state is the
same station (same fingerprint), and its record continues the first one's chain.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from wipestation.cli import run as cli_run
from wipestation.reports.record import Record, serialize
from wipestation.reports.sign import ECDSA_P256, fingerprint_of, raw_of_public, sign_record

from tests.helpers import procs
from tests.vm.hostcheck import BOOT_FAT, Reports, Stick, published_identities, result_of
from tests.vm.machine import Image, Machine
from tests.vm.rack import Disk, Rack, ReportStick
from tests.vm.test_scenarios import assert_erased, report_stick, run_to_poweroff, unattended

pytestmark = pytest.mark.vm

#: What the boot stick's key home may hold with a TPM: public material and the record counter.
PUBLIC_KEY_HOME = (
    r"/wipestation-keys/[^/]+\.(pub\.pem|fingerprint|protection)"
    r"|/wipestation-keys/chain-[0-9a-f]+\.json"
)
#: PEM labels of private keys (PKCS#8, SEC1, PKCS#1, OpenSSH, encrypted PKCS#8).
PRIVATE_PEM = re.compile(rb"-----BEGIN (?:[A-Z0-9 ]+ )?PRIVATE KEY-----")


@contextmanager
def swtpm(state: Path) -> Iterator[Path]:
    """A software TPM 2.0 keeping its state in ``state``; yields its control socket for QEMU.
    Stopped by its PID (SIGTERM, then SIGKILL) when QEMU has not ended it already."""
    exe = shutil.which("swtpm")
    assert exe, "swtpm is not installed (make deps installs it)"
    state.mkdir(parents=True, exist_ok=True)
    sock = state / "swtpm.sock"
    sock.unlink(missing_ok=True)
    argv = [
        exe, "socket", "--tpm2", "--tpmstate", f"dir={state}",
        "--ctrl", f"type=unixio,path={sock}", "--log", f"file={state / 'swtpm.log'},level=1",
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not sock.exists():
            assert proc.poll() is None, f"swtpm exited with status {proc.returncode}"
            assert time.monotonic() < deadline, "swtpm did not open its control socket in 20 s"
            time.sleep(0.05)
        yield sock
    finally:
        procs.stop(proc)


def boot_stick(m: Machine) -> Stick:
    return Stick(m.dir / "boot-stick.img", BOOT_FAT)


def private_keys_on(stick: Stick, skip: tuple[str, ...] = ()) -> list[str]:
    """Files on the stick holding a PEM private key, or named like a key file."""
    found = []
    for path in stick.files():
        if path.startswith(skip):
            continue
        if PRIVATE_PEM.search(stick.read(path)) or re.search(r"\.(key|priv|ctx)$|ed25519", path):
            found.append(path)
    return found


def identity_fingerprint(stick: Stick) -> str:
    (fingerprint,) = published_identities(stick, stick.files())
    return fingerprint


def identity_file(stick: Stick, workdir: Path) -> Path:
    (path,) = [p for p in stick.files() if p.startswith("/wipestation-identity/")]
    local = workdir / Path(path).name
    local.write_bytes(stick.read(path))
    return local


@dataclass(frozen=True)
class Forger:
    """A key the forger holds, signing the way a station's signer does (``StationSigner``)."""

    key: Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    protection: str

    @property
    def algorithm(self) -> str:
        return raw_of_public(self.key.public_key())[0]

    @property
    def public_raw(self) -> bytes:
        return raw_of_public(self.key.public_key())[1]

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.public_raw)

    def sign_bytes(self, data: bytes) -> bytes:
        if isinstance(self.key, Ed25519PrivateKey):
            return self.key.sign(data)
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))

    def sign(self, record: Record, signed_at: str | None = None) -> Record:
        return sign_record(self, record, signed_at)


def forged(forger: Forger, real: Record) -> Record:
    """``real`` made to name a drive that was never attached, re-signed by ``forger``."""
    body = {k: v for k, v in real.items() if k != "signature"}
    body["drive"] = {**body["drive"], "serial": "NEVER-ATTACHED"}
    return forger.sign(body)


def verify(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli_run(["verify-report", *argv])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_tpm_station_signs_inside_the_tpm_and_its_sticks_cannot_forge(
    image: Image, capsys: pytest.CaptureFixture[str]
) -> None:
    t0 = time.monotonic()
    home = Path(tempfile.mkdtemp(prefix="wsT-tpm-"))  # short: a unix socket path lives here
    workdir, state = home / "vm", home / "tpm-state"
    first, second = Disk("nvme", 16, "TPMDISK01"), Disk("virtio", 16, "TPMDISK02")
    boot = unattended(image, "overwrite-zero", stick=True)

    # ---- first boot: the key is created in the TPM; a disk is wiped ----
    with swtpm(state) as sock, Machine(
        boot, rack=Rack((first,), report_stick=ReportStick()), name="trust-1",
        workdir=workdir, tpm_socket=sock,
    ) as m:  # fmt: skip
        done = run_to_poweroff(m)
        assert done.groups() == ("1", "0", "1"), done[0]
        assert_erased(m, first)
        reports = Reports.load(report_stick(m))  # schema, signature vs published identity, chain
        rec = reports.check_drive(first)
        assert result_of(rec) == "PASS", rec["result"]
        sig = rec["signature"]
        assert (sig["key_protection"], sig["algorithm"]) == ("tpm", ECDSA_P256), sig
        assert len(base64.b64decode(sig["public_key"])) == 65  # an uncompressed P-256 point
        assert rec["chain"]["sequence"] == 1, rec["chain"]
        fingerprint = identity_fingerprint(report_stick(m))
        assert sig["key_fingerprint"] == fingerprint
        identity = identity_file(report_stick(m), home)
        assert json.loads(identity.read_bytes())["key"]["protection"] == "tpm"

        # No private key material on either stick: the report stick, every byte of it (it has
        # no compressed files a key could hide in); the boot stick, every file but the kernel
        # and initrd, and its key home holds public material and the counter only.
        report_bytes = m.prepared.report_stick.read_bytes()  # type: ignore[union-attr]
        assert not PRIVATE_PEM.search(report_bytes), "a PEM private key on the report stick"
        assert private_keys_on(report_stick(m)) == []
        stick = boot_stick(m)
        assert private_keys_on(stick, skip=("/boot/", "/EFI/")) == []
        key_home = [p for p in stick.files() if p.startswith("/wipestation-keys/")]
        assert key_home, "the station kept no record counter on its boot stick"
        assert all(re.fullmatch(PUBLIC_KEY_HOME, p) for p in key_home), key_home
        protection = [p for p in key_home if p.endswith(".protection")]
        assert [stick.read(p) for p in protection] == [b"tpm\n"], protection
        real_json = home / "real.json"
        real_json.write_bytes(report_stick(m).read(reports.json_paths[first.serial]))

    # ---- from the host: the enrolled identity accepts the real record, refuses forgeries ----
    real = json.loads(real_json.read_bytes())
    code, text = verify(capsys, "--trust", str(identity), str(real_json))
    assert code == 0, text
    assert f"{fingerprint} (tpm)" in text
    code, text = verify(capsys, "--fingerprint", fingerprint, "--origin", str(real_json))
    assert code == 0, text
    # No key was found on the sticks (above): the forger's best is a key of their own, as an
    # Ed25519 "file" key or as a P-256 key passed off as a TPM's.
    forgeries = {
        "ed25519": forged(Forger(Ed25519PrivateKey.generate(), "file"), real),
        "p256": forged(Forger(ec.generate_private_key(ec.SECP256R1()), "tpm"), real),
    }
    # ... or the TPM's own public key and fingerprint pasted over a signature it did not make.
    stolen = forgeries["p256"]
    stolen["signature"] = {**stolen["signature"], **{k: real["signature"][k] for k in
                           ("public_key", "key_fingerprint")}}  # fmt: skip
    forgeries["tpm-public-key"] = stolen
    for name, record in forgeries.items():
        path = home / f"forged-{name}.json"
        path.write_bytes(serialize(record))
        for anchor in (["--trust", str(identity)], ["--fingerprint", fingerprint]):
            code, text = verify(capsys, *anchor, str(path))
            assert code == 1, f"{name} {anchor[0]}: {text}"
            assert f"{path}: OK" not in text, text
    code, text = verify(capsys, "--trust", str(identity), str(home / "forged-ed25519.json"))
    assert "unknown key" in text, text
    code, text = verify(capsys, "--trust", str(identity), str(home / "forged-tpm-public-key.json"))
    assert "signature does not match" in text, text

    # ---- second boot, same TPM state: the same station, its chain continued ----
    boot2 = Rack((second,), report_stick=ReportStick())
    with swtpm(state) as sock, Machine(
        boot, rack=boot2, name="trust-2", workdir=workdir, reuse=True, tpm_socket=sock
    ) as m:  # fmt: skip
        done = run_to_poweroff(m)
        assert done.groups() == ("1", "0", "1"), done[0]
        assert_erased(m, second)
        assert identity_fingerprint(report_stick(m)) == fingerprint  # one station, one identity
        reports = Reports.load(report_stick(m), (fingerprint,))  # both records, one chain
        assert sorted(reports.records) == [first.serial, second.serial]
        rec2 = reports.check_drive(second)
        assert rec2["signature"]["key_fingerprint"] == fingerprint
        assert rec2["signature"]["key_protection"] == "tpm"
        assert rec2["chain"]["sequence"] == 2, rec2["chain"]
        assert private_keys_on(report_stick(m)) == []
        assert private_keys_on(boot_stick(m), skip=("/boot/", "/EFI/")) == []
    shutil.rmtree(home)
    print(f"[trust] two TPM boots and the host checks in {time.monotonic() - t0:.0f} s")
