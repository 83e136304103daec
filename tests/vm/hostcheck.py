"""Host-side checks for the VM scenarios: what the guest left behind, read without the guest.

Disks are scanned in full for the fill pattern; FAT sticks are read with mtools; records are
validated against the JSON schema and their Ed25519 signatures verified with the station keys
published on the same stick (``wipestation-identity/``, self-signed), and the station's record
chain is checked for gaps and forks; no private key may be on the stick.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
from wipestation.reports import sign
from wipestation.reports.chain import check_chain
from wipestation.reports.record import load_schema
from wipestation.reports.trust import fingerprint_of_file

from tests.vm.rack import MIB, PATTERN, Disk

#: Shorter than the 16-byte pattern, so a pattern cut by a block boundary is found too.
TRACE = PATTERN[:6]
#: The FAT partition of the boot stick image starts at 1 MiB.
BOOT_FAT = "@@1M"

#: What QEMU reports as the model when the rack does not set one.
DEFAULT_MODEL = {
    "nvme": "QEMU NVMe Ctrl",
    "sata": "QEMU HARDDISK",
    "scsi": "QEMU HARDDISK",
    "usb": "QEMU HARDDISK",
    "virtio": "",  # virtio-blk has no model field
}


def pattern_traces(path: Path, trace: bytes = TRACE, chunk: int = 4 * MIB) -> int:
    """How many times ``trace`` occurs anywhere in the file (every byte is read)."""
    count, tail = 0, b""
    with open(path, "rb") as f:
        while block := f.read(chunk):
            data = tail + block
            count += data.count(trace)
            # keep the last len-1 bytes so an occurrence across a chunk boundary is seen once
            tail = data[-(len(trace) - 1) :]
    return count


def trace_span(path: Path, trace: bytes = TRACE, chunk: int = 4 * MIB) -> tuple[int, int] | None:
    """(first offset, end of the last occurrence) of ``trace`` in the file, None if absent."""
    first, last_end, pos, tail = -1, -1, 0, b""
    with open(path, "rb") as f:
        while block := f.read(chunk):
            data, base = tail + block, pos - len(tail)
            i = data.find(trace)
            if i >= 0:
                if first < 0:
                    first = base + i
                last_end = base + data.rfind(trace) + len(trace)
            pos += len(block)
            tail = data[-(len(trace) - 1) :]
    return (first, last_end) if first >= 0 else None


def all_zero(path: Path, chunk: int = 4 * MIB) -> bool:
    zero = bytes(chunk)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            if block != zero[: len(block)]:
                return False
    return True


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(4 * MIB):
            h.update(block)
    return h.hexdigest()


def _mtools(*argv: str) -> bytes:
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    return subprocess.run(argv, check=True, capture_output=True, env=env).stdout


@dataclass
class Stick:
    """A FAT image on the host (``offset`` is mtools' ``@@1M`` for a partitioned stick)."""

    image: Path
    offset: str = ""

    @property
    def spec(self) -> str:
        return f"{self.image}{self.offset}"

    def files(self) -> list[str]:
        """Every file (not directory) as an absolute path on the stick, sorted."""
        out = _mtools("mdir", "-/", "-b", "-i", self.spec, "::/").decode("utf-8", "replace")
        paths = [line.strip().removeprefix("::") for line in out.splitlines() if line.strip()]
        return sorted(p for p in paths if not p.endswith("/"))

    def read(self, path: str) -> bytes:
        return _mtools("mcopy", "-n", "-i", self.spec, f"::{path}", "-")

    def snapshot(self) -> dict[str, str]:
        """path → sha256 of every file on the stick."""
        return {p: hashlib.sha256(self.read(p)).hexdigest() for p in self.files()}

    def put(self, path: str, content: bytes, workdir: Path) -> None:
        src = workdir / f"put-{Path(path).name}"
        src.write_bytes(content)
        _mtools("mcopy", "-o", "-i", self.spec, str(src), f"::{path}")
        src.unlink()


@dataclass
class Reports:
    """The records and certificates on a stick, checked: schema, signature, byte-exactness."""

    stick: Stick
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # serial → record
    json_paths: dict[str, str] = field(default_factory=dict)  # serial → path on the stick
    pdf_paths: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, stick: Stick, trusted: tuple[str, ...] = ()) -> Reports:
        """``trusted``: the station's enrolled key fingerprints; by default the identities the
        station published on the stick (self-signed, checked), which proves integrity and that
        one station signed them all, while no private key may be on the stick."""
        files = stick.files()
        assert not [p for p in files if b"PRIVATE KEY" in stick.read(p)[:4096]], (
            f"a private key travels on the report stick: {files}"
        )
        trusted = trusted or published_identities(stick, files)
        assert trusted, f"no station identity on the stick: {files}"
        validator = jsonschema.Draft202012Validator(load_schema())
        out = cls(stick)
        for path in files:
            if not path.startswith("/reports/") or path.count("/") != 3:
                continue  # the summary lives elsewhere; records are reports/<day>/<name>
            if path.endswith(".pdf"):
                out.pdf_paths.setdefault(Path(path).stem, []).append(path)
            if not path.endswith(".json"):
                continue
            data = stick.read(path)
            record = json.loads(data)
            errors = sorted(validator.iter_errors(record), key=str)
            assert not errors, f"{path} is not schema-valid: {[e.message for e in errors]}"
            verdict = sign.verify_bytes(data, trusted)
            assert verdict.ok, f"{path}: signature does not verify: {verdict.reason}"
            serial = record["drive"]["serial"]
            assert serial not in out.records, f"two records for {serial}: {path}"
            out.records[serial] = record
            out.json_paths[serial] = path
        named = [(out.json_paths[serial], rec) for serial, rec in out.records.items()]
        problems = check_chain(named)
        assert not problems, f"the station's record chain is broken: {[str(p) for p in problems]}"
        return out

    def check_drive(self, disk: Disk) -> dict[str, Any]:
        """The disk's record exists with a PDF beside it and names the rack's serial/model/size."""
        assert disk.serial in self.records, f"no record for {disk.serial}: {sorted(self.records)}"
        rec = self.records[disk.serial]
        stem = Path(self.json_paths[disk.serial]).stem
        pdfs = self.pdf_paths.get(stem, [])
        assert len(pdfs) == 1, f"{disk.serial}: expected one PDF named {stem}.pdf, got {pdfs}"
        pdf = self.stick.read(pdfs[0])
        assert pdf.startswith(b"%PDF-"), f"{pdfs[0]} is not a PDF"
        assert b"%%EOF" in pdf[-64:], f"{pdfs[0]} is truncated"
        drive = rec["drive"]
        assert drive["capacity_bytes"] == disk.size_mib * MIB, drive
        model = disk.model or DEFAULT_MODEL.get(disk.kind)
        if model is not None:
            assert drive["model"] == model, (disk, drive["model"])
        if disk.wwn:
            assert drive["wwn"].lower().endswith(disk.wwn.lower().removeprefix("0x")), drive
        return rec


def published_identities(stick: Stick, files: list[str]) -> tuple[str, ...]:
    """Fingerprints of the ``wipestation.identity/1`` files on the stick, each self-signature
    checked (``reports/trust.py``)."""
    found = []
    for path in (p for p in files if p.startswith("/wipestation-identity/")):
        local = Path(os.environ.get("TMPDIR", "/tmp")) / f"identity-{os.getpid()}.json"
        local.write_bytes(stick.read(path))
        try:
            found.append(fingerprint_of_file(local))
        finally:
            local.unlink()
    return tuple(dict.fromkeys(found))


def result_of(record: dict[str, Any]) -> str:
    return str(record["result"]["status"])
