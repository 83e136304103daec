"""The parser contract: every parser, fed damaged variants of its REAL fixtures, fails closed.

A variant is made by code from a real capture (tests/fixtures/, /work/shared/fixtures/real-drives/,
and this machine's own sysfs queue files): truncated, a field emptied, tabs and spaces swapped,
markup and forum quoting, quotes around a value, trailing text. For each variant the parser must
either raise a ToolError (the project's error for output it cannot read) or return a value that
grants nothing the clean capture did not: garbage never makes a drive "not frozen", "not
locked", "healthy" or "supports sanitize". Any other exception fails the test.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from wipestation.errors import ToolError
from wipestation.tools import blkdev, hdparm, nvme, sg, smartctl

from tests.tools.fakes import FIXTURES

SHARED = Path("/work/shared/fixtures/real-drives")
Grants = dict[str, bool]

# ---- variants of a text capture ---------------------------------------------------------------


def _lines_with(text: str, pred: Callable[[str], bool]) -> Iterator[tuple[list[str], int]]:
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if pred(line):
            yield lines, i


def _replace_line(lines: list[str], i: int, new: str) -> str:
    return "\n".join([*lines[:i], new, *lines[i + 1 :]])


def truncated(text: str) -> Iterator[str]:
    """Cut at an eighth, a quarter, ... of the text: on a line boundary and mid-line."""
    lines = text.split("\n")
    for k in range(1, 8):
        yield "\n".join(lines[: len(lines) * k // 8]) + "\n"
        yield text[: len(text) * k // 8]
    yield ""


def emptied(text: str) -> Iterator[str]:
    """One ``label: value`` / ``label=value`` line at a time with its value removed."""
    for lines, i in _lines_with(text, lambda ln: ":" in ln or "=" in ln):
        sep = ":" if ":" in lines[i] else "="
        yield _replace_line(lines, i, lines[i].split(sep, 1)[0] + sep)


def respaced(text: str) -> Iterator[str]:
    yield text.replace("\t", "    ")
    yield "\n".join(" ".join(ln.split()) for ln in text.split("\n"))
    yield text.replace("    ", "\t").replace("  ", "\t")
    yield text.replace("\n", "\r\n")


def marked_up(text: str) -> Iterator[str]:
    """Markup and quoting as forums and issue trackers add it, one line and all lines."""
    yield "\n".join(f"> {ln}" for ln in text.split("\n"))
    yield "<pre>" + text.replace("<", "&lt;").replace(">", "&gt;") + "</pre>"
    for lines, i in _lines_with(text, lambda ln: ln.strip() != ""):
        yield _replace_line(lines, i, f"<b>{lines[i]}</b>")
        yield _replace_line(lines, i, f'"{lines[i].strip()}"')


def quoted_values(text: str) -> Iterator[str]:
    for lines, i in _lines_with(text, lambda ln: ":" in ln or "=" in ln):
        sep = ":" if ":" in lines[i] else "="
        key, value = lines[i].split(sep, 1)
        yield _replace_line(lines, i, f'{key}{sep} "{value.strip()}"')


def trailing(text: str) -> Iterator[str]:
    for lines, i in _lines_with(text, lambda ln: ln.strip() != ""):
        yield _replace_line(lines, i, lines[i] + " (bla)")
        yield _replace_line(lines, i, lines[i] + "x")


TEXT_VARIANTS = (truncated, emptied, respaced, marked_up, quoted_values, trailing)


def text_variants(text: str) -> Iterator[tuple[str, str]]:
    for make in TEXT_VARIANTS:
        for v in make(text):
            if v != text:
                yield make.__name__, v


# ---- variants of a JSON capture ---------------------------------------------------------------

#: the keys the JSON parsers read (the damaged leaves; mutating every leaf of smartctl -x is slow)
JSON_KEYS = (
    frozenset(
        ("exit_status", "protocol", "type", "model_name", "serial_number", "firmware_version"),
    )
    | frozenset(
        ("passed", "hours", "id", "value", "percentage_used", "media_errors", "rotation_rate"),
    )
    | frozenset(
        (
            "supported",
            "enabled",
            "frozen",
            "critical_warning",
            "string",
            "messages",
            "smart_status",
        ),
    )
    | frozenset(
        ("nvme_smart_health_information_log", "ata_security", "table", "vid", "mn", "sn", "fr"),
    )
    | frozenset(("oacs", "oncs", "fna", "sanicap", "nn", "sprog", "sstat"))
)
GARBAGE: tuple[object, ...] = ("", "x (bla)", None, [], {}, "<b>1</b>", -1, 1.5, "true")


def _leaves(node: object, path: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for k, v in items:
        yield (*path, k)
        yield from _leaves(v, (*path, k))


def _set(root: object, path: tuple[object, ...], value: object) -> object:
    copy = json.loads(json.dumps(root))
    node = copy
    for k in path[:-1]:
        node = node[k]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]
    return copy


def json_variants(text: str) -> Iterator[tuple[str, str]]:
    for v in truncated(text):
        yield "truncated", v
    root = json.loads(text)
    for path in _leaves(root):
        if path and path[-1] in JSON_KEYS:
            for bad in GARBAGE:
                yield f"{'/'.join(map(str, path))}={bad!r}", json.dumps(_set(root, path, bad))
    yield "markup", f"<pre>{text}</pre>"
    yield "trailing", text + " (bla)"


# ---- what each parser's result grants ---------------------------------------------------------


def _sec_grants(sec: hdparm.AtaSecurity | None) -> Grants:
    return {
        "no security feature set": sec is None,
        "security supported": sec is not None and sec.supported is True,
        "not enabled": sec is not None and sec.enabled is False,
        "not locked": sec is not None and sec.locked is False,
        "not frozen": sec is not None and sec.frozen is False,
        "count not expired": sec is not None and sec.count_expired is False,
        "enhanced erase": sec is not None and sec.enhanced_supported is True,
    }


def identify_grants(r: hdparm.AtaIdentify | None) -> Grants:
    if r is None:
        return {}  # unknown: the probe has no ATA data, exactly as when hdparm fails
    feats = ("sanitize_supported", "sanitize_crypto", "sanitize_block", "sanitize_overwrite")
    more = ("trim", "trim_zeroes", "hpa_feature")
    return {**{f: bool(getattr(r, f)) for f in (*feats, *more)}, **_sec_grants(r.security)}


def id_ctrl_grants(r: nvme.IdCtrl) -> Grants:
    flags = ("sanitize_crypto", "sanitize_block", "sanitize_overwrite", "format_supported")
    flags += ("crypto_format_supported", "security_send_receive", "write_zeroes", "dsm")
    grants = {f: bool(getattr(r, f)) for f in flags}
    return grants | {"format per namespace": not r.format_applies_to_all_namespaces}


def smart_grants(r: smartctl.SmartSummary) -> Grants:
    return {
        "passed": r.passed is True,
        "ran": not smartctl.failed_to_run(r),
        "no critical warning": r.critical_warning == 0,
        "security not frozen": r.security_frozen is False,
        "security not enabled": r.security_enabled is False,
        "trim": r.trim is True,
        "health ok": smartctl.health_of(r).state == smartctl.HealthState.OK,
    }


def sanitize_log_grants(r: nvme.SanitizeLog) -> Grants:
    done = (nvme.SanitizeStatus.COMPLETED, nvme.SanitizeStatus.COMPLETED_NO_DEALLOC)
    return {"completed": r.status in done, "global erased": r.global_erased}


def readcap_grants(r: sg.ReadCap | None) -> Grants:
    if r is None:
        return {}  # unknown, as when sg_readcap fails
    return {
        "512/4096 sectors": not r.nonstandard_sectors,
        "lbpme": r.lbpme,
        "lbprz": r.lbprz,
        f"{r.blocks} blocks of {r.block_length}": True,
    }


def sanitize_status_grants(r: hdparm.AtaSanitizeStatus | None) -> Grants:
    return {"completed ok": bool(r and r.completed_ok), "not frozen": bool(r and not r.frozen)}


def hpa_grants(r: hdparm.HpaState | None) -> Grants:
    """Any other count would make the HPA reset set the wrong max address: equal or an error."""
    return {} if r is None else {f"{r.current}/{r.native} enabled={r.enabled}": True}


def dco_grants(r: hdparm.DcoState | None) -> Grants:
    return {} if r is None else {f"real max {r.real_max}": True}


def queue_grants(r: blkdev.QueueLimits) -> Grants:
    return {
        "discard": r.discard,
        "write zeroes": r.write_zeroes,
        "not rotational": not r.rotational,
        f"logical block {r.logical_block_size}": True,
    }


# ---- the fixtures -----------------------------------------------------------------------------


def _files(*globs: str) -> list[Path]:
    """Each distinct capture once (the shared set and tests/fixtures hold copies of some)."""
    paths = [p for root in (FIXTURES, SHARED) for g in globs for p in sorted(root.glob(g))]
    return list({p.read_bytes(): p for p in reversed(paths)}.values())[::-1]


IDENTIFY = _files("hdparm/sata-*.txt", "hdparm/loop-I.txt")
SMARTCTL = _files("smartctl/*.json", "smartctl-json/*.json")
READCAP = _files("sg3-utils/*readcap*.txt")
SANITIZE_STATUS = _files("hdparm/*sanitize-status*.txt")

CASES: list[tuple[str, Callable[[str], object], Callable[..., Grants], Path, bool]] = [
    *(("hdparm -I", hdparm.parse_identify, identify_grants, p, False) for p in IDENTIFY),
    *(("sanitize-status", hdparm.parse_sanitize_status, sanitize_status_grants, p, False)
      for p in SANITIZE_STATUS),
    ("id-ctrl json", nvme.parse_id_ctrl, id_ctrl_grants,
     FIXTURES / "nvme/wdc-pc-sn730-id-ctrl.json", True),
    ("id-ctrl text", nvme.parse_id_ctrl_text, id_ctrl_grants,
     FIXTURES / "nvme/toshiba-kxg6aznv512g-id-ctrl-text-sn-elided.txt", False),
    ("sanitize-log text", nvme.parse_sanitize_log_text, sanitize_log_grants,
     FIXTURES / "nvme/crucial-p3-ct4000p3pssd8-sanitize-log.txt", False),
    *(("smartctl", smartctl.parse, smart_grants, p, True) for p in SMARTCTL),
    ("hdparm -N", hdparm.parse_hpa, hpa_grants,
     FIXTURES / "hdparm/sata-hdd-160g-N-hpa-enabled.txt", False),
    ("hdparm --dco-identify", hdparm.parse_dco, dco_grants,
     FIXTURES / "hdparm/sata-hdd-3t-dco-identify.txt", False),
    *(("sg_readcap", sg.parse_readcap, readcap_grants, p, False) for p in READCAP),
]  # fmt: skip


def _check(parse: Callable[[str], object], grants: Callable[..., Grants], clean: Grants,
           variant: str, label: str) -> None:  # fmt: skip
    try:
        result = parse(variant)
    except ToolError:
        return
    got = grants(result)
    wider = sorted(k for k, v in got.items() if v and not clean.get(k, False))
    assert not wider, f"{label}: grants {wider} the clean capture does not\n{variant[:2000]}"


@pytest.mark.parametrize(
    ("tool", "parse", "grants", "path", "is_json"),
    CASES,
    ids=[f"{c[0]}:{c[3].name}" for c in CASES],
)
def test_damaged_real_captures_fail_closed(tool, parse, grants, path, is_json):
    text = path.read_text(encoding="utf-8")
    clean = grants(parse(text))
    variants = list(json_variants(text) if is_json else text_variants(text))
    assert len(variants) > 10
    for kind, variant in variants:
        _check(parse, grants, clean, variant, f"{tool} {path.name} [{kind}]")


def test_the_locked_capture_damaged_never_reads_unlocked():
    """The real locked M4: no damage to it may yield locked False or frozen False."""
    text = (FIXTURES / "hdparm/sata-ssd-crucial-m4-locked-expired-empty-serial.txt").read_text()
    for kind, variant in text_variants(text):
        try:
            ident = hdparm.parse_identify(variant)
        except ToolError:
            continue
        sec = ident.security if ident else None
        assert ident is None or sec is not None, kind  # the feature set is listed: not absent
        assert sec is None or sec.locked is not False, kind
        assert sec is None or sec.count_expired is not False, kind


def _real_queue_files() -> list[dict[str, str | None]]:
    """This machine's own sysfs queue files of every block device (real kernel output)."""
    out = []
    for name in sorted(os.listdir("/sys/class/block")):
        q = f"/sys/class/block/{name}/queue"
        if os.path.isdir(q):
            out.append({k: _read(os.path.join(q, k)) for k in blkdev.QUEUE_FILES})
    return out


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def test_damaged_sysfs_queue_files_fail_closed():
    real = _real_queue_files()
    assert real, "this machine has block devices with a queue directory"
    for values in real[:8]:
        clean = queue_grants(blkdev.parse_queue_limits(values))
        for key, text in values.items():
            for kind, variant in text_variants(text or ""):
                parse = _queue_parser({**values, key: variant})
                _check(parse, queue_grants, clean, variant, f"sysfs {key} [{kind}]")


def _queue_parser(values: dict[str, str | None]) -> Callable[[str], blkdev.QueueLimits]:
    return lambda _: blkdev.parse_queue_limits(values)


def test_the_contract_covers_every_parser_of_the_tool_modules():
    """A new parse_* function must be added here (or to the list below with a reason)."""
    covered = {c[1] for c in CASES} | {blkdev.parse_queue_limits}
    #: parsers tested by hand in test_parsers.py: their fixtures are one-line tool answers
    by_hand = {hdparm.parse_security, nvme.parse_sanitize_log,
               sg.parse_opcodes, sg.parse_progress}  # fmt: skip
    for module in (hdparm, nvme, sg, smartctl, blkdev):
        for name in dir(module):
            fn = getattr(module, name)
            if name.startswith("parse") and callable(fn):
                assert fn in covered | by_hand, f"{module.__name__}.{name} is not in the contract"
