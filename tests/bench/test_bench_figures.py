"""The arithmetic behind ``make bench``'s scaling table (the runs themselves need root and
minutes; their figures are only as good as this)."""

from __future__ import annotations

import math

from bench.bench import marginal, phase_times, scaling_runs


def progress(job: str, state: str, t: float) -> dict[str, object]:
    return {"event": "progress", "job_id": job, "state": state, "time": t}


def test_erase_span_runs_from_the_first_start_to_the_last_end():
    events = [
        progress("a", "probing", 0.0),
        progress("a", "erasing", 1.0),
        progress("b", "erasing", 1.5),
        progress("a", "erasing", 2.0),  # a tick in the same state is no new start
        progress("a", "verifying", 3.0),
        progress("b", "verifying", 4.0),
        progress("a", "reporting", 5.0),
        progress("b", "reporting", 7.0),
        {"event": "result", "job_id": "a"},
    ]
    t = phase_times(events)
    assert t["erasing"] == 3.0  # 1.0 .. 4.0
    assert t["verifying"] == 2.5  # mean of 2.0 and 3.0, not the 4.0 span


def test_a_phase_that_never_ran_is_nan():
    t = phase_times([progress("a", "erasing", 1.0), progress("a", "reporting", 2.0)])
    assert t["erasing"] == 1.0
    assert math.isnan(t["verifying"])


def test_marginal_rate_cancels_the_fixed_cost():
    assert marginal(3.0, 1.0, 4_000_000_000) == 2000.0  # MB/s of the extra bytes
    assert math.isnan(marginal(1.0, 1.0, 10))  # noise ate the difference: no figure


def test_each_ratio_runs_with_its_reference_big_and_small():
    runs = scaling_runs(["/dev/big"], ["/dev/small"], "", ("random",))
    assert sorted(runs) == ["dd-big", "dd-small", "random-big", "random-small"]
    runs = scaling_runs(["/dev/big"], ["/dev/small"], "0", ("zero", "verify"))
    assert set(runs) == {
        f"{k}-{s}" for k in ("zero", "dd", "verify", "read") for s in ("big", "small")
    }
