"""``wipestation station identity``: the station's public key, for enrolment at the office.

Prints the public key (PEM), its fingerprint and how the key is protected (``tpm`` or
``file``), and with ``--out DIR`` writes the signed identity file (``wipestation.identity/1``)
there. The key is the one the station signs records with (``reports/keystore.py``): in its
TPM, else on its boot stick; ``--key-dir`` names a key directory instead (as ``wipe
--key-dir``). It is created on first use, so enrolling before the first wipe works.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from wipestation import config, paths
from wipestation.reports.keystore import KeyHome, StationKey, station_key_home
from wipestation.tools import tpm2


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``station identity`` (added to the ``station`` command)."""
    p.add_argument("--out", metavar="DIR", help="write the signed identity file into DIR")
    p.add_argument("--key-dir", metavar="DIR", help="the key directory (default: the station's)")
    p.add_argument("--station-id", metavar="NAME", help="station name (default: configuration)")


def run(args: argparse.Namespace) -> int:
    from wipestation.reports.identity import write_identity  # OpenSSL: only when it runs
    from wipestation.reports.sign import pem_of

    station_id = args.station_id or config.load(toml_paths=paths.CONFIG_LAYERS).station
    home = (
        KeyHome.directory(args.key_dir, tpm2.station_tcti()) if args.key_dir else station_key_home()
    )
    with StationKey(home, station_id).session() as key:
        signer = key.signer
        written = write_identity(Path(args.out), signer, station_id) if args.out else None
    print(f"station:        {station_id}")
    print(f"fingerprint:    {signer.fingerprint}")
    print(f"key protection: {signer.protection} ({signer.algorithm})")
    print(f"key home:       {home.description}")
    print(pem_of(signer.algorithm, signer.public_raw).decode("ascii"), end="")
    if written:
        print(f"identity file:  {written}")
    return 0
