"""The named-method registry: what an operator can ask for, and how it becomes a ``Plan``.

``build_plan(drive, name, verify)`` is the single entry point for the engine and the front ends.
This module registers the overwrite methods; the hardware-methods layer (``wipestation.policy``)
registers firmware methods and ``auto`` through ``register()`` when it exists.

The NIST SP 800-88 Rev. 1 level of an overwrite is **Clear** on every medium (Table A-1..A-8:
"overwrite media ... using organizationally approved ... methods"); only firmware sanitize or
crypto erase reach Purge. ``nist-clear`` is our Clear profile: one pass of the keyed AES-256-CTR
random stream (so no controller can compress or deduplicate it), then one pass of zeros, then
verification of the zeros (sampled by default, ``--verify full`` for every byte). The drive ends
blank, and a zero read-back proves the last pass reached every sampled LBA.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from wipestation.engine.overwrite import OverwriteStep
from wipestation.engine.patterns import ONES, STREAM, ZEROS, Pattern, constant
from wipestation.engine.plan import Expect, Expectation, Plan
from wipestation.errors import UnsupportedError
from wipestation.model import Drive, Transport

NIST = "NIST SP 800-88 Rev. 1"
MEDIA = ("hdd", "ssd", "nvme", "flash")
ALL_TRANSPORTS = tuple(Transport)
VERIFY_MODES = ("none", "sample", "full")

PlanBuilder = Callable[[Drive, str], Plan]


@dataclass(frozen=True)
class Method:
    name: str
    title: str
    description: str
    #: medium ("hdd", "ssd", "nvme", "flash") → "clear" | "purge"
    levels: dict[str, str]
    standard: str
    passes: int
    transports: tuple[Transport, ...]
    builder: PlanBuilder = field(compare=False, repr=False)

    def plan(self, drive: Drive, verify: str) -> Plan:
        return self.builder(drive, verify)

    def level_for(self, drive: Drive) -> str:
        return self.levels.get(medium_of(drive), "none")

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "levels": dict(self.levels),
            "standard": self.standard,
            "passes": self.passes,
            "transports": [str(t) for t in self.transports],
        }


_REGISTRY: dict[str, Method] = {}
_policy_loaded = False


def medium_of(drive: Drive) -> str:
    if drive.transport == Transport.NVME:
        return "nvme"
    if drive.rotational and drive.transport != Transport.LOOP:
        return "hdd"
    if drive.transport in (Transport.USB, Transport.MMC):
        return "flash"
    return "hdd" if drive.rotational else "ssd"


def register(method: Method) -> None:
    """Add or replace a method (the policy layer registers the firmware ones)."""
    _REGISTRY[method.name] = method


def unregister(name: str) -> None:
    """Remove a method (tests that register throw-away plans clean up with this)."""
    _REGISTRY.pop(name, None)


def _load_policy() -> None:
    global _policy_loaded
    if _policy_loaded:
        return
    _policy_loaded = True
    try:
        importlib.import_module("wipestation.policy")
    except ModuleNotFoundError as e:
        if e.name != "wipestation.policy":
            raise


def get(name: str) -> Method:
    _load_policy()
    if name.startswith("overwrite-byte:"):
        return byte_method(name)
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnsupportedError(f"unknown method {name!r}; known methods: {known}") from None


def all_methods() -> list[Method]:
    _load_policy()
    return list(_REGISTRY.values())


def build_plan(drive: Drive, method_name: str, verify: str = "sample") -> Plan:
    """The plan for ``method_name`` on ``drive``.

    Raises:
        UnsupportedError: unknown method, bad verify mode, or the drive's transport can't run it.
    """
    if verify not in VERIFY_MODES:
        raise UnsupportedError(f"verify must be one of {', '.join(VERIFY_MODES)}, not {verify!r}")
    method = get(method_name)
    if drive.transport not in method.transports:
        raise UnsupportedError(f"{method.name} is not supported on {drive.transport} drives")
    return method.plan(drive, verify)


def overwrite_builder(name: str, patterns: tuple[Pattern, ...], expect: Expectation):
    def build(drive: Drive, verify: str) -> Plan:
        count = len(patterns)
        steps = tuple(OverwriteStep(p, i + 1, count) for i, p in enumerate(patterns))
        return Plan(
            method=name,
            level="clear",
            standard=f"{NIST} Clear (overwrite of all user-addressable LBAs)",
            steps=steps,
            expect=expect if verify != "none" else Expectation(Expect.NOTHING),
            verify=verify,
            reasons=(f"{name}: {count} overwrite pass(es), then verify={verify}",),
        )

    return build


def overwrite_method(
    name: str, title: str, description: str, patterns: tuple[Pattern, ...], expect: Expectation
) -> Method:
    return Method(
        name=name,
        title=title,
        description=description,
        levels=dict.fromkeys(MEDIA, "clear"),
        standard=NIST,
        passes=len(patterns),
        transports=ALL_TRANSPORTS,
        builder=overwrite_builder(name, patterns, expect),
    )


def byte_method(name: str) -> Method:
    """``overwrite-byte:0xNN``: one pass of a constant byte."""
    raw = name.split(":", 1)[1]
    try:
        byte = int(raw, 0)
        pat = constant(byte)
    except ValueError as e:
        raise UnsupportedError(f"{name}: expected a byte like 0x5a ({e})") from None
    canonical = f"overwrite-byte:0x{byte:02x}"
    base = overwrite_method(
        canonical,
        f"Overwrite with 0x{byte:02x}",
        "One pass of a constant byte.",
        (pat,),
        Expectation(Expect.BYTE, byte),
    )
    return replace(base, name=canonical)


def _register_overwrite_methods() -> None:
    zeros, ones = Expectation(Expect.ZEROS), Expectation(Expect.ONES)
    stream = Expectation(Expect.STREAM)
    for args in (
        ("overwrite-zero", "Overwrite with zeros", "One pass of zeros.", (ZEROS,), zeros),
        ("overwrite-ones", "Overwrite with ones", "One pass of 0xFF.", (ONES,), ones),
        (
            "overwrite-random",
            "Overwrite with random data",
            "One pass of a keyed AES-256-CTR stream, verified by regenerating it.",
            (STREAM,),
            stream,
        ),
        (
            "dod-5220.22-m",
            "DoD 5220.22-M (3 pass)",
            "Zeros, their complement (0xFF), then random; the random pass is verified.",
            (ZEROS, ONES, STREAM),
            stream,
        ),
        (
            "nist-clear",
            "NIST 800-88 Clear",
            "One random pass, then a zero pass verified by read-back (the Clear profile).",
            (STREAM, ZEROS),
            zeros,
        ),
    ):
        register(overwrite_method(*args))


_register_overwrite_methods()
