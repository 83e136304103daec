"""TCG Level 0 Discovery from real drives' responses (tests/fixtures/opal/PROVENANCE.md)."""

from __future__ import annotations

import pytest
from wipestation.errors import ToolError, ToolFailedError
from wipestation.tools import opal

from tests.tools.fakes import FakeRunner, done, fixture


def response(name: str) -> bytes:
    return opal.hex_bytes(fixture(f"opal/{name}"))


SATA_MBR = "sedutil-392-sata-opal2-locking-enabled-mbr-shadow-d0.txt"
MX500 = "sedutil-340-crucial-mx500-sata-opal2-locking-enabled-d0.txt"
WD730 = "sedutil-507-wd730-nvme-opal2-locking-not-enabled-d0.txt"
CUT = "nvmetool-win-2-nvme-opal-ready-cut-d0.txt"
LOCKED = "sedutil-300-crucial-m550-sata-locked-d0.txt"


def test_an_opal2_drive_with_locking_enabled_and_mbr_shadowing():
    d = opal.parse_discovery(response(SATA_MBR))
    assert d.ssc == ("Opal 2",)
    assert d.base_comid == 0x07FE
    assert d.locking == opal.Locking(
        supported=True, enabled=True, locked=False, media_encryption=True,
        mbr_enabled=True, mbr_done=True,
    )  # fmt: skip
    assert d.locked is False
    assert d.encrypting is True
    assert 0xC001 in d.features  # a vendor feature is read past, not an error
    assert not d.complete  # sedutil's dump lacks the last 4 bytes: Geometry is cut
    assert d.describe() == (
        "TCG Opal 2: locking supported, enabled, unlocked, media encryption, MBR shadow on"
    )


def test_crucial_mx500_and_a_reverted_wd_nvme():
    mx = opal.parse_discovery(response(MX500))
    assert (mx.primary, mx.base_comid, mx.locking and mx.locking.enabled) == ("Opal 2", 0x888, True)
    wd = opal.parse_discovery(response(WD730))
    assert wd.primary == "Opal 2"
    assert wd.locking is not None
    assert (wd.locking.supported, wd.locking.enabled, wd.locked) == (True, False, False)
    assert wd.to_json()["features"] == [
        "0x0001", "0x0002", "0x0003", "0x0201", "0x0202", "0x0203"
    ]  # fmt: skip


def test_a_real_locked_drive_a_crucial_m550_reads_as_locked():
    """The Locking feature byte 0x0f of a real drive: supported, enabled, LOCKED, encrypting."""
    d = opal.parse_discovery(response(LOCKED))
    assert d.locking == opal.Locking(
        supported=True, enabled=True, locked=True, media_encryption=True,
        mbr_enabled=False, mbr_done=False,
    )  # fmt: skip
    assert (d.locked, d.encrypting) == (True, True)
    assert d.features == (0x0001, 0x0002, 0x0003, 0x0201, 0x0202)
    # sedutil's dump lacks the last 4 bytes, here inside the Opal 2.0 descriptor: the SSC is
    # unknown (not "none"), and the lock that was read is still a lock
    assert (d.ssc, d.base_comid, d.complete) == ((), None, False)
    assert d.describe() == (
        "TCG unknown SSC: locking supported, enabled, LOCKED, media encryption, MBR shadow off"
    )


def test_the_locked_drive_through_the_runner_is_locked():
    argv = opal.build_ata_argv("/dev/sda")
    # the real bytes in sg_raw's own layout, on its stderr (see sg3_utils_layout below)
    runner = FakeRunner({tuple(argv): done(argv, "", stderr=sg3_utils_layout(response(LOCKED)))})
    assert opal.discover_ata("/dev/sda", runner=runner).locked is True


def test_a_response_cut_short_leaves_what_it_did_not_hold_unknown():
    d = opal.parse_discovery(response(CUT))
    assert len(response(CUT)) == 160  # the header announces 164
    assert d.ssc == ()  # the Opal 2.0 descriptor was cut: the SSC is unknown, not "none"
    assert d.base_comid is None
    assert d.locking is not None
    assert d.locking.media_encryption
    assert "unknown SSC" in d.describe()


def test_without_the_locking_feature_locked_is_unknown():
    cut_before_locking = response(WD730)[:0x44]  # the real header and TPer feature only
    d = opal.parse_discovery(cut_before_locking)
    assert (d.locking, d.locked, d.encrypting) == (None, None, None)
    assert d.describe() == "TCG: response cut short: SSC and locking unknown"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "shorter than its 48-byte header"),
        (response(WD730)[:47], "shorter than its 48-byte header"),
        (b"\x00\x00\x00\x10" + bytes(44), "not a discovery length"),
    ],
)
def test_malformed_responses_are_tool_errors(data, words):
    with pytest.raises(ToolError, match=words):
        opal.parse_discovery(data)


def test_a_zero_length_header_is_a_drive_without_tcg():
    d = opal.parse_discovery(bytes(512))
    assert (d.ssc, d.locking, d.locked, d.complete) == ((), None, False, True)


def test_hex_dump_with_a_gap_names_the_line():
    text = fixture(f"opal/{WD730}").replace("0020 ", "0030 ", 1)
    with pytest.raises(ToolError, match="line 3: offset 0030 after 32 bytes"):
        opal.hex_bytes(text)


