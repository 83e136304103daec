"""VM fixtures: the image is built (or brought up to date) once per session with image/build.sh.

Set ``WIPESTATION_BUILD`` to use another build directory, ``ACCEL=kvm`` where KVM works, and
``WIPESTATION_VM_TMP`` to put the machines' work directories somewhere other than /tmp.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.vm.machine import Image

REPO = Path(__file__).resolve().parents[2]


def build_dir() -> Path:
    return Path(os.environ.get("WIPESTATION_BUILD", REPO / "build"))


@pytest.fixture(scope="session")
def image() -> Image:
    """kernel + initrd + USB image, up to date with the working tree (only changes rebuild)."""
    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("qemu-system-x86_64 is not installed (make apt)")
    subprocess.run([str(REPO / "image" / "build.sh"), str(build_dir())], check=True)
    return Image.from_build(build_dir())
