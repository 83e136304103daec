"""``tpm2-tools``: a station signing key that never leaves the TPM 2.0 chip.

Why tpm2-tools and not a Python binding: both need the same tpm2-tss libraries (libtss2-esys,
-mu, -sys, -tctildr and one TCTI, ~1.4 MiB installed); on top of them tpm2-tools is 1.7 MiB,
Debian's python3-tpm2-pytss 1.6 MiB plus cffi, and PyPI ships tpm2-pytss as a source
distribution only (a C build against libtss2-dev in every .venv and image). Four short commands
are all a station needs, and like every other tool here their command lines go to the log.

The key is an ECDSA P-256 signing key (TPMs do not do Ed25519) created under the owner
hierarchy with ``fixedtpm|fixedparent|sensitivedataorigin``: the TPM generated it and will
never export it. It is made persistent at ``HANDLE``, so nothing private is ever written to a
file; only its public key (PEM) leaves the chip. Which TPM: ``TPM2TOOLS_TCTI`` when set (the
tests' software TPM, ``swtpm:host=127.0.0.1,port=N``), else the kernel's resource manager
``/dev/tpmrm0`` (Debian's kernel has tpm_tis and tpm_crb built in), else none.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from wipestation.errors import ToolError, ToolFailedError
from wipestation.tools.runner import Runner, run

TCTI_ENV = "TPM2TOOLS_TCTI"
DEVICE = Path("/dev/tpmrm0")
#: The station key's persistent handle (owner range 0x81000000-0x817FFFFF; "WS").
HANDLE = 0x81015753
#: A TPM answers in milliseconds; a busy or wedged one must not hang a delivery.
TIMEOUT_S = 30.0
KEY_ATTRIBUTES = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign"
#: tpm2-tools' message when a handle holds no object (TPM_RC_HANDLE, 0x18b).
_NO_OBJECT = ("0x18b", "0x0000018b", "handle is not correct")


class TpmError(ToolError):
    """The TPM could not be used (absent, refused, or answered something unexpected)."""


class TpmKeyMissingError(TpmError):
    """No key at the station's persistent handle yet."""


def station_tcti(device: Path = DEVICE) -> str | None:
    """The TCTI of this station's TPM, or None when it has none."""
    env = os.environ.get(TCTI_ENV, "").strip()
    if env:
        return env
    return f"device:{device}" if device.exists() else None


def build_createprimary_argv(tcti: str, context: Path) -> list[str]:
    return [
        "tpm2_createprimary", "-T", tcti, "-C", "o", "-g", "sha256",
        "-G", "ecc256:ecdsa-sha256", "-a", KEY_ATTRIBUTES, "-c", str(context),
    ]  # fmt: skip


def build_evictcontrol_argv(tcti: str, context: Path, handle: int = HANDLE) -> list[str]:
    return ["tpm2_evictcontrol", "-T", tcti, "-C", "o", "-c", str(context), f"0x{handle:08x}"]


def build_readpublic_argv(tcti: str, out_pem: Path, handle: int = HANDLE) -> list[str]:
    return ["tpm2_readpublic", "-T", tcti, "-c", f"0x{handle:08x}", "-f", "pem", "-o", str(out_pem)]


def build_sign_argv(tcti: str, digest: Path, out_sig: Path, handle: int = HANDLE) -> list[str]:
    # -d: the input is a SHA-256 digest already; -f plain: a DER ECDSA signature (X9.62).
    return [
        "tpm2_sign", "-T", tcti, "-c", f"0x{handle:08x}", "-g", "sha256", "-s", "ecdsa",
        "-d", "-f", "plain", "-o", str(out_sig), str(digest),
    ]  # fmt: skip


def _call(argv: list[str], runner: Runner) -> None:
    try:
        runner(argv, timeout=TIMEOUT_S)
    except ToolFailedError as e:
        if any(m in e.stderr_tail for m in _NO_OBJECT):
            raise TpmKeyMissingError(f"no station key in the TPM at 0x{HANDLE:08x}") from e
        raise TpmError(f"TPM: {e}") from e
    except ToolError as e:
        raise TpmError(f"TPM: {e}") from e


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise TpmError(f"TPM: {what} was not written ({e.strerror})") from e


def public_pem(tcti: str, handle: int = HANDLE, runner: Runner = run) -> bytes:
    """The PEM public key at ``handle``. Raises TpmKeyMissingError when there is none."""
    with tempfile.TemporaryDirectory(prefix="wipestation-tpm-") as tmp:
        out = Path(tmp) / "public.pem"
        _call(build_readpublic_argv(tcti, out, handle), runner)
        pem = _read(out, "the public key")
    if not pem.startswith(b"-----BEGIN PUBLIC KEY-----"):
        raise TpmError("TPM: tpm2_readpublic did not return a PEM public key")
    return pem


def create_key(tcti: str, handle: int = HANDLE, runner: Runner = run) -> bytes:
    """Create the non-exportable signing key, persist it at ``handle``; its PEM public key."""
    with tempfile.TemporaryDirectory(prefix="wipestation-tpm-") as tmp:
        context = Path(tmp) / "key.ctx"  # a transient handle's context, not key material
        _call(build_createprimary_argv(tcti, context), runner)
        _call(build_evictcontrol_argv(tcti, context, handle), runner)
    return public_pem(tcti, handle, runner)


def load_or_create_key(tcti: str, handle: int = HANDLE, runner: Runner = run) -> bytes:
    """The station key's PEM public key, created in the TPM the first time."""
    try:
        return public_pem(tcti, handle, runner)
    except TpmKeyMissingError:
        return create_key(tcti, handle, runner)


def sign_digest(tcti: str, digest: bytes, handle: int = HANDLE, runner: Runner = run) -> bytes:
    """A DER ECDSA signature of a SHA-256 ``digest``, made inside the TPM."""
    if len(digest) != 32:
        raise TpmError(f"TPM: a SHA-256 digest has 32 bytes, not {len(digest)}")
    with tempfile.TemporaryDirectory(prefix="wipestation-tpm-") as tmp:
        src, out = Path(tmp) / "digest.bin", Path(tmp) / "signature.der"
        src.write_bytes(digest)
        _call(build_sign_argv(tcti, src, out, handle), runner)
        sig = _read(out, "the signature")
    if not sig.startswith(b"\x30"):
        raise TpmError("TPM: tpm2_sign did not return a DER ECDSA signature")
    return sig
