"""tools/mmc.py: EXT_CSD dumps of real eMMCs, real SD registers, and the real ``mmc`` binary on a
loop device (tests/fixtures/mmc/PROVENANCE.md says whose each capture is)."""

from __future__ import annotations

import pytest
from wipestation.errors import ToolError, ToolFailedError, UnsupportedError
from wipestation.tools import mmc

from tests.tools.fakes import FakeRunner, done, fixture
from tests.tools.test_parser_contract import _check, text_variants

SAMSUNG = "mmc/emmc-samsung-mmc51-extcsd.txt"
BREDOS = "mmc/emmc-bredos-mmc51-extcsd.txt"
SEC_LINE = "Secure Feature support [SEC_FEATURE_SUPPORT: 0x55]"


def test_extcsd_of_a_samsung_emmc_51_reports_every_secure_feature():
    e = mmc.parse_extcsd(fixture(SAMSUNG))
    assert (e.rev, e.spec) == (8, "5.1")
    assert e.sec is not None
    assert e.sec.raw == 0x55
    assert e.sec.sanitize
    assert e.sec.er_en
    assert e.sec.gb_cl_en
    assert e.sec.bd_blk_en
    assert e.sec_count == 0x00E90000
    assert e.user_bytes == 0x00E90000 * 512
    assert e.erase_group_bytes == 512 * 1024  # ERASE_GROUP_DEF 1, HC_ERASE_GRP_SIZE 1
    assert e.boot_bytes == 4 * 1024 * 1024
    assert e.rpmb_bytes == 512 * 1024
    assert e.partition_config == 0x08
    assert e.erased_mem_cont == 0


def test_extcsd_with_the_authors_ellipsis_still_reads_its_fields():
    e = mmc.parse_extcsd(fixture(BREDOS))
    assert e.sec_count == 0x1D200000
    assert e.rpmb_bytes == 0x20 * 128 * 1024
    assert e.partition_config == 0
    assert e.block_addressed


def test_extcsd_cut_off_before_the_erase_fields_leaves_them_unknown():
    text = fixture(SAMSUNG).split("Boot configuration bytes", 1)[0]
    e = mmc.parse_extcsd(text)
    assert e.sec is not None  # printed before the cut
    assert e.erase_group_def is None
    assert e.rpmb_size_mult is None
    assert e.erase_group_bytes is None


@pytest.mark.parametrize(
    "mangled",
    [
        SEC_LINE.replace("0x55", "0x5"),  # truncated value
        SEC_LINE.replace("0x55", "0xZZ"),  # not hex
        SEC_LINE + "  <-----here",  # trailing text (as a linux-mmc poster annotated a dump)
        SEC_LINE.replace(" [", "\t["),  # tabs
        "<b>" + SEC_LINE + "</b>",  # markup
        SEC_LINE.replace("0x55", "'0x55'"),  # quoting
        SEC_LINE.replace("0x55", ""),  # empty field
    ],
)
def test_an_unreadable_sec_feature_line_is_a_tool_error_naming_the_line(mangled):
    text = fixture(SAMSUNG).replace(SEC_LINE, mangled)
    with pytest.raises(ToolError, match="SEC_FEATURE_SUPPORT"):
        mmc.parse_extcsd(text)


def test_a_repeated_field_is_a_tool_error_not_the_first_value():
    text = fixture(SAMSUNG).replace(SEC_LINE, SEC_LINE + "\n" + SEC_LINE.replace("55", "00"))
    with pytest.raises(ToolError, match="printed 2 times"):
        mmc.parse_extcsd(text)


@pytest.mark.parametrize("text", ["", "ioctl: Invalid argument\n", "Card Supported Command sets"])
def test_output_without_the_header_is_a_tool_error(text):
    with pytest.raises(ToolError, match="Extended CSD rev"):
        mmc.parse_extcsd(text)


def test_a_missing_sec_feature_line_is_unknown_not_unsupported():
    text = fixture(SAMSUNG).replace(SEC_LINE + "\n", "")
    assert mmc.parse_extcsd(text).sec is None


def test_sec_feature_bits_are_read_one_by_one():
    # No public dump of an eMMC without SEC_SANITIZE was found: this edits the one byte.
    e = mmc.parse_extcsd(fixture(SAMSUNG).replace(SEC_LINE, SEC_LINE.replace("55", "15")))
    assert e.sec is not None
    assert not e.sec.sanitize
    assert e.sec.er_en
    assert e.sec.gb_cl_en


def test_sd_csd_and_scr_of_a_sandisk_sdhc_card():
    csd = mmc.parse_csd(fixture("mmc/sd-sandisk-sa04g-sdhc-csd.txt"))
    scr = mmc.parse_scr(fixture("mmc/sd-sandisk-sa04g-sdhc-scr.txt"))
    assert csd.structure == 1
    assert csd.ccc == 0x5B5
    assert csd.erase_class
    assert csd.erase_blk_en
    assert (scr.sd_spec, scr.data_stat_after_erase, scr.sd_security) == (2, 0, 3)


