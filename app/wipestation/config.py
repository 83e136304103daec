"""Station configuration from the kernel command line and ``wipestation.toml`` on the stick.

Precedence: defaults < file < kernel command line. An invalid value never stops the station: it
is reported (``StationConfig.errors``, shown on screen) and the safe default is used instead —
and a broken configuration never turns on unattended wiping.
"""

from __future__ import annotations

import re
import socket
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from wipestation import paths, sntp
from wipestation.errors import ConfigError
from wipestation.model import VERIFY_MODES, VerifyMode, verify_mode
from wipestation.reports import store
from wipestation.reports.printer import PrinterSpec

PAPER_SIZES = ("A4", "Letter")
UI_MODES = ("tui", "headless")
#: ``station``: a wipe station, drives brought to it; ``computer``: the stick booted on the asset
#: itself, its internal drives selected and one computer certificate (computermode.py).
STATION_MODES = ("station", "computer")
_TRUE = {"1", "yes", "true", "on", "y"}
_FALSE = {"0", "no", "false", "off", "n", ""}
CMDLINE = "kernel command line"


@dataclass(frozen=True)
class StationConfig:
    station: str = field(default_factory=socket.gethostname)
    """Station name printed on every report and label."""
    unattended: bool = False
    """Wipe every non-protected drive (and every drive plugged in later) without asking."""
    method: str = "auto"
    """Method for unattended wipes and the TUI's default choice (see ``wipestation methods``)."""
    verify: VerifyMode = "sample"
    """Verification mode: none, sample (NIST representative sampling) or full."""
    verify_percent: float = 10.0
    """Share of the device read back in sample mode, in percent (first/last MiB always)."""
    exclude: tuple[str, ...] = ()
    """Drives never to touch: paths, by-id links, serials or WWNs."""
    printer: str = ""
    """Label printer: ``escpos:/dev/ttyS1[:9600]``, ``zpl:/dev/usb/lp0``; empty for none."""
    poweroff: bool = False
    """Power off when every unattended job has finished and its report is written."""
    report_dir: str = ""
    """Write reports here instead of looking for a report stick."""
    operator: str = ""
    """Technician's name for the certificates (the TUI can ask for it)."""
    customer: str = ""
    """Customer / job reference for the certificates."""
    lot: str = ""
    """The customer's lot every record of this station belongs to (``wipestation.lot=``)."""
    location: str = ""
    """Where the station stands (site, bay), printed on every record (``wipestation.location=``)."""
    manifest: str = ""
    """The lot's manifest CSV: an absolute path, or one relative to the boot stick's copy
    directory (``/run/wipestation``), where the boot wiring copies the stick's files."""
    paper: str = "A4"
    """Certificate paper size: A4 or Letter."""
    shell: bool = False
    """Offer a root shell on tty2 (debugging only)."""
    console: str = "tty1"
    """The terminal that controls the station (tty1, ttyS0, ...); the others show its log."""
    ui: str = "tui"
    """The controlling terminal's front end: ``tui`` (the station screen) or ``headless``
    (unattended mode as plain log lines, for serial-only stations)."""
    store: str = ""
    """Where records go besides the stick: ``s3://BUCKET/PREFIX`` on an S3-compatible store."""
    store_endpoint: str = ""
    """The store's URL, ``http(s)://HOST[:PORT]`` (required with ``store``)."""
    store_region: str = "us-east-1"
    """The region the store signs requests for (SigV4)."""
    store_access_key: str = ""
    """The store's access key id."""
    store_secret_key: str = field(default="", repr=False)
    """The store's secret key (never on the kernel command line, in a log or on screen)."""
    store_credentials_file: str = ""
    """Instead of the two keys: an AWS credentials file (``[default]`` with
    ``aws_access_key_id``/``aws_secret_access_key``); a relative path is in ``/run/wipestation``."""
    store_ca: str = ""
    """A PEM CA certificate to trust for an https endpoint (a private CA); a relative path is in
    ``/run/wipestation`` (like ``manifest``)."""
    store_required: bool = False
    """Power-off waits until every record is in the store (else the report stick suffices)."""
    store_retention_days: int = 0
    """Upload every record under S3 Object Lock in COMPLIANCE mode for this many days (0: none)."""
    ntp: tuple[str, ...] = ()
    """NTP servers (``host[:port]``) that set the station's clock at boot, asked before the DHCP
    lease's (``wipestation.ntp=a,b`` on the kernel command line)."""
    mode: str = "station"
    """``station`` (drives brought to the station) or ``computer`` (booted on the asset: its
    internal drives are selected, external ones never by default; ``wipestation.mode=``)."""
    errors: tuple[str, ...] = ()
    """Problems found while reading the configuration, for the operator."""


