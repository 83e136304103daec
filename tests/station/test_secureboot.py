"""Issue 21: the Secure Boot state is read from the firmware's SecureBoot variable (efivarfs).

The variable's file is 4 attribute bytes (little-endian UEFI attributes; 0x06 = boot service and
runtime access) and the 1-byte value. ``OVMF_ENFORCED`` is the file as read by ``od`` in the
Secure Boot VM test (tests/vm/test_secureboot.py: Debian's OVMF_CODE_4M.secboot.fd with
OVMF_VARS_4M.ms.fd, 2022.11-6+deb12u2); ``OVMF_OFF`` is the same attributes with the value 0,
Secure Boot off (UEFI 2.10, 3.3), not a capture.
"""

from __future__ import annotations

from pathlib import Path

from wipestation.secureboot import VARIABLE, SecureBoot, parse_variable, read_state

OVMF_ENFORCED = bytes.fromhex("0600000001")
OVMF_OFF = bytes.fromhex("0600000000")
#: ``ls /sys/firmware/efi/efivars`` in that VM (shim's MokList*/SbatLevelRT among them).
OVMF_SECBOOT_EFIVARS = """
Boot0000-8be4df61-93ca-11d2-aa0d-00e098032b8c
Boot0001-8be4df61-93ca-11d2-aa0d-00e098032b8c
Boot0002-8be4df61-93ca-11d2-aa0d-00e098032b8c
BootCurrent-8be4df61-93ca-11d2-aa0d-00e098032b8c
BootOptionSupport-8be4df61-93ca-11d2-aa0d-00e098032b8c
BootOrder-8be4df61-93ca-11d2-aa0d-00e098032b8c
ConIn-8be4df61-93ca-11d2-aa0d-00e098032b8c
ConInDev-8be4df61-93ca-11d2-aa0d-00e098032b8c
ConOut-8be4df61-93ca-11d2-aa0d-00e098032b8c
ConOutDev-8be4df61-93ca-11d2-aa0d-00e098032b8c
ErrOut-8be4df61-93ca-11d2-aa0d-00e098032b8c
ErrOutDev-8be4df61-93ca-11d2-aa0d-00e098032b8c
KEK-8be4df61-93ca-11d2-aa0d-00e098032b8c
Key0000-8be4df61-93ca-11d2-aa0d-00e098032b8c
Key0001-8be4df61-93ca-11d2-aa0d-00e098032b8c
Lang-8be4df61-93ca-11d2-aa0d-00e098032b8c
LangCodes-8be4df61-93ca-11d2-aa0d-00e098032b8c
MTC-eb704011-1402-11d3-8e77-00a0c969723b
MokListRT-605dab50-e046-4300-abb6-3dd810dd8b23
MokListTrustedRT-605dab50-e046-4300-abb6-3dd810dd8b23
MokListXRT-605dab50-e046-4300-abb6-3dd810dd8b23
OsIndicationsSupported-8be4df61-93ca-11d2-aa0d-00e098032b8c
PK-8be4df61-93ca-11d2-aa0d-00e098032b8c
PlatformLang-8be4df61-93ca-11d2-aa0d-00e098032b8c
PlatformLangCodes-8be4df61-93ca-11d2-aa0d-00e098032b8c
PlatformRecovery0000-8be4df61-93ca-11d2-aa0d-00e098032b8c
SbatLevelRT-605dab50-e046-4300-abb6-3dd810dd8b23
SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c
SetupMode-8be4df61-93ca-11d2-aa0d-00e098032b8c
SignatureSupport-8be4df61-93ca-11d2-aa0d-00e098032b8c
Timeout-8be4df61-93ca-11d2-aa0d-00e098032b8c
VMMBootOrder0000-668f4529-63d0-4bb5-b65d-6fbb9d36a44a
VarErrorFlag-04b37fe8-f6ae-480b-bdd5-37d98c5e89aa
VendorKeys-8be4df61-93ca-11d2-aa0d-00e098032b8c
certdb-d9bee56e-75dc-49d9-b4d7-b534210f637a
certdbv-d9bee56e-75dc-49d9-b4d7-b534210f637a
db-d719b2cb-3d3a-4596-a3bc-dad00e67656f
dbx-d719b2cb-3d3a-4596-a3bc-dad00e67656f
""".splitlines()


def efi_tree(tmp_path: Path, variables: dict[str, bytes]) -> Path:
    """A /sys/firmware/efi look-alike with an efivarfs holding ``variables``."""
    efi = tmp_path / "efi"
    (efi / "efivars").mkdir(parents=True)
    for name, data in variables.items():
        (efi / "efivars" / name).write_bytes(data)
    return efi


def test_the_variable_is_named_as_the_firmware_names_it() -> None:
    """EFI_GLOBAL_VARIABLE's GUID, as efivarfs lists it (a wrong GUID reads as 'no Secure
    Boot support' on every machine)."""
    assert VARIABLE in OVMF_SECBOOT_EFIVARS


def test_enforced_and_off_from_the_variable_bytes() -> None:
    assert parse_variable(OVMF_ENFORCED) == SecureBoot(True, "firmware variable SecureBoot=1")
    assert parse_variable(OVMF_OFF) == SecureBoot(False, "firmware variable SecureBoot=0")


def test_malformed_variable_is_unknown_and_named() -> None:
    for data in (b"", b"\x06\x00\x00\x00", b"\x06\x00\x00\x00\x02", OVMF_ENFORCED + b"\x00"):
        state = parse_variable(data)
        assert state.enforced is None
        assert (data.hex() or "empty") in state.detail


def test_read_from_efivarfs(tmp_path: Path) -> None:
    other = {"BootOrder-8be4df61-93ca-11d2-aa0d-00e098032b8c": b"\x07\x00\x00\x00\x01\x00"}
    efi = efi_tree(tmp_path, {VARIABLE: OVMF_ENFORCED, **other})
    assert read_state(efi).enforced is True
    (efi / "efivars" / VARIABLE).write_bytes(OVMF_OFF)
    assert read_state(efi).enforced is False


def test_no_efi_directory_means_a_bios_boot(tmp_path: Path) -> None:
    state = read_state(tmp_path / "no-such-efi")
    assert state.enforced is False
    assert "booted by BIOS" in state.detail


def test_uefi_without_secure_boot_support(tmp_path: Path) -> None:
    """Variables readable, no SecureBoot among them: the firmware does not do Secure Boot."""
    efi = efi_tree(tmp_path, {"BootOrder-8be4df61-93ca-11d2-aa0d-00e098032b8c": b"\x07\0\0\0\1\0"})
    state = read_state(efi)
    assert state.enforced is False
    assert "no SecureBoot variable" in state.detail


def test_efivarfs_not_mounted_is_unknown(tmp_path: Path) -> None:
    efi = efi_tree(tmp_path, {})
    assert read_state(efi).enforced is None
    (efi / "efivars").rmdir()
    assert read_state(efi).enforced is None


def test_unreadable_variable_is_unknown(tmp_path: Path) -> None:
    efi = efi_tree(tmp_path, {})
    (efi / "efivars" / VARIABLE).mkdir()  # reading it fails (EISDIR), as an I/O error would
    state = read_state(efi)
    assert state.enforced is None
    assert state.detail.startswith("cannot read the SecureBoot variable")


def test_json_and_description() -> None:
    on = parse_variable(OVMF_ENFORCED)
    assert on.to_json() == {"secure_boot": True, "detail": "firmware variable SecureBoot=1"}
    assert on.describe() == "Secure Boot enforced (firmware variable SecureBoot=1)"
    assert SecureBoot(None, "x").to_json()["secure_boot"] is None