def test_sd_csd_of_a_transcend_sdsc_card_is_version_1():
    assert mmc.parse_csd(fixture("mmc/sd-transcend-usd-sdsc-csd.txt")).structure == 0
    assert mmc.parse_scr(fixture("mmc/sd-transcend-usd-sdsc-scr.txt")).sd_security == 2


@pytest.mark.parametrize("raw", ["", "400e00325b59", "400e00325b5900001d177f800a400000ff", "zz"])
def test_a_register_that_is_not_its_width_in_hex_is_a_tool_error(raw):
    with pytest.raises(ToolError, match="csd"):
        mmc.parse_csd(raw)


def _sysfs(tmp_path, name, files, siblings=()):
    dev = tmp_path / name / "device"
    dev.mkdir(parents=True)
    for k, v in files.items():
        (dev / k).write_text(v + "\n")
    for s in siblings:
        (tmp_path / s).mkdir()
    return str(tmp_path)


def test_card_reads_an_sd_cards_registers_from_sysfs(tmp_path):
    sys_block = _sysfs(
        tmp_path,
        "mmcblk0",
        {
            "type": "SD",
            "csd": fixture("mmc/sd-sandisk-sa04g-sdhc-csd.txt").strip(),
            "scr": fixture("mmc/sd-sandisk-sa04g-sdhc-scr.txt").strip(),
        },
    )
    c = mmc.card("mmcblk0", sys_block)
    assert c.type == "SD"
    assert not c.emmc
    assert c.csd
    assert c.csd.structure == 1
    assert c.scr
    assert c.boot_partitions == ()
    assert c.rpmb == ""


def test_card_lists_an_emmcs_boot_partitions_and_rpmb(tmp_path):
    siblings = ("mmcblk0boot0", "mmcblk0boot1", "mmcblk0rpmb", "mmcblk0p1", "mmcblk10boot0")
    sys_block = _sysfs(tmp_path, "mmcblk0", {"type": "MMC"}, siblings)
    c = mmc.card("mmcblk0", sys_block)
    assert c.emmc
    assert c.csd is None
    assert c.boot_partitions == ("/dev/mmcblk0boot0", "/dev/mmcblk0boot1")
    assert c.rpmb == "/dev/mmcblk0rpmb"


def test_card_without_a_type_file_is_unknown(tmp_path):
    assert mmc.card("mmcblk0", _sysfs(tmp_path, "mmcblk0", {})).type == ""


def test_force_ro_is_read_and_written_through_sysfs(tmp_path):
    (tmp_path / "mmcblk0boot0").mkdir()
    (tmp_path / "mmcblk0boot0" / "force_ro").write_text("1\n")
    assert mmc.read_force_ro("/dev/mmcblk0boot0", str(tmp_path)) is True
    mmc.write_force_ro("/dev/mmcblk0boot0", False, str(tmp_path))
    assert mmc.read_force_ro("/dev/mmcblk0boot0", str(tmp_path)) is False
    (tmp_path / "mmcblk0boot0" / "force_ro").write_text("yes\n")
    assert mmc.read_force_ro("/dev/mmcblk0boot0", str(tmp_path)) is None


def test_erase_argv_is_mmc_utils_syntax():
    argv = mmc.build_erase_argv("/dev/mmcblk0", mmc.EraseKind.SECURE_TRIM1, 0, 1023)
    assert argv == ["mmc", "erase", "secure-trim1", "0", "1023", "/dev/mmcblk0"]


# ---- the real mmc binary (Debian mmc-utils) on a loop device: no MMC ioctls there ----------


def test_real_mmc_extcsd_read_on_a_loop_device_is_a_tool_error(make_loop):
    with pytest.raises(ToolFailedError, match="Could not read EXT_CSD"):
        mmc.extcsd(make_loop(size=1024 * 1024))


def test_real_mmc_sanitize_on_a_loop_device_is_a_tool_error(make_loop):
    with pytest.raises(ToolFailedError, match=r"EXT_CSD\[165\]"):
        mmc.sanitize(make_loop(size=1024 * 1024))


@pytest.mark.parametrize("kind", [mmc.EraseKind.SECURE_ERASE, mmc.EraseKind.DISCARD])
def test_real_mmc_erase_on_a_loop_device_is_a_tool_error(make_loop, kind):
    with pytest.raises(ToolFailedError, match="not done"):
        mmc.erase(make_loop(size=1024 * 1024), kind, 0, 2047)


# A real `mmc erase secure-erase` run (PROVENANCE.md): a newer mmc-utils prints the card's erase
# geometry between its Executing and Succeed! lines.
SECURE_ERASE_RUN = fixture("mmc/emmc-loehle-write-protected-mmc-erase-secure-erase.txt")
WHOLE = ("/dev/mmcblk2", mmc.EraseKind.SECURE_ERASE, 0, 0x0773FFFF)


