"""Who a drive is: transport, model, serial, WWN and the identity that names its reports.

Pure functions of the udev/sysfs dict from ``udev.py``. The serial chain follows what real udev
reports (see tests/fixtures/udev): SCSI puts the WWN in ID_SERIAL_SHORT when one exists, so
ID_SCSI_SERIAL wins there; virtio-blk has only ID_SERIAL; NVMe has no ID_BUS.

The serial recorded is the one on the drive's label: udev escapes serials (ata_id, scsi_id and
usb_id turn blanks, ``/`` and other bytes into ``_``), so the raw bytes the kernel exposes in sysfs
(NVMe/MMC ``device/serial``, virtio ``serial``, SCSI/SATA ``device/vpd_pg80``, a USB bridge's
``serial``) are preferred, each checked against udev's escaped value. Only file names escape.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass

from wipestation.model import IdentitySource, Transport

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")

#: Serials firmware and bridges ship unset (compared case-insensitively, blanks and ``_`` folded);
#: a serial of one repeated character (all ``X``, all ``0``, an all-zero or all-FF UUID) is a
#: placeholder too. One rule for drive serials and the computer's SMBIOS strings (host.py); the
#: SMBIOS ones are firmware defaults seen in published dumps (tests/fixtures/dmi/PROVENANCE.md).
PLACEHOLDER_SERIALS = frozenset(
    (
        "yes",
        "to be filled by o.e.m.",
        "default string",
        "0123456789",
        "123456789",
        "none",
        "not specified",
        "not available",
        "system serial number",
        "system manufacturer",
        "system product name",
        "system version",
    )
)

#: What udev keeps unescaped (systemd ``allow_listed_char_for_devnode``); the rest becomes ``_``.
_UDEV_KEEP = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#+-.:=@_")
#: What udev's ``$attr{}`` substitution also keeps (``UDEV_ALLOWED_CHARS_INPUT``).
_ATTR_KEEP = b"/ $%?,"
#: C ``isspace``: what udev strips and collapses.
_C_SPACE = b" \t\n\v\f\r"
#: What pads a serial field: blanks and NULs.
_PADDING = _C_SPACE + b"\0"

#: Raw serial sources (``udev.py`` stores their bytes as hex), strongest first per transport.
RAW_SOURCES = {
    Transport.NVME: ("device/serial",),
    Transport.MMC: ("device/serial",),
    Transport.VIRTIO: ("serial",),
    Transport.SATA: ("device/vpd_pg80",),
    Transport.SCSI: ("device/vpd_pg80",),
    Transport.SAS: ("device/vpd_pg80",),
    Transport.USB: ("device/vpd_pg80", "usb/serial"),
}


def decode_udev(value: str) -> str:
    r"""Undo udev's ``\xNN`` escaping (ID_MODEL_ENC, ID_VENDOR_ENC)."""
    raw = re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), value)
    try:
        return raw.encode("latin-1").decode("utf-8").strip()
    except UnicodeError:
        return raw.strip()


def transport_of(p: dict[str, str]) -> Transport:
    name = p.get("DEVNAME", "").rsplit("/", 1)[-1]
    bus = p.get("ID_BUS", "")
    id_path = p.get("ID_PATH", "")
    devpath = p.get("DEVPATH", "")
    if name.startswith("loop"):
        return Transport.LOOP
    if bus == "usb" or "-usb-" in id_path or "/usb" in devpath:
        return Transport.USB
    if name.startswith("nvme"):
        return Transport.NVME
    if name.startswith("mmcblk"):
        return Transport.MMC
    if name.startswith("vd"):
        return Transport.VIRTIO
    if bus == "ata" or "-ata-" in id_path:
        return Transport.SATA
    if "-sas-" in id_path or "/end_device-" in devpath:
        return Transport.SAS
    if bus == "scsi" or name.startswith("sd"):
        return Transport.SCSI
    return Transport.OTHER


@dataclass(frozen=True)
class SerialReading:
    """The serial as the drive reports it, every source read, and what disagreed."""

    serial: str
    #: (source, value) for each source that gave one, e.g. ("sysfs device/vpd_pg80", "AB 12/34")
    sources: tuple[tuple[str, str], ...] = ()
    #: Why the sources do not tell the same serial ("" when they do).
    disagreement: str = ""
    #: The serial is a known placeholder (``is_placeholder``): never an identity on its own.
    placeholder: bool = False


def udev_choice(p: dict[str, str], transport: Transport) -> tuple[str, str]:
    """(property, value) of udev's serial chain: escaped by udev, blanks and ``/`` as ``_``."""
    keys = [
        "ID_SCSI_SERIAL" if transport in (Transport.SCSI, Transport.SAS) else "",
        "ID_SERIAL_SHORT",
        "ID_USB_SERIAL_SHORT",
        "ID_SERIAL" if transport == Transport.VIRTIO else "",
        "sysfs:device/serial",  # no udev property at all: sysfs text (read raw in read_serial)
        "sysfs:serial",
    ]
    for key in filter(None, keys):
        if value := p.get(key, "").strip():
            return key, value
    return "", ""


