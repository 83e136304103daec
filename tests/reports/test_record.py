"""The JSON record: every record validates against the schema and states only what was proved."""

from __future__ import annotations

from dataclasses import replace

import jsonschema
import pytest
from wipestation.model import IdentitySource, JobResult, JobState, Transport, VerifyResult
from wipestation.planning.medium import medium_of
from wipestation.reports.record import (
    SCHEMA_ID,
    build_record,
    media_type_of,
    qr_payload,
    record_hash,
)

from tests.reports.factory import STATION, drive, job, step, validate


def test_passed_record_validates_and_carries_the_certificate_fields() -> None:
    rec = validate(build_record(job(), STATION, asset_tag="AT-0042"))
    assert rec["schema"] == SCHEMA_ID
    assert rec["drive"]["serial"] == "S6PYNX0T123456A"
    assert rec["drive"]["manufacturer"] == "ATA"
    assert rec["sanitization"]["level"] == "purge"
    assert rec["sanitization"]["tool"] == "wipestation 0.1.0"
    assert rec["verification"]["coverage_pct"] == 10.0
    assert rec["result"] == {
        "status": "PASS",
        "state": "passed",
        "reason": job().reason,
        "erasure_status": "erased",
        "exceptions": [],
    }
    assert (rec["operator"], rec["customer"], rec["asset_tag"]) == (
        "Ana Pérez",
        "ACME Recycling",
        "AT-0042",
    )
    assert rec["health"]["power_on_hours"] == 12034


def test_failed_record_lists_mismatches_and_says_not_erased() -> None:
    rec = validate(build_record(job(passed=False), STATION))
    assert rec["result"]["status"] == "FAIL"
    assert rec["result"]["erasure_status"] == "not-erased"
    assert rec["verification"]["mismatches"] == [{"offset": 4096, "length": 512}]


def test_minimal_job_without_verification_is_erased_with_exceptions() -> None:
    minimal = JobResult(
        job_id="j",
        drive=drive(serial="", identity="QEMU@loop#1", identity_source=IdentitySource.PATH),
        method="overwrite-zero",
        level="clear",
        standard="NIST SP 800-88 Rev. 1",
        state=JobState.PASSED,
        reason="overwritten",
        started_at="",
        ended_at="",
    )
    rec = validate(build_record(minimal, STATION))
    assert rec["verification"] == {"mode": "none", "performed": False}
    assert rec["result"]["erasure_status"] == "erased-with-exceptions"
    assert "not verified by read-back" in rec["result"]["exceptions"]


def test_bad_ranges_and_hidden_area_are_exceptions() -> None:
    result = job(bad_ranges=((0, 4096),), hpa_dco={"hidden_before": True, "hidden_after": True})
    rec = validate(build_record(result, STATION))
    assert rec["result"]["erasure_status"] == "erased-with-exceptions"
    assert len(rec["result"]["exceptions"]) == 2
    assert rec["bad_ranges"] == [{"offset": 0, "length": 4096}]


def test_many_steps_and_resume_validate() -> None:
    result = job(
        steps=tuple(step(i, ok=i % 5 != 0) for i in range(40)),
        resumed_from={"offset": 1 << 30, "pass": 2, "at": "2026-11-27T02:00:00+01:00"},
        verification=VerifyResult("full", "zeros", 10, 10, True, observed_class="zeros"),
    )
    rec = validate(build_record(result, STATION))
    assert len(rec["steps"]) == 40
    assert rec["steps"][5]["ok"] is False
    assert rec["sanitization"]["resumed_from"]["pass"] == 2


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"transport": Transport.NVME}, "nvme"),
        ({"rotational": True}, "hdd"),
        ({"transport": Transport.USB, "removable": True}, "flash"),
        ({"transport": Transport.MMC}, "flash"),
        ({"transport": Transport.VIRTIO}, "virtual"),
        ({}, "ssd"),
    ],
)
def test_media_type_without_a_probe_is_planning_s_medium(kw: dict, expected: str) -> None:
    result = job(drive=drive(**kw))
    assert media_type_of(result) == expected == str(medium_of(result.drive))
    assert build_record(result, STATION)["drive"]["media_type"] == expected


def test_media_type_is_the_medium_the_plan_was_chosen_for() -> None:
    """A SATA SSD behind a trusted USB bridge: the probe said SSD, so the record says SSD."""
    result = replace(job(drive=drive(transport=Transport.USB, removable=True)), medium="ssd")
    assert build_record(result, STATION)["drive"]["media_type"] == "ssd"


def test_schema_rejects_what_it_must() -> None:
    rec = build_record(job(), STATION)
    for broken in (
        {**rec, "result": {**rec["result"], "status": "MAYBE"}},
        {**rec, "unexpected": 1},
        {k: v for k, v in rec.items() if k != "drive"},
        {**rec, "created_at": "yesterday"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)


def test_qr_payload_has_serial_result_and_hash() -> None:
    rec = build_record(job(), STATION)
    assert qr_payload(rec) == f"WIPESTATION/1|S6PYNX0T123456A|PASS|sha256:{record_hash(rec)}"
    no_serial = build_record(job(drive=replace(drive(), serial="", identity="M@p#1")), STATION)
    assert qr_payload(no_serial).startswith("WIPESTATION/1|M@p#1|PASS|sha256:")


def test_hash_changes_with_content_but_not_key_order() -> None:
    rec = build_record(job(), STATION)
    assert record_hash(dict(reversed(list(rec.items())))) == record_hash(rec)
    assert record_hash({**rec, "operator": "someone else"}) != record_hash(rec)


def test_timestamps_are_normalised_to_rfc3339() -> None:
    rec = validate(
        build_record(
            job(started_at="2026-11-27T03:20:29+0000", ended_at="2026-11-27T04:00:00Z"), STATION
        )
    )
    assert rec["sanitization"]["started_at"] == "2026-11-27T03:20:29+00:00"
    assert rec["sanitization"]["ended_at"] == "2026-11-27T04:00:00+00:00"
