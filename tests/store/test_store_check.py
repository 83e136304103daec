"""``wipestation store check`` as an operator runs it: the real command against real SeaweedFS."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.store.seaweed import Seaweed, new_seaweed

REPO = Path(__file__).resolve().parents[2]
CHECKS = (
    "config", "reachable", "credentials", "bucket", "write", "conditional create", "checksum",
    "delete", "object lock",
)  # fmt: skip


def store_check(
    tmp_path: Path, endpoint: str, secret: str, bucket: str = "check-floor", **extra: object
) -> tuple[int, str]:
    lines = [
        "[station]",
        f'store = "s3://{bucket}/site-a"',
        f'store_endpoint = "{endpoint}"',
        'store_access_key = "wipestation-test"',
        f'store_secret_key = "{secret}"',
        *(f"{k} = {v!r}" for k, v in extra.items()),
    ]
    cfg = tmp_path / "station.toml"
    cfg.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "PYTHONPATH": str(REPO / "app")}
    argv = [sys.executable, "-m", "wipestation", "store", "check", "--config", str(cfg)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert "Traceback" not in done.stderr + done.stdout
    assert secret not in done.stdout + done.stderr
    return done.returncode, done.stdout


def status(out: str) -> dict[str, str]:
    """check name -> OK/FAIL/SKIP, asserting one line per check in order."""
    rows = [line.split(None, 1) for line in out.splitlines()]
    names = [rest[:18].strip() for _, rest in rows]
    assert names == list(CHECKS), out
    return {name: word for name, (word, _) in zip(names, rows, strict=True)}


@pytest.fixture(scope="module")
def bucket(seaweed: Seaweed) -> None:
    seaweed.make_bucket("check-floor")


def test_good_store_passes_every_check(seaweed: Seaweed, bucket: None, tmp_path: Path) -> None:
    rc, out = store_check(tmp_path, seaweed.endpoint, seaweed.credentials.secret_key)
    assert rc == 0, out
    assert set(status(out).values()) == {"OK"}
    assert "refused (412)" in out
    assert "BadDigest" in out
    assert "not enabled on check-floor" in out
    assert seaweed.client("check-floor").list("site-a/") == ()  # the probes are gone


def test_wrong_secret_fails_at_credentials(seaweed: Seaweed, bucket: None, tmp_path: Path) -> None:
    rc, out = store_check(tmp_path, seaweed.endpoint, "wrong-secret-Q8s")
    assert rc == 1
    st = status(out)
    assert (st["reachable"], st["credentials"], st["write"]) == ("OK", "FAIL", "SKIP")
    assert "SignatureDoesNotMatch" in out
    assert "check store_access_key and store_secret_key" in out


def test_retention_without_object_lock_fails(
    seaweed: Seaweed, bucket: None, tmp_path: Path
) -> None:
    rc, out = store_check(
        tmp_path, seaweed.endpoint, seaweed.credentials.secret_key, store_retention_days=30
    )
    assert rc == 1
    assert status(out)["object lock"] == "FAIL"
    assert "store_retention_days = 30 but bucket check-floor has no Object Lock" in out


def test_retention_with_object_lock_passes(seaweed: Seaweed, tmp_path: Path) -> None:
    seaweed.make_bucket("check-floor-locked", object_lock=True)
    secret = seaweed.credentials.secret_key
    rc, out = store_check(tmp_path, seaweed.endpoint, secret, "check-floor-locked",
                          store_retention_days=30)  # fmt: skip
    assert rc == 0, out
    assert set(status(out).values()) == {"OK"}
    assert "enabled on check-floor-locked; every record is locked (COMPLIANCE) for 30 days" in out
    versions = seaweed.client("check-floor-locked").request("GET", None, query={"versions": ""})
    assert b"wipestation-check" not in versions.body  # the probe's version is gone, not hidden


def test_store_down_fails_at_reachable(tmp_path: Path) -> None:
    server = new_seaweed(tmp_path / "weed")
    server.start()
    server.stop()
    rc, out = store_check(tmp_path, server.endpoint, server.credentials.secret_key)
    assert rc == 1
    st = status(out)
    assert st["config"] == "OK"
    assert st["reachable"] == "FAIL"
    assert all(st[name] == "SKIP" for name in CHECKS[2:])
    assert "unreachable: Connection refused" in out


def test_bad_config_is_one_line_and_exit_1(tmp_path: Path) -> None:
    rc, out = store_check(tmp_path, "ftp://nowhere", "x-secret-x")
    assert rc == 1
    assert out.splitlines()[0].startswith("FAIL  config")
    assert "store_endpoint" in out
    assert len(out.splitlines()) == 1


def test_https_with_the_private_ca_passes(seaweed: Seaweed, bucket: None, tmp_path: Path) -> None:
    secret = seaweed.credentials.secret_key
    rc, out = store_check(tmp_path, seaweed.https_endpoint, secret, store_ca=str(seaweed.ca))
    assert rc == 0, out
    assert set(status(out).values()) == {"OK"}
    rc, out = store_check(tmp_path, seaweed.https_endpoint, secret)
    assert rc == 1
    assert status(out)["reachable"] == "FAIL"
    assert "set store_ca" in out