#: kernel command-line key → field name
CMDLINE_KEYS = {
    f"wipestation.{f.name}": f.name for f in fields(StationConfig) if f.name != "errors"
}
CMDLINE_KEYS["wipestation.auto"] = "unattended"


def _parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueError(f"expected yes/no, got {value!r}")


def _parse_field(name: str, value: object, known_method: Callable[[str], bool]) -> object:
    if name in ("unattended", "poweroff", "shell", "store_required"):
        return _parse_bool(value)
    if name == "exclude":
        items = value if isinstance(value, list) else str(value).split(",")
        return tuple(str(i).strip() for i in items if str(i).strip())
    if name == "verify_percent":
        pct = float(value)  # type: ignore[arg-type]
        if not 0 < pct <= 100:
            raise ValueError("must be between 0 and 100")
        return pct
    if name == "store_retention_days":
        return store.parse_retention_days(value)
    if name == "ntp":
        return sntp.parse_servers(value)
    s = str(value).strip()
    if name == "verify":
        if s not in VERIFY_MODES:
            raise ValueError(f"must be one of {', '.join(VERIFY_MODES)}")
        return verify_mode(s)
    if name == "mode" and s not in STATION_MODES:
        raise ValueError(f"must be one of {', '.join(STATION_MODES)}")
    if name == "ui" and s not in UI_MODES:
        raise ValueError(f"must be one of {', '.join(UI_MODES)}")
    if name == "console" and not re.fullmatch(r"tty[A-Za-z]*\d+", s):
        raise ValueError("expected a terminal name such as tty1 or ttyS0")
    if name == "paper" and s not in PAPER_SIZES:
        raise ValueError("must be A4 or Letter")
    if name == "method" and not known_method(s):
        raise ValueError(f"unknown method {s!r} (see 'wipestation methods')")
    if name == "manifest" and s:
        return manifest_path(s)
    if name in STORE_PARSERS and s:
        return STORE_PARSERS[name](s)
    if name == "printer" and s:
        PrinterSpec.parse(s)  # PrinterSpecError is a ValueError: one line, and no printer
    return s


def manifest_path(value: str) -> str:
    """An absolute manifest path; a relative one names a file the boot stick brought along."""
    path = Path(value)
    return str(path if path.is_absolute() else paths.RUN_DIR / path)


#: Store settings checked on their own (the cross-checks are in ``store_problems``).
STORE_PARSERS: dict[str, Callable[[str], object]] = {
    "store": lambda s: str(store.StoreLocation.parse(s)),
    "store_endpoint": store.parse_endpoint,
    "store_region": store.parse_region,
    "store_credentials_file": manifest_path,
    "store_ca": manifest_path,
}
#: Settings never taken from the kernel command line (every process can read /proc/cmdline).
SECRET_KEYS = frozenset({"store_secret_key"})


def store_problems(cfg: StationConfig) -> list[ConfigError]:
    """What is missing or contradictory among the store settings (empty when fine or unset)."""
    if not cfg.store:
        return []
    where = "station config"
    found = [] if cfg.store_endpoint else [ConfigError("store_endpoint", where, "needed by store")]
    keys = bool(cfg.store_access_key or cfg.store_secret_key)
    if keys and cfg.store_credentials_file:
        found.append(ConfigError("store_credentials_file", where, "or the two keys, not both"))
    elif not cfg.store_credentials_file and not (cfg.store_access_key and cfg.store_secret_key):
        found.append(
            ConfigError("store", where, "needs store_access_key and store_secret_key (or a "
                        "store_credentials_file)")
        )  # fmt: skip
    return found


