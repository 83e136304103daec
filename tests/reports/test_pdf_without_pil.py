"""The image has no Pillow (image/slim.sh): both certificates must render without it.

reportlab imports ``PIL.Image`` when it loads; the image gives it the one-line ``PIL`` package of
image/rootfs-overlay instead (``Image = None``, reportlab's "no PIL" state). This renders a drive
certificate (with its QR code and Code128 barcode) and a lot certificate in a fresh interpreter
that has that package first on its path and cannot import any part of the real Pillow.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STUB_SITE = REPO / "image/rootfs-overlay/opt/wipestation/venv/lib/python3.11/site-packages"

RENDER = r"""
import sys

stub, out = sys.argv[1], sys.argv[2]


class NoPillow:
    '''The real Pillow is not there: any PIL module not from the image's stub fails to import.'''

    def find_spec(self, name, path=None, target=None):
        if name.startswith("PIL.") or name in ("pillow", "_imaging"):
            raise ImportError(f"{name}: Pillow is not in the image")
        return None


sys.meta_path.insert(0, NoPillow())
sys.path.insert(0, stub)

from tests.custody.helpers import record
from wipestation.custody.lot import Lot, reconcile
from wipestation.custody.lot_pdf import render_lot_pdf
from wipestation.custody.lot_record import build_lot_record
from wipestation.custody.manifest import parse_manifest
from wipestation.custody.records import from_record
from wipestation.reports.pdf import render_certificate
from wipestation.reports.sign import Signer

import PIL
import reportlab.lib.utils

assert PIL.__file__.startswith(stub), PIL.__file__
assert reportlab.lib.utils.haveImages is False

signer = Signer.generate()
drives = [record(signer, "NOPIL-0001", asset_tag="TAG-1"), record(signer, "NOPIL-0002")]
open(f"{out}/drive.pdf", "wb").write(render_certificate(drives[0]))
csv = b"serial,asset_tag\nNOPIL-0001,TAG-1\nNOPIL-0002,\nNOPIL-0003,\n"
manifest = parse_manifest(csv, "m.csv")
found = [from_record(r, f"r{i}.json") for i, r in enumerate(drives)]
rec = reconcile(Lot("L-NOPIL", customer="Customer", manifest=manifest), found)
lot = signer.sign(build_lot_record(rec, (signer.fingerprint,)))
open(f"{out}/lot.pdf", "wb").write(render_lot_pdf(lot))
print(sorted(m for m in sys.modules if m.split(".")[0] in ("PIL", "pillow")))
"""


def pdftext(path: Path) -> str:
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return done.stdout.decode()


def test_drive_and_lot_certificates_render_without_pillow(tmp_path: Path) -> None:
    assert (STUB_SITE / "PIL" / "__init__.py").is_file()
    done = subprocess.run(
        [sys.executable, "-c", RENDER, str(STUB_SITE), str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "['PIL']", done.stdout  # the stub, nothing of Pillow
    drive = pdftext(tmp_path / "drive.pdf")
    assert "NOPIL-0001" in drive
    assert "TAG-1" in drive
    lot = pdftext(tmp_path / "lot.pdf")
    assert "INCOMPLETE" in lot
    for serial in ("NOPIL-0001", "NOPIL-0002", "NOPIL-0003"):
        assert serial in lot, serial