def test_a_real_secure_erase_run_is_accepted_by_its_status_and_its_words():
    """The card's write-protect groups were all set, so nothing was erased, yet mmc-utils said
    ``Secure Erase Succeed!`` (its author's point): the words are necessary, never proof; the
    station verifies after every firmware erase."""
    argv = mmc.build_erase_argv(*WHOLE)
    assert argv == ["mmc", "erase", "secure-erase", "0", "125042687", "/dev/mmcblk2"]
    fake = FakeRunner({tuple(argv): done(argv, SECURE_ERASE_RUN)})
    assert mmc.erase(*WHOLE, runner=fake).stdout == SECURE_ERASE_RUN


def test_erase_that_exits_0_without_its_success_words_is_not_trusted():
    """The real run cut before its last line (as a killed or hung mmc leaves it)."""
    cut = SECURE_ERASE_RUN.rsplit(" Secure Erase Succeed!", 1)[0]
    assert cut.startswith("Executing Secure Erase from 0x00000000 to 0x0773ffff")
    argv = mmc.build_erase_argv(*WHOLE)
    fake = FakeRunner({tuple(argv): done(argv, cut)})
    with pytest.raises(ToolFailedError, match="Secure Erase not done"):
        mmc.erase(*WHOLE, runner=fake)


def test_a_real_run_with_a_non_zero_exit_is_a_failure_despite_its_words():
    argv = mmc.build_erase_argv(*WHOLE)
    fake = FakeRunner({tuple(argv): done(argv, SECURE_ERASE_RUN, rc=1)})  # exit status changed
    with pytest.raises(ToolFailedError, match="Secure Erase not done"):
        mmc.erase(*WHOLE, runner=fake)


def test_erase_the_card_does_not_support_is_unsupported():
    """Built from mmc-utils' source: no real capture of this refusal was found (PROVENANCE.md)."""
    # mmc-utils' own refusal line (mmc_cmds.c: "%s is not supported in %s"), exit status -ENOTSUP
    argv = mmc.build_erase_argv("/dev/mmcblk0", mmc.EraseKind.SECURE_TRIM1, 0, 1023)
    out = "Secure Trim Step 1 is not supported in /dev/mmcblk0\n"
    fake = FakeRunner({tuple(argv): done(argv, " Secure Trim Step 1 Failed!\n", 161, out)})
    with pytest.raises(UnsupportedError, match="Secure Trim Step 1"):
        mmc.erase("/dev/mmcblk0", mmc.EraseKind.SECURE_TRIM1, 0, 1023, runner=fake)


# ---- the parser contract (tests/tools/test_parser_contract.py's variants of real captures) ----


def extcsd_grants(r: mmc.ExtCsd) -> dict[str, bool]:
    sec = r.sec
    return {
        "sanitize": bool(sec and sec.sanitize),
        "secure erase": bool(sec and sec.er_en),
        "secure trim": bool(sec and sec.er_en and sec.gb_cl_en),
        "block addressed": r.block_addressed,
        f"rev {r.rev} {r.spec}": True,
        f"{r.sec_count} sectors": r.sec_count is not None,
        f"erase group {r.erase_group_bytes}": r.erase_group_bytes is not None,
        f"boot {r.boot_bytes}": r.boot_bytes is not None,
        f"rpmb {r.rpmb_bytes}": r.rpmb_bytes is not None,
    }


def csd_grants(r: mmc.SdCsd) -> dict[str, bool]:
    return {"erase class": r.erase_class, f"CSD {r.structure}": True, "blk": r.erase_blk_en}


def scr_grants(r: mmc.SdScr) -> dict[str, bool]:
    return {f"{r.sd_spec}/{r.data_stat_after_erase}/{r.sd_security}": True}


@pytest.mark.parametrize("name", [SAMSUNG, BREDOS])
def test_damaged_real_extcsd_dumps_fail_closed(name):
    text = fixture(name)
    clean = extcsd_grants(mmc.parse_extcsd(text))
    variants = list(text_variants(text))
    assert len(variants) > 100
    for kind, variant in variants:
        _check(mmc.parse_extcsd, extcsd_grants, clean, variant, f"{name} [{kind}]")


@pytest.mark.parametrize(
    ("parse", "grants", "name"),
    [
        (mmc.parse_csd, csd_grants, "mmc/sd-sandisk-sa04g-sdhc-csd.txt"),
        (mmc.parse_csd, csd_grants, "mmc/sd-transcend-usd-sdsc-csd.txt"),
        (mmc.parse_scr, scr_grants, "mmc/sd-sandisk-sa04g-sdhc-scr.txt"),
        (mmc.parse_scr, scr_grants, "mmc/sd-transcend-usd-sdsc-scr.txt"),
    ],
)
def test_damaged_real_sd_registers_fail_closed(parse, grants, name):
    text = fixture(name)
    clean = grants(parse(text))
    for kind, variant in text_variants(text):
        _check(parse, grants, clean, variant, f"{name} [{kind}]")
