"""The full offline check against a Buildroot checkout named by $BUILDROOT_DIR (skipped without).

CI has no checkout and cannot download one; run e.g.
    BUILDROOT_DIR=/tmp/buildroot .venv/bin/pytest tests/buildroot -q
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.buildroot.brtree import (
    EXT,
    KNOWN_UPSTREAM_SYMBOLS,
    REPO,
    defconfig_lines,
    tree_symbols,
)

BUILDROOT_DIR = os.environ.get("BUILDROOT_DIR", "")
pytestmark = pytest.mark.skipif(
    not (BUILDROOT_DIR and Path(BUILDROOT_DIR, "utils", "check-package").is_file()),
    reason="set BUILDROOT_DIR to a Buildroot checkout to run buildroot-config/check.sh "
    "(none here: Buildroot is not vendored and CI cannot download it)",
)


def _check(ext: Path) -> subprocess.CompletedProcess:
    r = subprocess.run(
        [ext / "check.sh", BUILDROOT_DIR], capture_output=True, text=True, timeout=600
    )
    print(r.stdout, r.stderr)
    return r


def test_check_passes():
    r = _check(EXT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "== 0 failure(s)" in r.stdout
    assert "MISMATCH" not in r.stdout
    assert "show-info: " in r.stdout


def test_check_catches_a_dropped_symbol(tmp_path):
    """kconfig drops unknown symbols and unmet dependencies silently; the check must not."""
    repo = tmp_path / "repo"
    shutil.copytree(EXT, repo / "buildroot-config", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "requirements.lock", repo)
    defconfig = repo / "buildroot-config/configs/wipestation_x86_64_defconfig"
    text = defconfig.read_text().replace(
        "BR2_PACKAGE_HDPARM=y", "BR2_PACKAGE_HDPARM=y\nBR2_PACKAGE_PYTHON_DOES_NOT_EXIST=y"
    )
    defconfig.write_text(text)
    r = _check(repo / "buildroot-config")
    assert r.returncode != 0
    assert "MISMATCH: BR2_PACKAGE_PYTHON_DOES_NOT_EXIST=y  ->  <absent" in r.stdout


def test_defconfig_upstream_symbols_exist():
    """The defconfig's symbols that are not the tree's own are in the known list and upstream."""
    defined = set()
    for cfg in Path(BUILDROOT_DIR).rglob("Config.in*"):
        if "support/testing" not in cfg.as_posix():
            defined.update(re.findall(r"^\s*(?:menu)?config\s+(BR2_\w+)", cfg.read_text(), re.M))
    upstream = {sym for sym, _ in defconfig_lines()} - tree_symbols()
    assert upstream <= KNOWN_UPSTREAM_SYMBOLS
    assert sorted(upstream - defined) == []


def test_tree_packages_are_not_upstream():
    """A recipe here must not shadow an upstream package of the same name."""
    ours = [p.name for p in (EXT / "package").iterdir() if p.is_dir()]
    clash = [name for name in ours if (Path(BUILDROOT_DIR) / "package" / name).exists()]
    assert clash == []