def serial_of(p: dict[str, str], transport: Transport) -> str:
    return read_serial(p, transport).serial


def vpd80_serial(page: bytes) -> bytes | None:
    """PRODUCT SERIAL NUMBER of a VPD page 0x80 (SPC-4 7.8.15): a 4-byte header, then the
    length it gives. Any other shape is unknown (None), never a serial."""
    if len(page) < 4 or page[1] != 0x80:
        return None
    length = int.from_bytes(page[2:4], "big")
    return page[4 : 4 + length] if len(page) >= 4 + length else None


def raw_reads(p: dict[str, str], transport: Transport) -> list[tuple[str, bytes]]:
    """The serial bytes sysfs gave (``udev.py`` keeps them as hex), strongest first."""
    out = []
    for attr in RAW_SOURCES.get(transport, ()):
        raw = _sysfs_bytes(p, attr)
        if raw is not None and attr.endswith("vpd_pg80"):
            raw = vpd80_serial(raw)
        if raw is not None and raw.strip(_PADDING):
            out.append((f"sysfs {attr}", raw))
    return out


def _sysfs_bytes(p: dict[str, str], attr: str) -> bytes | None:
    """An attribute's bytes: the hex copy, else its text (dicts captured before hex was kept)."""
    if f"sysfs-hex:{attr}" in p:
        try:
            return bytes.fromhex(p[f"sysfs-hex:{attr}"])
        except ValueError:
            return None
    text = p.get(f"sysfs:{attr}")
    return None if text is None or attr.endswith("vpd_pg80") else text.encode()


def decode_serial(raw: bytes) -> str:
    r"""The label's text: padding (blanks, NULs) trimmed; a byte that is not UTF-8 kept as
    ``\xNN``, so the record never guesses a character the drive did not send."""
    return raw.strip(_PADDING).decode("utf-8", errors="backslashreplace")


def udev_forms(raw: bytes) -> set[str]:
    """What udev would show for these bytes: as is (ID_SCSI_SERIAL), ``$attr{}`` (NVMe's
    ID_SERIAL_SHORT, virtio's ID_SERIAL), or ata_id/scsi_id/usb_id's escape."""
    attr = _replace_chars(raw.rstrip(_PADDING), _ATTR_KEEP)
    forms = (raw.strip(_PADDING), attr.strip(), udev_escape(raw))
    return {f.decode("utf-8", errors="backslashreplace") for f in forms}


def udev_escape(raw: bytes) -> bytes:
    """systemd's ``udev_replace_whitespace`` then ``udev_replace_chars(s, NULL)``:
    ``b"  AB 12/34 "`` -> ``b"AB_12_34"`` (ata_id, scsi_id, usb_id)."""
    words = raw.split(b"\0", 1)[0].strip(_C_SPACE)
    return _replace_chars(re.sub(rb"[ \t\n\v\f\r]+", b"_", words), b"")


def escaped_serial(serial: str) -> str:
    """The form udev (and so records made before raw serials) gave this serial: ``AB_12_34``."""
    return udev_escape(serial.encode()).decode("utf-8", errors="backslashreplace")


def _replace_chars(raw: bytes, allow: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(raw):
        kept = raw[i] in _UDEV_KEEP or raw[i] in allow
        step = 1 if kept else _utf8_len(raw, i)
        if kept or step > 1:
            out += raw[i : i + step]
        else:
            out += b" " if raw[i] in _C_SPACE and b" " in allow else b"_"
        i += step
    return bytes(out)


def _utf8_len(raw: bytes, i: int) -> int:
    """Length of the valid UTF-8 character (or udev's own ``\\x`` escape) at ``i``, else 1."""
    if raw[i : i + 2] == b"\\x":
        return 2
    for n in (2, 3, 4) if raw[i] >= 0x80 else ():
        try:
            if len(raw[i : i + n].decode("utf-8")) == 1:
                return n
        except UnicodeDecodeError:
            continue
    return 1


def read_serial(p: dict[str, str], transport: Transport) -> SerialReading:
    """The raw serial the drive reports, checked against udev's escaped one.

    A sysfs source whose udev form is udev's value wins; when none matches, the transport's own
    sysfs source wins and the disagreement is kept (USB excepted: a bridge may give udev the
    drive's serial and sysfs its own). Without any sysfs source, udev's value is all there is."""
    key, escaped = udev_choice(p, transport)
    raws = raw_reads(p, transport) + _enc_reads(p, key)
    sources = tuple((label, decode_serial(raw)) for label, raw in raws)
    if escaped and _label(key) not in dict(sources):
        sources += ((_label(key), escaped),)
    told = escaped if not key.startswith("sysfs:") else ""  # sysfs text is no udev value
    same = [decode_serial(raw) for _, raw in raws if not told or told in udev_forms(raw)]
    if same:
        return _reading(same[0], sources)
    if raws and transport != Transport.USB:
        label, value = sources[0]
        why = f"sysfs and udev disagree: {label} gives {value!r}, {_label(key)} {escaped!r}"
        return _reading(value, sources, f"{why}; the record keeps {label}")
    return _reading(escaped, sources)


def _label(key: str) -> str:
    return f"sysfs {key.removeprefix('sysfs:')}" if key.startswith("sysfs:") else f"udev {key}"


def _enc_reads(p: dict[str, str], key: str) -> list[tuple[str, bytes]]:
    r"""udev's undecoded ``<key>_ENC`` (``\x20`` for a blank), where a rule sets one."""
    enc = p.get(f"{key}_ENC", "")
    if not key or not enc:
        return []
    raw = re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), enc.encode())
    return [(f"udev {key}_ENC", raw)]