def store_settings(cfg: StationConfig) -> store.StoreSettings | None:
    """The typed store settings, None without ``store``; raises ConfigError for what is wrong
    (reads the credentials file, so call it where the file is reachable)."""
    if not cfg.store:
        return None
    problems = store_problems(cfg)
    if problems:
        raise problems[0]
    try:
        creds = (
            store.read_credentials(Path(cfg.store_credentials_file))
            if cfg.store_credentials_file
            else store.Credentials(cfg.store_access_key, cfg.store_secret_key)
        )
    except ValueError as e:
        raise ConfigError("store_credentials_file", "station config", str(e)) from None
    return store.StoreSettings(
        store.StoreLocation.parse(cfg.store), cfg.store_endpoint, cfg.store_region, creds,
        cfg.store_ca, cfg.store_required, cfg.store_retention_days,
    )  # fmt: skip


def apply(
    cfg: StationConfig,
    values: dict[str, object],
    source: str,
    known_method: Callable[[str], bool] = lambda m: bool(re.fullmatch(r"[a-z0-9.:_-]+", m)),
) -> StationConfig:
    """Apply ``values`` (field name → raw value); bad ones become entries in ``errors``."""
    changes: dict[str, Any] = {}  # each value of its field's type (_parse_field)
    errors = list(cfg.errors)
    names = {f.name for f in fields(StationConfig)} - {"errors"}
    for key, raw in values.items():
        if key not in names:
            errors.append(str(ConfigError(key, source, "unknown setting (ignored)")))
            continue
        if key in SECRET_KEYS and source == CMDLINE:
            errors.append(str(ConfigError(key, source, "every process can read it: ignored")))
            continue
        try:
            changes[key] = _parse_field(key, raw, known_method)
        except (ValueError, TypeError) as e:
            kept = "the previous value" if key in SECRET_KEYS else repr(getattr(cfg, key))
            errors.append(str(ConfigError(key, source, f"{e}; using {kept}")))
    return replace(cfg, **changes, errors=tuple(errors))


def parse_cmdline(text: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for tok in text.split():
        key, _, value = tok.partition("=")
        if key in CMDLINE_KEYS:
            out[CMDLINE_KEYS[key]] = value.strip('"')
        elif key.startswith("wipestation.") and key not in (
            "wipestation.boot",
            "wipestation.bootlabel",
            "wipestation.config",  # where the config comes from (netconfig.py), not a setting
            "wipestation.config_ca",
        ):
            out[key.removeprefix("wipestation.")] = value
    return out


def load(
    cmdline_path: str | Path = "/proc/cmdline",
    toml_paths: tuple[str | Path, ...] = (),
    known_method: Callable[[str], bool] | None = None,
) -> StationConfig:
    """Read the file(s) then the kernel command line. Never raises for bad content."""
    kw = {"known_method": known_method} if known_method else {}
    cfg = StationConfig()
    for path in toml_paths:
        p = Path(path)
        if not p.exists():
            continue
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as e:
            cfg = replace(cfg, errors=(*cfg.errors, f"{p}: unreadable ({e}); file ignored"))
            continue
        cfg = apply(cfg, data.get("station", data), str(p), **kw)
    try:
        text = Path(cmdline_path).read_text(encoding="utf-8")
    except OSError:
        text = ""
    cfg = apply(cfg, parse_cmdline(text), CMDLINE, **kw)
    cfg = replace(cfg, errors=(*cfg.errors, *map(str, store_problems(cfg))))
    if cfg.errors and cfg.unattended:
        cfg = replace(
            cfg,
            unattended=False,
            errors=(*cfg.errors, "unattended mode disabled because the configuration has errors"),
        )
    return cfg
