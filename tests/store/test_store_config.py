"""Store settings in the station config: typed, checked, and the secret kept out of sight."""

from __future__ import annotations

from pathlib import Path

import pytest
from wipestation import config
from wipestation.errors import ConfigError
from wipestation.reports.store import StoreLocation, record_key

GOOD = """
[station]
store = "s3://floor-records/site-a/"
store_endpoint = "https://s3.floor.example:9000/"
store_region = "eu-central-1"
store_access_key = "AKFLOOR"
store_secret_key = "s3cr3t-Xy7"
store_ca = "floor-ca.pem"
store_required = true
store_retention_days = 30
"""


def load(tmp_path: Path, toml: str, cmdline: str = "") -> config.StationConfig:
    (tmp_path / "station.toml").write_text(toml)
    (tmp_path / "cmdline").write_text(cmdline + "\n")
    return config.load(tmp_path / "cmdline", (tmp_path / "station.toml",))


def test_store_settings_are_typed(tmp_path: Path) -> None:
    cfg = load(tmp_path, GOOD)
    assert cfg.errors == ()
    s = config.store_settings(cfg)
    assert s is not None
    assert (s.location.bucket, s.location.prefix) == ("floor-records", "site-a")
    assert (s.endpoint, s.region) == ("https://s3.floor.example:9000", "eu-central-1")
    assert s.credentials.access_key == "AKFLOOR"
    assert s.credentials.secret_key == "s3cr3t-Xy7"
    assert s.ca == "/run/wipestation/floor-ca.pem"  # relative: the boot stick's copy
    assert (s.required, s.retention_days) == (True, 30)


def test_the_secret_is_in_no_repr(tmp_path: Path) -> None:
    cfg = load(tmp_path, GOOD)
    settings = config.store_settings(cfg)
    assert settings is not None
    for text in (repr(cfg), repr(settings), repr(settings.credentials), repr(settings.client())):
        assert "s3cr3t-Xy7" not in text


def test_no_store_is_none(tmp_path: Path) -> None:
    assert config.store_settings(load(tmp_path, "[station]\n")) is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('store = "floor/site-a"', "store: expected s3://BUCKET/PREFIX"),
        ('store = "s3://Floor_Records"', "is not an S3 bucket name"),
        ('store = "s3://floor/a/../b"', "has a '.' or '..' part"),
        ('store_endpoint = "ftp://host"', "store_endpoint: expected http(s)://HOST[:PORT]"),
        ('store_endpoint = "http://host/floor"', "the bucket goes in store"),
        ('store_region = "EU Central"', "store_region: expected a region name"),
        ("store_retention_days = -1", "store_retention_days: expected a whole number"),
        ('store_retention_days = "ten"', "store_retention_days: expected a whole number"),
        ('store_required = "maybe"', "store_required: expected yes/no"),
    ],
)
def test_malformed_values_are_clear_config_errors(tmp_path: Path, line: str, reason: str) -> None:
    cfg = load(tmp_path, f"[station]\n{line}\n")
    assert any(reason in e and "station.toml" in e for e in cfg.errors), cfg.errors


def test_an_endpoint_with_credentials_in_it_is_refused_without_echoing_them(
    tmp_path: Path,
) -> None:
    cfg = load(tmp_path, '[station]\nstore_endpoint = "ftp://AK:hunter2@host"\n')
    assert cfg.store_endpoint == ""
    assert cfg.errors
    assert not any("hunter2" in e for e in cfg.errors)


def test_missing_pieces_are_named(tmp_path: Path) -> None:
    cfg = load(tmp_path, '[station]\nstore = "s3://floor"\nstore_access_key = "AK"\n')
    assert "station config: store_endpoint: needed by store" in cfg.errors
    assert any("needs store_access_key and store_secret_key" in e for e in cfg.errors)
    with pytest.raises(ConfigError, match="store_endpoint"):
        config.store_settings(cfg)


def test_the_secret_is_refused_on_the_kernel_command_line(tmp_path: Path) -> None:
    cfg = load(tmp_path, "[station]\n", "quiet wipestation.store_secret_key=s3cr3t-Xy7")
    assert cfg.store_secret_key == ""
    assert any("store_secret_key: every process can read it" in e for e in cfg.errors)
    assert not any("s3cr3t-Xy7" in e for e in cfg.errors)


def test_credentials_file(tmp_path: Path) -> None:
    creds = tmp_path / "floor.credentials"
    creds.write_text("[default]\naws_access_key_id = AKFILE\naws_secret_access_key = fromfile\n")
    toml = '[station]\nstore = "s3://floor"\nstore_endpoint = "http://127.0.0.1:9"\n'
    cfg = load(tmp_path, toml + f'store_credentials_file = "{creds}"\n')
    s = config.store_settings(cfg)
    assert s is not None
    assert (s.credentials.access_key, s.credentials.secret_key) == (
        "AKFILE",
        "fromfile",
    )
    creds.write_text("[default]\naws_access_key_id = AKFILE\n")
    with pytest.raises(ConfigError, match="needs aws_access_key_id and aws_secret_access_key"):
        config.store_settings(cfg)
    both = load(tmp_path, toml + f'store_credentials_file = "{creds}"\nstore_access_key = "A"\n')
    assert any("store_credentials_file: or the two keys, not both" in e for e in both.errors)


def test_record_keys_derive_from_the_content() -> None:
    loc = StoreLocation.parse("s3://floor/site-a")
    sha = "ab" * 32
    assert record_key(loc, "LOT-7", "S3Z9NX0M123", sha, "json") == (
        f"site-a/records/LOT-7/S3Z9NX0M123/{sha}.json"
    )
    assert record_key(loc, "", "S3Z9NX0M123", sha, "pdf").startswith("site-a/records/no-lot/")
    hostile = record_key(StoreLocation.parse("s3://floor"), "a/../b", "../x y", sha, "pdf")
    assert hostile.startswith("records/")
    assert "/../" not in hostile
    assert " " not in hostile
    with pytest.raises(ValueError, match="not a record's sha256"):
        record_key(loc, "", "S1", "not-a-hash", "json")
