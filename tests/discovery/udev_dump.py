"""Read ``udevadm info --export-db`` text into the property dicts discovery works on."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "udev"


def parse_export_db(text: str) -> list[dict[str, str]]:
    records: list[dict[str, str]] = []
    for block in text.strip().split("\n\n"):
        props = {}
        for line in block.splitlines():
            if line.startswith("E: "):
                key, _, value = line[3:].partition("=")
                props[key] = value
        if props.get("DEVNAME"):
            records.append(props)
    return records


def load(name: str) -> dict[str, dict[str, str]]:
    """Records of one fixture file, keyed by kernel name."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return {r["DEVNAME"].rsplit("/", 1)[-1]: r for r in parse_export_db(text)}
