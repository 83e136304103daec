"""Tool simulators: hdparm, nvme, sg_* and smartctl for hardware QEMU and loop devices lack.

Why: NVMe/ATA/SCSI sanitize and ATA security cannot be emulated here (reference/qemu.md §0.3),
yet the policy, the steps and the fallbacks must run end to end. Each executable in this
directory calls ``main(tool)``; it looks the device up in the JSON state file named by
$WIPESTATION_SIM_STATE, prints what the real tool prints (replaying captured fixtures from
tests/fixtures where one exists), updates the simulated drive state, and really erases the loop
device — unless the device's ``behaviour`` says the firmware lies ("lying": reports success,
erases nothing), refuses ("reject"), or aborts silently ("abort": hdparm's exit-0 abort).
Every call is appended to the state's ``calls`` list so tests can see what ran.
Standard library only: the simulators run under any python3.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MiB = 1024 * 1024
NVME_INVALID_OPCODE = (
    "NVMe status: Invalid Command Opcode: A reserved coded value or an unsupported value in "
    "the command opcode field(0x4001)\n"
)
SG_ABORT = "SG_IO: bad/missing sense data, sb[]:  70 00 0b 00 00 00 00 0a 00 00 00 00 04 41 00 00\n"


class Sim:
    def __init__(self, tool: str, argv: list[str]) -> None:
        self.tool, self.argv = tool, argv
        self.path = Path(os.environ["WIPESTATION_SIM_STATE"])
        self.state = json.loads(self.path.read_text())
        self.state.setdefault("calls", []).append([tool, *argv])
        self.dev_path = next((a for a in reversed(argv) if a.startswith("/dev/")), "")
        self.dev = self.state.get("devices", {}).get(self.dev_path)
        self.out: list[str] = []
        self.err: list[str] = []
        self.rc = 0

    @property
    def behaviour(self) -> str:
        return self.dev.get("behaviour", "ok") if self.dev else "ok"

    def finish(self) -> int:
        self.path.write_text(json.dumps(self.state, indent=1))
        sys.stdout.write("".join(self.out))
        sys.stderr.write("".join(self.err))
        return self.rc

    # ---- the medium ---------------------------------------------------------------------

    def erase(self, fill: str) -> None:
        """Really erase the device behind the simulated drive (zeros, ones or random)."""
        if self.behaviour == "lying":
            return
        fd = os.open(self.dev_path, os.O_WRONLY)
        try:
            size = os.lseek(fd, 0, os.SEEK_END)
            for off in range(0, size, MiB):
                n = min(MiB, size - off)
                data = {"zeros": bytes(n), "ones": b"\xff" * n}.get(fill) or os.urandom(n)
                os.pwrite(fd, data, off)
            os.fsync(fd)
        finally:
            os.close(fd)

    def start_operation(self, fill: str) -> None:
        self.dev["op"] = {"polls": int(self.dev.get("polls", 2)), "done": False}
        self.erase(fill)

    def poll(self) -> tuple[bool, float]:
        """(running, fraction) of the background operation; each poll advances it."""
        op = self.dev.get("op")
        if not op or op["done"]:
            return False, 1.0
        total = int(self.dev.get("polls", 2)) or 1
        op["polls"] -= 1
        if op["polls"] < 0:
            op["done"] = True
            return False, 1.0
        return True, (total - op["polls"] - 1) / total


# ---- nvme -----------------------------------------------------------------------------------


def nvme(s: Sim) -> None:
    sub = s.argv[0] if s.argv else ""
    if s.dev is None or s.dev.get("kind") != "nvme":
        s.err.append("identify controller: Invalid argument\n")  # tests/fixtures/nvme/loop-*
        s.rc = 1
        return
    {
        "id-ctrl": nvme_id_ctrl,
        "sanitize": nvme_sanitize,
        "sanitize-log": nvme_sanitize_log,
        "format": nvme_format,
        "ns-rescan": lambda s: None,
    }.get(sub, nvme_unknown)(s)


def nvme_unknown(s: Sim) -> None:
    s.err.append(f"simulator: nvme {s.argv[0]} not simulated\n")
    s.rc = 1


def nvme_id_ctrl(s: Sim) -> None:
    d = json.loads((FIXTURES / "nvme/wdc-pc-sn730-id-ctrl.json").read_text())
    for key in ("sanicap", "fna", "oacs", "nn"):
        if key in s.dev:
            d[key] = s.dev[key]
    s.out.append(json.dumps(d, indent=2) + "\n")


def nvme_sanitize(s: Sim) -> None:
    action = int(next(a.split("=", 1)[1] for a in s.argv if a.startswith("--sanact=")))
    bit = {4: 0x1, 2: 0x2, 3: 0x4}.get(action, 0)
    if not s.dev.get("sanicap", 0) & bit or s.behaviour == "reject":
        s.err.append(NVME_INVALID_OPCODE)
        s.rc = 1
        return
    s.start_operation({4: "random", 2: "ones", 3: "zeros"}[action])
    s.out.append("Sanitize command: Success\n")


def nvme_sanitize_log(s: Sim) -> None:
    running, frac = s.poll()
    op = s.dev.get("op")
    status = 2 if running else (1 if op else 0)
    text = {0: "Never Sanitized", 1: "Sanitize Completed", 2: "Sanitize in Progress"}[status]
    log = {
        "sprog": int(frac * 65535) if running else 65535,
        "sstat": {
            "global_erased": 0,
            "no_cmplted_passes": 1 if status == 1 else 0,
            "status": f"({status}) {text}",
        },
        "cdw10_info": 0,
        "time_over_write": 4294967295,
        "time_block_erase": 30,
        "time_crypto_erase": 2,
    }
    s.out.append(json.dumps({Path(s.dev_path).name: log}, indent=2) + "\n")


def nvme_format(s: Sim) -> None:
    ses = next((a.split("=", 1)[1] for a in s.argv if a.startswith("--ses=")), "0")
    if not s.dev.get("oacs", 0) & 0x2 or s.behaviour == "reject":
        s.err.append(NVME_INVALID_OPCODE)
        s.rc = 1
        return
    s.erase("zeros")  # what QEMU's Format does (reference/qemu.md §3.1)
    s.out.append(f"Success formatting namespace:1 (SES={ses})\n")


# ---- hdparm ---------------------------------------------------------------------------------


def hdparm(s: Sim) -> None:
    if s.dev is None or s.dev.get("kind") != "ata":
        s.out.append(f"\n{s.dev_path}:\n")  # tests/fixtures/hdparm/loop-I.txt
        return
    s.out.append(f"\n{s.dev_path}:\n")
    a = s.argv
    if "-I" in a:
        s.out.append(identify_text(s.dev))
    elif "--sanitize-status" in a:
        hdparm_sanitize_status(s)
    elif any(x.startswith("--sanitize-") for x in a):
        hdparm_sanitize(s)
    elif "--security-set-pass" in a:
        security(s, "SET_PASS", set_pass)
    elif "--security-erase" in a or "--security-erase-enhanced" in a:
        security(s, "ERASE", erase_unit)
    elif "--security-unlock" in a:
        security(s, "UNLOCK", lambda s, pw: s.dev["ata"].update(locked=False))
    elif "--security-disable" in a:
        security(s, "DISABLE", disable)
    elif "-N" in a:
        n = s.dev.get("sectors", 32768)
        s.out.append(f" max sectors   = {n}/{n}, HPA is disabled\n")
    elif "--dco-identify" in a:
        s.out.append(f"DCO Revision: 0x0002\n\tReal max sectors: {s.dev.get('sectors', 32768)}\n")


def identify_text(dev: dict) -> str:
    """A captured ``hdparm -I`` with the Security flags rewritten to the simulated state."""
    ata = dev["ata"]
    text = (FIXTURES / "hdparm" / ata["fixture"]).read_text().split(":\n", 1)[1]
    if ata.get("rpm"):
        text = text.replace("Solid State Device", str(ata["rpm"]))
    for flag in ("enabled", "locked", "frozen"):
        prefix = "\t" if ata.get(flag) else "\tnot"
        text = re.sub(rf"^\t(not)?\t{flag}\b", f"{prefix}\t{flag}", text, flags=re.M)
    return text


def hdparm_sanitize_status(s: Sim) -> None:
    s.out.append("Issuing SANITIZE_STATUS command\n")
    if s.behaviour == "abort":  # tests/fixtures/hdparm/...mx500-sanitize-status-idle...
        s.out.append(SG_ABORT + "Sanitize status:\n    State:    SD0 Sanitize Idle\n")
        return
    running, frac = s.poll()
    s.out.append("Sanitize status:\n")
    if running:
        p = int(frac * 0xFFFF)
        s.out.append(f"    State:    SD2 Sanitize operation In Process\n    Progress: 0x{p:x} ")
        s.out.append(f"({int(frac * 100)}%)\n")
    elif s.dev.get("op"):
        s.out.append("    State:    SD0 Sanitize Idle\n")
        s.out.append("    Last Sanitize Operation Completed Without Error\n")
    else:
        s.out.append("    State:    SD0 Sanitize Idle\n")


def hdparm_sanitize(s: Sim) -> None:
    mode = next(x for x in s.argv if x.startswith("--sanitize-") and x != "--sanitize-status")
    name = mode.removeprefix("--sanitize-").split("-passes")[0]
    cmd = name.upper().replace("-", "_")
    if s.behaviour == "abort":  # tests/fixtures/hdparm/...mx500-sanitize-block-erase-aborted.txt
        s.out.append(
            (FIXTURES / "hdparm/sata-ssd-crucial-mx500-sanitize-block-erase-aborted.txt")
            .read_text()
            .split(":\n", 1)[1]
        )
        return
    s.out.append(f"Issuing SANITIZE_{cmd} command\nOperation started in background\n")
    s.out.append("You may use `--sanitize-status` to check progress\n")
    fill = {"crypto-scramble": "random", "block-erase": "ones", "overwrite": "zeros"}[name]
    s.start_operation(fill)


def security(s: Sim, what: str, action) -> None:
    pw = s.argv[s.argv.index(next(a for a in s.argv if a.startswith("--security-"))) + 1]
    s.out.append(f' Issuing SECURITY_{what} command, password="{pw}", user=user\n')
    ata = s.dev["ata"]
    ok_state = not ata.get("frozen") and (what == "SET_PASS" or ata.get("password") == pw)
    if not ok_state or (what == "ERASE" and s.behaviour == "fail-erase"):
        s.err.append(SG_ABORT)  # the drive aborted; hdparm still exits 0 (qemu.md §0.4)
        return
    action(s, pw)


def set_pass(s: Sim, pw: str) -> None:
    s.dev["ata"].update(enabled=True, password=pw)


def erase_unit(s: Sim, pw: str) -> None:
    s.erase("random" if "--security-erase-enhanced" in s.argv else "zeros")
    disable(s, pw)


def disable(s: Sim, pw: str) -> None:
    s.dev["ata"].update(enabled=False, password=None)


# ---- sg3_utils ------------------------------------------------------------------------------

SCSI_ROWS = {
    "overwrite": " 48        1        10    Sanitize, overwrite\n",
    "block": " 48        2        10    Sanitize, block erase\n",
    "crypto": " 48        3        10    Sanitize, cryptographic erase\n",
}


def sg_opcodes(s: Sim) -> None:
    if s.dev is None or s.dev.get("kind") != "scsi":
        s.err.append("inquiry: pass-through os error: Invalid argument\n")  # fixtures/sg3-utils
        s.err.append(f"sg_opcodes: {s.dev_path} doesn't respond to a SCSI INQUIRY\n")
        s.rc = 99
        return
    s.out.append("  SIMUL     SimSAS            0001\n  Peripheral device type: disk\n\n")
    s.out.append("Opcode  Service    CDB    Name\n(hex)   action(h)  size\n")
    s.out.append("-----------------------------------------------\n")
    s.out.append(" 00                  6    Test Unit Ready\n")
    if s.dev.get("format", True):
        s.out.append(" 04                  6    Format Unit\n")
    s.out.append(" 12                  6    Inquiry\n")
    s.out.extend(SCSI_ROWS[m] for m in s.dev.get("sanitize", []))


def sg_sanitize(s: Sim) -> None:
    mode = next((m for m in ("overwrite", "block", "crypto") if f"--{m}" in s.argv), "")
    if s.dev is None or mode not in s.dev.get("sanitize", []) or s.behaviour == "reject":
        # tests/fixtures/sg3-utils/sata-ssd-crucial-mx500-sg_sanitize-block-invalid-opcode.txt
        s.out.append("Sanitize failed: Illegal request, Invalid opcode\n")
        s.err.append("sg_sanitize failed: Illegal request, Invalid opcode\n")
        s.rc = 9
        return
    s.out.append("    SIMUL     SimSAS            0001   peripheral_type: disk [0x0]\n")
    s.start_operation({"overwrite": "zeros", "block": "ones", "crypto": "random"}[mode])


def sg_requests(s: Sim) -> None:
    if s.dev is None:
        s.err.append("Request sense: pass-through os error: Invalid argument\n")
        s.rc = 72
        return
    running, frac = s.poll()
    if running:
        s.out.append(f"Progress indication: {frac * 100:.2f}% done\n")


def sg_format(s: Sim) -> None:
    if s.dev is None or not s.dev.get("format", True):
        s.out.append("Format unit failed: Illegal request, Invalid opcode\n")
        s.rc = 9
        return
    s.erase("zeros")
    s.out.append("FORMAT UNIT Complete\n")  # printed even when nothing was erased (qemu.md §3.3)


# ---- smartctl -------------------------------------------------------------------------------

SMART_FIXTURE = {
    "nvme": "nvme-samsung-970evo-x.json",
    "ata": "ata-ssd-samsung-860evo-x-security-not-frozen.json",
    "scsi": "sas-hdd-seagate-st1200mm0088.json",
}


def smartctl(s: Sim) -> None:
    kind = s.dev.get("kind") if s.dev else None
    name = SMART_FIXTURE.get(kind or "", "loop-unable-to-detect.json")
    text = (FIXTURES / "smartctl" / name).read_text()
    s.out.append(text)
    s.rc = json.loads(text)["smartctl"]["exit_status"]


def rtcwake(s: Sim) -> None:
    """A suspend-to-RAM cycle: every simulated ATA drive comes back with security unfrozen."""
    for dev in s.state.get("devices", {}).values():
        if dev.get("kind") == "ata" and not dev.get("stays_frozen"):
            dev["ata"]["frozen"] = False
    s.out.append('rtcwake: wakeup from "mem" using /dev/rtc0 (simulated)\n')


TOOLS = {
    "rtcwake": rtcwake,
    "nvme": nvme,
    "hdparm": hdparm,
    "sg_opcodes": sg_opcodes,
    "sg_sanitize": sg_sanitize,
    "sg_requests": sg_requests,
    "sg_format": sg_format,
    "smartctl": smartctl,
}


def main(tool: str) -> None:
    sim = Sim(tool, sys.argv[1:])
    TOOLS[tool](sim)
    sys.exit(sim.finish())