def _reading(serial: str, sources: tuple[tuple[str, str], ...], why: str = "") -> SerialReading:
    return SerialReading(serial, sources, why, is_placeholder(serial))


def is_placeholder(serial: str) -> bool:
    """A serial nobody wrote on a label: a documented placeholder or one repeated character.
    Empty is "no serial", not a placeholder."""
    folded = " ".join(serial.replace("_", " ").split()).casefold()
    if not folded:
        return False
    # "-" folded too: an all-zero UUID (00000000-0000-...) is one repeated character
    return folded in PLACEHOLDER_SERIALS or len(set(folded.replace(" ", "").replace("-", ""))) <= 1


def probe_disagreement(serial: str, source: str, reported: str) -> str:
    """A note when the probe's IDENTIFY / id-ctrl serial is not the one discovery recorded."""
    reported = reported.strip()
    if not reported or reported == serial.strip():
        return ""
    return f"serial: {source} reports {reported!r}, discovery {serial!r} (the record keeps it)"


def model_of(p: dict[str, str]) -> str:
    if p.get("ID_MODEL_ENC"):
        return decode_udev(p["ID_MODEL_ENC"])
    model = p.get("sysfs:device/model") or p.get("ID_MODEL", "").replace("_", " ")
    return (model or p.get("ID_NAME", "")).strip()  # ID_NAME: an MMC card's CID product name


def vendor_of(p: dict[str, str]) -> str:
    if p.get("ID_VENDOR_ENC"):
        return decode_udev(p["ID_VENDOR_ENC"])
    return (p.get("sysfs:device/vendor") or p.get("ID_VENDOR", "")).strip()


def wwn_of(p: dict[str, str]) -> str:
    return (p.get("ID_WWN_WITH_EXTENSION") or p.get("ID_WWN") or "").strip()


def identity_of(
    serial: str, wwn: str, model: str, size: int, p: dict[str, str], *, placeholder: bool = False
) -> tuple[str, IdentitySource]:
    """Serial, else WWN, else model + size + physical path (ID_PATH or loop backing file).
    A placeholder serial (or WWN) is no identity: two such drives would share one."""
    if serial and not placeholder:
        return serial, IdentitySource.SERIAL
    if wwn and not is_placeholder(re.sub(r"^(0x|naa\.|eui\.)", "", wwn)):
        return wwn, IdentitySource.WWN
    where = p.get("ID_PATH") or p.get("sysfs:loop/backing_file") or p.get("DEVNAME", "")
    return f"{model or 'disk'}@{where}#{size}", IdentitySource.PATH


def safe_filename(identity: str) -> str:
    """A file name any FAT stick accepts; a short hash keeps distinct identities distinct."""
    cleaned = _SAFE.sub("_", identity).strip("._") or "unknown"
    if cleaned != identity or len(cleaned) > 100:
        cleaned = f"{cleaned[:80]}-{hashlib.sha256(identity.encode()).hexdigest()[:8]}"
    return cleaned


@functools.lru_cache(maxsize=4096)
def serial_keys(serial: str) -> frozenset[str]:
    """What a serial matches as (a manifest's, a scanned label's, a record's): the raw serial and
    udev's forms of it (records made before raw serials), case and blanks folded; none for a
    placeholder, which names no drive. Cached: the lot line asks for every drive's on every
    redraw of the screen."""
    if not serial.strip() or is_placeholder(serial):
        return frozenset()
    return frozenset(" ".join(s.split()).casefold() for s in (serial, *udev_aliases(serial)))


def udev_aliases(serial: str) -> frozenset[str]:
    """Every form udev may have shown this serial in: ata_id/scsi_id/usb_id's ``AB_12_34``,
    NVMe's and virtio's ``$attr{}`` form, and the serial itself."""
    return frozenset(udev_forms(serial.encode())) - {""}


def console_word(identity: str) -> str:
    """An identity as one word of a machine-readable console line (``RESULT <identity> ...``):
    blanks become ``_`` there; the record and the certificate keep them."""
    return "_".join(identity.split()) or "-"
