"""The station's count of ATA password attempts per drive since boot (steps/attempts.py): per
identity, thread- and process-safe through its file in /run, reset only by an observed power
cycle, and words that never claim more than the station knows."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from wipestation import paths
from wipestation.steps import attempts
from wipestation.steps.attempts import ALLOWED, AttemptLog, Tally

REPO = Path(__file__).resolve().parents[2]


def test_attempts_are_counted_per_drive_identity(tmp_path: Path) -> None:
    log = AttemptLog(tmp_path / "attempts.json")
    assert log.tally("S1") == Tally(0, False, attempts.SINCE_BOOT)
    assert log.observe("S1", False) == Tally()
    assert not (tmp_path / "attempts.json").exists()  # planning reads: no file until an attempt
    assert [log.add("S1").made for _ in range(3)] == [1, 2, 3]
    assert log.add("WWN-500a07510902b401").made == 1
    assert log.tally("S1").made == 3
    assert log.tally("S1").at_most_left == 2


def test_parallel_jobs_lose_no_attempt(tmp_path: Path) -> None:
    log = AttemptLog(tmp_path / "attempts.json")

    def worker(identity: str) -> None:
        for _ in range(25):
            log.add(identity)

    threads = [threading.Thread(target=worker, args=(f"D{i % 2}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (log.tally("D0").made, log.tally("D1").made) == (100, 100)


def test_another_process_counts_into_the_same_boot_file(tmp_path: Path) -> None:
    """A restarted station or ``wipestation wipe`` in another shell sees the same count."""
    path = tmp_path / "attempts.json"
    AttemptLog(path).add("S1")
    code = (
        "import sys; from pathlib import Path; from wipestation.steps.attempts import AttemptLog;"
        "print(AttemptLog(Path(sys.argv[1])).add('S1').made)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "app")}
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "2"
    assert AttemptLog(path).tally("S1").made == 2


def test_only_an_observed_power_cycle_starts_the_count_again(tmp_path: Path) -> None:
    log = AttemptLog(tmp_path / "attempts.json")
    for _ in range(2):
        log.add("S1")
    assert log.observe("S1", False).made == 2  # not expired, never seen expired: no reset
    assert log.observe("S1", None).made == 2  # unreadable: nothing learnt
    assert log.observe("S1", True) == Tally(2, True)
    assert log.observe("S1", None) == Tally(2, True)
    assert log.observe("S1", False) == Tally(0, False)  # EXPIRE cleared: power-cycled since


def test_an_unusable_file_counts_in_memory_and_says_since_when(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    log = AttemptLog(tmp_path / "file" / "attempts.json")  # its directory cannot be made
    assert log.add("S1") == Tally(1, False, attempts.SINCE_START)
    assert log.add("S1").made == 2
    assert log.scope == attempts.SINCE_START


@pytest.mark.parametrize("text", ['["S1"]', '{"S1": 3}', '{"S1": ["3", false]}', "{"])
def test_a_mangled_file_is_not_read_as_a_count(tmp_path: Path, text: str) -> None:
    path = tmp_path / "attempts.json"
    path.write_text(text)
    assert AttemptLog(path).add("S1") == Tally(1, False, attempts.SINCE_START)
    assert path.read_text() == text  # left as found


def test_the_station_log_lives_in_this_boots_run_dir(monkeypatch, tmp_path: Path) -> None:
    assert attempts.DEFAULT_PATH.parent == paths.RUN_DIR
    monkeypatch.setenv(attempts.PATH_ENV, str(tmp_path / "a.json"))
    assert attempts.station_log() is attempts.station_log()
    attempts.station_log().add("S1")
    assert (tmp_path / "a.json").read_text() == '{"S1": [1, false]}'


@pytest.mark.parametrize(
    ("made", "words"),
    [
        (
            1,
            "attempt 1 by this station since boot; the drive allows 5 per power cycle, so at "
            "most 4 remain — after that it needs a power cycle",
        ),
        (
            4,
            "attempt 4 by this station since boot; the drive allows 5 per power cycle, so at "
            "most 1 remains — after that it needs a power cycle",
        ),
        (
            5,
            "attempt 5 by this station since boot; the drive allows 5 per power cycle and does "
            "not report them used up, so it was power-cycled or reset since: how many remain is "
            "unknown (at most 5)",
        ),
    ],
)
def test_after_a_refusal_the_words_say_at_most(made: int, words: str) -> None:
    assert attempts.after_refusal(Tally(made), False) == words


def test_after_a_refusal_an_expired_drive_needs_a_power_cycle() -> None:
    assert attempts.after_refusal(Tally(2), True) == (
        "attempt 2 by this station since boot; expired: the drive refuses further attempts "
        "until it is power-cycled"
    )
    assert "EXPIRE bit could not be read; the drive allows 5" in attempts.after_refusal(
        Tally(2), None
    )
    assert attempts.after_refusal(Tally(5), None) == (
        "attempt 5 by this station since boot; the drive's EXPIRE bit could not be read; the "
        "drive allows 5 per power cycle: none may remain (power-cycle it)"
    )


def test_before_an_attempt_the_fifth_is_a_warning() -> None:
    assert attempts.before_attempt(Tally(0)) == ""
    three = attempts.before_attempt(Tally(3))
    assert three.startswith("3 password attempts by this station since boot; ")
    assert "at most 2 remain" in three
    assert "by other software are unknown" in three
    fifth = attempts.before_attempt(Tally(ALLOWED - 1))
    assert fifth.startswith("warning: 4 password attempts by this station since boot; ")
    assert "this is attempt 5, the last of the 5 the drive allows per power cycle" in fifth
    assert "refuses every further attempt until it is power-cycled" in fifth
