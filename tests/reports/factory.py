"""JobResult values for report tests, built directly (no engine), plus schema validation."""

from __future__ import annotations

from dataclasses import replace

import jsonschema
from wipestation.model import (
    Drive,
    Fingerprint,
    IdentitySource,
    JobResult,
    JobState,
    StepRecord,
    Transport,
    VerifyResult,
)
from wipestation.reports.record import Record, StationInfo, load_schema
from wipestation.tools.smartctl import SmartSummary

GB = 1000**3
T0 = "2026-11-27T03:00:00+01:00"
T1 = "2026-11-27T03:42:17+01:00"
STATION = StationInfo(
    station_id="bench-2",
    software_version="0.1.0",
    operator="Ana Pérez",
    customer="ACME Recycling",
    location="Floor 1",
    time_source="system clock (RTC)",
)


def drive(**kw: object) -> Drive:
    base = Drive(
        path="/dev/sdb",
        name="sdb",
        transport=Transport.SATA,
        model="Samsung SSD 870 EVO 500GB",
        serial="S6PYNX0T123456A",
        wwn="0x5002538f42a1b2c3",
        firmware="SVT02B6Q",
        size_bytes=500 * GB,
        logical_block_size=512,
        physical_block_size=512,
        rotational=False,
        removable=False,
        read_only=False,
        identity="S6PYNX0T123456A",
        identity_source=IdentitySource.SERIAL,
        vendor="ATA",
        id_path="pci-0000:00:1f.2-ata-2",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def step(i: int, ok: bool = True) -> StepRecord:
    return StepRecord(
        name=f"overwrite pass {i} (random)",
        kind="overwrite",
        command=f"pwrite O_DIRECT /dev/sdb 4 MiB blocks, AES-256-CTR stream seed #{i}",
        started_at=T0,
        ended_at=T1,
        ok=ok,
        exit_status=0 if ok else 5,
        output_excerpt="" if ok else "EIO at offset 4096",
        bytes_written=500 * GB,
        error="" if ok else "I/O error",
    )


def job(passed: bool = True, **kw: object) -> JobResult:
    verify = VerifyResult(
        mode="sample",
        expected="random stream",
        bytes_checked=50 * GB,
        bytes_total=500 * GB,
        passed=passed,
        mismatches=() if passed else ((4096, 512),),
        observed_class="random-looking",
    )
    base = JobResult(
        job_id="job-1",
        drive=drive(),
        method="ata-sanitize-crypto",
        level="purge",
        standard="NIST SP 800-88 Rev. 1 Table A-8",
        state=JobState.PASSED if passed else JobState.FAILED,
        reason="sanitize completed and sampled read-back differs from the fingerprint"
        if passed
        else "verification found 1 range still holding old data",
        started_at=T0,
        ended_at=T1,
        steps=(
            StepRecord(
                "hdparm sanitize crypto scramble",
                "firmware",
                "hdparm --yes-i-know-what-i-am-doing --sanitize-crypto-scramble /dev/sdb",
                T0,
                T1,
                True,
                0,
                "Issuing SANITIZE_CRYPTO_SCRAMBLE command",
            ),
        ),
        verification=verify,
        fallbacks=("ata sanitize block erase not supported → crypto scramble",),
        health=SmartSummary(
            "ATA",
            "sat",
            "Samsung SSD 870 EVO 500GB",
            "S6PYNX0T123456A",
            "SVT02B6Q",
            True,
            12034,
            0,
            None,
            7,
            None,
            0,
            True,
            False,
            False,
            0,
        ),  # fmt: skip
        hpa_dco={"hidden_before": False, "hidden_after": False},
        fingerprint=Fingerprint(7, 4096, (0, 4096), ("ab" * 32, "cd" * 32), (False, True)),
    )
    # A job with steps ran its method (the engine sets ``executed`` so); tests override both.
    kw.setdefault("executed", kw.get("method", base.method))
    return replace(base, **kw)  # type: ignore[arg-type]


def validate(record: Record) -> Record:
    """Every record a test produces goes through this."""
    jsonschema.validate(record, load_schema(), cls=jsonschema.Draft202012Validator)
    return record