def test_argv_for_each_interface():
    assert opal.build_nvme_argv("/dev/nvme0") == [
        "nvme", "security-recv", "/dev/nvme0", "--secp=1", "--spsp=1", "--size=2048", "--al=2048"
    ]  # fmt: skip
    scsi = opal.build_scsi_argv("/dev/sdb")
    assert scsi[:5] == ["sg_raw", "-R", "-r", "2048", "/dev/sdb"]
    assert scsi[5:] == ["a2", "01", "00", "01", "00", "00", "00", "00", "08", "00", "00", "00"]
    ata = opal.build_ata_argv("/dev/sda")
    assert ata[5:] == [
        "85", "08", "0e", "00", "01", "00", "01", "00",
        "00", "00", "01", "00", "00", "00", "5c", "00",
    ]  # fmt: skip


def test_through_the_runner_a_non_zero_exit_is_a_tool_failure_not_an_answer():
    argv = opal.build_ata_argv("/dev/sda")
    runner = FakeRunner({tuple(argv): done(argv, "", rc=1)})  # no output: nothing invented
    with pytest.raises(ToolFailedError, match="exit status 1"):
        opal.discover_ata("/dev/sda", runner=runner)


def test_through_the_runner_the_dump_is_parsed():
    argv = opal.build_nvme_argv("/dev/nvme0")
    # a real response's bytes, replayed in sedutil's dump layout (hex_bytes reads every layout)
    runner = FakeRunner({tuple(argv): done(argv, fixture(f"opal/{WD730}"))})
    assert opal.discover_nvme("/dev/nvme0", runner=runner).primary == "Opal 2"


ALL = (SATA_MBR, MX500, WD730, CUT, LOCKED)


def outcome(text: str) -> opal.Discovery | ToolError:
    try:
        return opal.parse_discovery(opal.hex_bytes(text))
    except ToolError as e:
        return e


@pytest.mark.parametrize("name", ALL)
def test_contract_truncated_dumps_are_errors_or_explicit_unknowns(name):
    """Cut after every line: a ToolError, or a Discovery that never reads a lock it lacks."""
    lines = fixture(f"opal/{name}").splitlines()
    for n in range(len(lines)):
        got = outcome("\n".join(lines[:n]))
        if isinstance(got, ToolError):
            continue
        assert got.locking is not None or got.locked is None or got.complete
        assert not got.complete  # a cut response never claims to be whole


@pytest.mark.parametrize("name", ALL)
def test_contract_tabs_and_trailing_text_read_the_same_bytes(name):
    text = fixture(f"opal/{name}")
    tabs = text.replace("  ", "\t")
    trailing = text + "\nEntering DtaDev::isPresent() 1\nDtaDevOS::init /dev/sda 0x1f\n"
    assert opal.hex_bytes(tabs) == opal.hex_bytes(text) == opal.hex_bytes(trailing)


@pytest.mark.parametrize("name", ALL)
def test_contract_quoted_or_marked_up_dumps_are_not_read_as_data(name):
    text = fixture(f"opal/{name}")
    for mangled in (
        "\n".join(f"> {ln}" for ln in text.splitlines()),  # mail/markdown quoting
        "\n".join(f"<code>{ln}</code>" for ln in text.splitlines()),  # markup
        "",
    ):
        got = outcome(mangled)
        assert isinstance(got, ToolError)
        assert "shorter than its 48-byte header" in str(got)


def test_contract_a_garbled_offset_names_its_line():
    text = fixture(f"opal/{MX500}").replace("0050 ", "0500 ", 1)
    got = outcome(text)
    assert isinstance(got, ToolError)
    assert "line 6: offset 0500 after 80 bytes" in str(got)


def nvme_cli_layout(data: bytes) -> str:
    """``d(buf, len, 16, 1)`` of nvme-cli v2.4 (nvme-print.c), after sec_recv's banner."""
    out = "NVME Security Receive Command Success\n     " + "".join(f"{i:3x}" for i in range(16))
    for off in range(0, len(data), 16):
        row = data[off : off + 16]
        text = "".join(chr(b) if 0x21 <= b <= 0x7E else "." for b in row)
        out += f"\n{off:04x}:" + "".join(f" {b:02x}" for b in row) + f' "{text}"'
    return out + "\n"


def sg3_utils_layout(data: bytes) -> str:
    """sg_raw 1.46's stderr: its status lines, then ``hex2stderr(dinp, len, 0)`` (dStrHexFp)."""
    out = f"SCSI Status: Good \n\nReceived {len(data)} bytes of data:\n"
    for off in range(0, len(data), 16):
        row = data[off : off + 16]
        hexes = " ".join(f"{b:02x}" for b in row[:8]) + "  " + " ".join(f"{b:02x}" for b in row[8:])
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in row)
        out += f" {off:02x}     {hexes:<49} {text}\n"
    return out


@pytest.mark.parametrize("name", ALL)
def test_the_tools_own_dump_layouts_read_back_the_same_bytes(name):
    """A real response rendered as nvme-cli and sg_raw print it (per their source), read back."""
    data = response(name)
    assert opal.hex_bytes(nvme_cli_layout(data)) == data
    assert opal.hex_bytes(sg3_utils_layout(data)) == data


def test_sg_raw_prints_its_dump_on_stderr_and_the_runner_reads_it_there():
    argv = opal.build_scsi_argv("/dev/sdb")
    runner = FakeRunner({tuple(argv): done(argv, "", stderr=sg3_utils_layout(response(MX500)))})
    assert opal.discover_scsi("/dev/sdb", runner=runner).base_comid == 0x888
