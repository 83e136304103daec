"""``wipestation probe DEVICE``: what the drive reports it can do, and the plan ``auto`` would run.

Why: the operator (and the VM tests) must see, before anything is written, which firmware
command will be used, at which level under which standard, what the fallback is, and why each
stronger candidate was skipped. Probing only reads; nothing here writes to the drive.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from wipestation.discovery import controllers
from wipestation.discovery.inventory import Inventory
from wipestation.errors import UnsupportedError, WipestationError
from wipestation.model import VERIFY_MODES
from wipestation.planning.medium import medium_of
from wipestation.planning.planner import Planner
from wipestation.steps.plan import Plan


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("device", help="the drive: /dev/sdX, /dev/nvme0n1, a by-id link, ...")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--method", default="auto", help="plan this method instead of auto")
    p.add_argument("--verify", default="sample", choices=VERIFY_MODES)


def plan_to_json(plan: Plan) -> dict[str, object]:
    return {
        "method": plan.method,
        "requested": plan.asked_for,
        "medium": plan.facts.medium if plan.facts else None,
        "level": plan.level,
        "standard": plan.standard,
        "steps": [{"name": s.name, "kind": str(s.kind)} for s in plan.steps],
        "expect": plan.expect.describe(),
        "verify": plan.verify,
        "reasons": list(plan.reasons),
        "fallback": plan_to_json(plan.fallback) if plan.fallback else None,
    }


def run(args: argparse.Namespace) -> int:
    drive = Inventory().get(args.device)
    if drive is None:
        raise WipestationError(f"{args.device}: no such disk (see 'wipestation list')")
    planner = Planner()  # the station's own planner: the same plan the screen and record show
    caps = planner.capabilities(drive)
    out: dict[str, object] = {
        "drive": drive.to_json(),
        "medium": str(medium_of(drive, caps)),
        "capabilities": caps.to_json(),
    }
    try:
        out["plan"] = plan_to_json(planner.plan(drive, args.method, args.verify))
    except UnsupportedError as e:
        out["plan"] = None
        out["refused"] = str(e)
    if drive.protected:
        out["protected"] = list(drive.protected_reasons)
    if controllers.not_a_drive(drive):
        out["not_a_drive"] = controllers.not_a_drive(drive)
    if controllers.raid_member_notice(drive):
        out["raid_set"] = controllers.raid_member_notice(drive)
    found = controllers.scan()  # only then is the full listing worth its time
    out["controllers"] = controllers.hidden_disks(Inventory().drives()) if found else []
    print(json.dumps(out, indent=2) if args.json else format_text(out))
    return 0 if out["plan"] else 1


def format_text(out: dict[str, Any]) -> str:  # the JSON printed above
    caps, plan = out["capabilities"], out["plan"]
    lines = [f"{out['drive']['path']}: {caps['transport']}, medium {out['medium']}"]
    health = caps["health"]
    lines.append(f"  health: {health['state']}" + "".join(f"; {r}" for r in health["reasons"]))
    lines += [f"  missing tool: {e}" for e in caps["availability_errors"]]
    lines += [f"  note: {n}" for n in caps["notes"]]
    if out.get("protected"):
        lines.append("  PROTECTED: " + "; ".join(out["protected"]))
    if out.get("not_a_drive"):
        lines.append(f"  NOT A DRIVE: {out['not_a_drive']}")
    if out.get("raid_set"):
        lines.append(f"  RAID SET: {out['raid_set']}")
    lines += [f"  CONTROLLER {c}" for c in out.get("controllers", ())]
    if plan is None:
        return "\n".join([*lines, f"  refused: {out['refused']}"])
    while plan:
        steps = ", ".join(s["name"] for s in plan["steps"])
        lines.append(f"  plan {plan['method']} ({plan['level']}, {plan['standard']}): {steps}")
        lines += [f"    - {r}" for r in plan["reasons"]]
        plan = plan["fallback"]
        if plan:
            lines.append("  if that fails:")
    return "\n".join(lines)
