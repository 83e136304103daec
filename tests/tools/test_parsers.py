"""Tool wrappers against real captured output (tests/fixtures/<tool>/PROVENANCE.md says whose)."""

from __future__ import annotations

import json

import pytest
from wipestation.errors import ToolError, ToolFailedError, UnsupportedError
from wipestation.tools import blkdev, hdparm, nvme, sg, smartctl

from tests.tools.fakes import FakeRunner, done, fixture

# ---- hdparm -----------------------------------------------------------------------------------


def test_hdparm_intel_540s_is_frozen_with_enhanced_erase_and_no_sanitize():
    ident = hdparm.parse_identify(fixture("hdparm/sata-ssd-intel-540s-ssdsc2kw512g8-frozen.txt"))
    assert ident is not None
    assert (ident.model, ident.rotational, ident.sectors) == (
        "INTEL SSDSC2KW512G8",
        False,
        1000215216,
    )
    sec = ident.security
    assert sec is not None
    assert (sec.supported, sec.enabled, sec.locked, sec.frozen) == (True, False, False, True)
    assert sec.enhanced_supported
    assert (sec.erase_minutes, sec.enhanced_erase_minutes) == (2, 2)
    assert not ident.sanitize_supported
    assert ident.trim
    assert ident.trim_zeroes


def test_hdparm_micron_5300_lists_every_sanitize_mode():
    ident = hdparm.parse_identify(fixture("hdparm/sata-ssd-micron-5300-frozen-sanitize-all.txt"))
    assert ident is not None
    assert ident.serial == "214031A57D1D"
    assert ident.sanitize_supported
    assert (ident.sanitize_crypto, ident.sanitize_block, ident.sanitize_overwrite) == (True,) * 3
    assert ident.security is not None
    assert ident.security.frozen


def test_hdparm_skhynix_with_spaces_not_frozen_no_overwrite():
    text = fixture(
        "hdparm/sata-ssd-skhynix-hfs128g39tnd-not-frozen-sanitize-crypto-block-spaces.txt"
    )
    ident = hdparm.parse_identify(text)
    assert ident is not None
    assert ident.model == "HFS128G39TND-N210A"
    assert ident.security is not None
    assert not ident.security.frozen
    assert ident.sanitize_crypto
    assert ident.sanitize_block
    assert not ident.sanitize_overwrite


LOCKED_M4 = "hdparm/sata-ssd-crucial-m4-locked-expired-empty-serial.txt"


def test_hdparm_locked_m4_empty_serial_stays_empty():
    """The real locked drive prints ``Serial Number:`` with nothing after it."""
    ident = hdparm.parse_identify(fixture(LOCKED_M4))
    assert ident is not None
    assert (ident.model, ident.serial, ident.firmware) == ("M4-CT128M4SSD2", "", "")
    assert ident.sectors == 250069680


def test_hdparm_locked_m4_security_is_locked_and_count_expired():
    ident = hdparm.parse_identify(fixture(LOCKED_M4))
    assert ident is not None
    sec = ident.security
    assert sec is not None
    assert (sec.supported, sec.enabled, sec.locked, sec.frozen) == (True, True, True, False)
    assert sec.count_expired is True
    assert sec.unknown == ()


@pytest.mark.parametrize(
    ("line", "mangled"),
    [
        ("\tnot\tfrozen\n", "\tnot\tfrozen (by BIOS)\n"),
        ("\tnot\tfrozen\n", "\tnot\tfr0zen\n"),
        ("\tnot\tfrozen\n", ""),
        ("\tnot\tfrozen\n", "\tnot\tfrozen\n\t\tfrozen\n"),
    ],
)
def test_hdparm_unreadable_frozen_line_is_unknown_not_false(line, mangled):
    text = fixture(LOCKED_M4).replace(line, mangled)
    ident = hdparm.parse_identify(text)
    assert ident is not None
    assert ident.security is not None
    assert ident.security.frozen is None
    assert ident.security.unknown == ("frozen",)
    assert ident.security.locked is True


def test_hdparm_identify_block_without_hdparm_layout_is_a_tool_error_naming_the_line():
    flat = " ".join(fixture(LOCKED_M4).split("\n"))  # one line: no structure left
    with pytest.raises(ToolError, match="line 1 .*'Model Number:' is not a field line"):
        hdparm.parse_identify(flat)
    no_features = fixture(LOCKED_M4).split("Commands/features:")[0]
    with pytest.raises(ToolError, match="line 5 .*Model Number.*no 'Commands/features:'"):
        hdparm.parse_identify(no_features)
    marked = fixture(LOCKED_M4).replace("\nSecurity: \n", "\n<b>Security:</b>\n")
    with pytest.raises(ToolError, match="<b>Security:</b>"):
        hdparm.parse_identify(marked)


def test_hdparm_on_a_loop_device_has_no_identify_data():
    assert hdparm.parse_identify(fixture("hdparm/loop-I.txt")) is None


def test_hdparm_exit_0_abort_of_mx500_block_erase_is_an_error():
    """A real drive aborted SANITIZE BLOCK ERASE; hdparm said "started" and exited 0."""
    argv = hdparm.build_sanitize_argv("/dev/sda", "block")
    text = fixture("hdparm/sata-ssd-crucial-mx500-sanitize-block-erase-aborted.txt")
    runner = FakeRunner({tuple(argv): done(argv, text, rc=0)})
    with pytest.raises(ToolFailedError, match="aborted"):
        hdparm.sanitize("/dev/sda", "block", runner=runner)


def test_hdparm_sanitize_status_after_the_abort_is_idle_not_completed():
    st = hdparm.parse_sanitize_status(
        fixture("hdparm/sata-ssd-crucial-mx500-sanitize-status-idle-after-abort.txt")
    )
    assert st is not None
    assert st.state == "SD0"
    assert not st.completed_ok
    assert not st.in_progress


def test_hdparm_sanitize_status_on_loop_is_none():
    assert hdparm.parse_sanitize_status(fixture("hdparm/loop-sanitize-status.txt")) is None


def test_hdparm_not_supported_sanitize_is_unsupported():
    argv = hdparm.build_sanitize_argv("/dev/sdf", "crypto")
    out = "\n/dev/sdf:\nSANITIZE feature set is not supported\n"  # reference/qemu.md §3.2
    runner = FakeRunner({tuple(argv): done(argv, out, rc=22)})
    with pytest.raises(UnsupportedError):
        hdparm.sanitize("/dev/sdf", "crypto", runner=runner)


def test_hdparm_hpa_and_dco_parse():
    hpa = hdparm.parse_hpa("\n/dev/sdb:\n max sectors   = 976771055/976773168, HPA is enabled\n")
    assert hpa is not None
    assert hpa.enabled
    assert hpa.hidden_sectors == 2113
    dco = "DCO Revision: 0x0002\n\tReal max sectors: 976773168\n\tATA command/feature sets:\n"
    assert hdparm.parse_dco(dco).real_max == 976773168


# ---- nvme -------------------------------------------------------------------------------------


def test_nvme_id_ctrl_json_wdc_sn730():
    ctrl = nvme.parse_id_ctrl(fixture("nvme/wdc-pc-sn730-id-ctrl.json"))
    assert ctrl.sanicap == 0x60000003
    assert ctrl.fna == 4
    assert ctrl.oacs == 23
    assert ctrl.sanitize_crypto
    assert ctrl.sanitize_block
    assert not ctrl.sanitize_overwrite
    assert ctrl.format_supported
    assert ctrl.crypto_format_supported
    assert not ctrl.format_applies_to_all_namespaces
    assert ctrl.serial == "1951B3444502"


def test_nvme_id_ctrl_text_toshiba_matches_the_bits():
    ctrl = nvme.parse_id_ctrl_text(fixture("nvme/toshiba-kxg6aznv512g-id-ctrl-text-sn-elided.txt"))
    assert (ctrl.sanicap, ctrl.fna, ctrl.oacs) == (0x3, 0x4, 0x1F)
    assert ctrl.sanitize_crypto
    assert ctrl.sanitize_block
    assert ctrl.security_send_receive


TOSHIBA = "nvme/toshiba-kxg6aznv512g-id-ctrl-text-sn-elided.txt"


@pytest.mark.parametrize("value", ["0x3 (bla)", "0x3x", "3f", "", "-3", "0x", '"0x3"'])
def test_nvme_id_ctrl_text_value_with_other_text_is_a_tool_error_naming_the_line(value):
    text = fixture(TOSHIBA).replace("sanicap   : 0x3\n", f"sanicap   : {value}\n")
    with pytest.raises(ToolError, match=r"unreadable number at line \d+ 'sanicap"):
        nvme.parse_id_ctrl_text(text)


@pytest.mark.parametrize("value", ["0x60000003 (bla)", 3.5, None, True, [3], -1])
def test_nvme_id_ctrl_json_value_nvme_cli_would_not_print_is_a_tool_error(value):
    d = json.loads(fixture("nvme/wdc-pc-sn730-id-ctrl.json"))
    d["sanicap"] = value
    with pytest.raises(ToolError, match="unreadable number at 'sanicap'"):
        nvme.parse_id_ctrl(json.dumps(d))


@pytest.mark.parametrize("text", ["[]", '"sanicap"', "{}", "no such device\n"])
def test_nvme_id_ctrl_without_identify_fields_is_a_tool_error(text):
    with pytest.raises(ToolError):
        nvme.parse_id_ctrl(text)
    with pytest.raises(ToolError):
        nvme.parse_id_ctrl_text(text)


def test_nvme_sanitize_log_unknown_status_is_an_error_not_never():
    text = fixture("nvme/crucial-p3-ct4000p3pssd8-sanitize-log.txt").replace(":  0\n", ":  5\n", 1)
    with pytest.raises(ToolError, match="unknown sanitize status 5"):
        nvme.parse_sanitize_log_text(text)


def test_nvme_sanitize_log_text_of_a_failed_drive_has_no_estimates():
    log = nvme.parse_sanitize_log_text(fixture("nvme/crucial-p3-ct4000p3pssd8-sanitize-log.txt"))
    assert log.sprog == 65535
    assert log.status == nvme.SanitizeStatus.NEVER
    assert log.estimates == {"overwrite": None, "block_erase": None, "crypto_erase": None}


def test_nvme_sanitize_log_json_layout_of_nvme_cli():
    text = json.dumps(
        {
            "nvme0": {
                "sprog": 32768,
                "sstat": {"global_erased": 0, "no_cmplted_passes": 0, "status": "(2) In Progress"},
                "cdw10_info": 4,
                "time_over_write": 4294967295,
                "time_block_erase": 120,
                "time_crypto_erase": 4,
            }
        }
    )
    log = nvme.parse_sanitize_log(text)
    assert log.status == nvme.SanitizeStatus.IN_PROGRESS
    assert log.fraction == pytest.approx(0.5)
    assert log.estimates["overwrite"] is None
    assert log.estimates["crypto_erase"] == 4


def test_nvme_sanitize_rejected_by_qemu_is_unsupported():
    argv = nvme.build_sanitize_argv("/dev/nvme0", nvme.SanitizeAction.CRYPTO_ERASE)
    err = (  # reference/qemu.md §3.1
        "NVMe status: Invalid Command Opcode: A reserved coded value or an unsupported value "
        "in the command opcode field(0x4001)\n"
    )
    runner = FakeRunner({tuple(argv): done(argv, "", 1, err)})
    with pytest.raises(UnsupportedError, match="0x4001"):
        nvme.sanitize("/dev/nvme0", nvme.SanitizeAction.CRYPTO_ERASE, runner=runner)


def test_nvme_id_ctrl_on_a_loop_device_fails_cleanly():
    argv = nvme.build_id_ctrl_argv("/dev/loop1")
    runner = FakeRunner({tuple(argv): done(argv, "", 1, fixture("nvme/loop-id-ctrl-error.txt"))})
    with pytest.raises(ToolFailedError, match="Invalid argument"):
        nvme.id_ctrl("/dev/loop1", runner=runner)


def test_nvme_controller_of_namespace():
    assert nvme.controller_of("/dev/nvme3n2") == "/dev/nvme3"
    assert nvme.controller_of("/dev/loop4") == "/dev/loop4"


# ---- sg3_utils --------------------------------------------------------------------------------


def test_sg_readcap_wd_p10():
    cap = sg.parse_readcap(fixture("sg3-utils/usb-hdd-wd-black-p10-game-drive-sg_readcap-l.txt"))
    assert cap is not None
    assert (cap.blocks, cap.block_length, cap.physical_block_length) == (9767475200, 512, 4096)
    assert cap.lbpme
    assert not cap.lbprz
    assert not cap.nonstandard_sectors


def test_sg_readcap_error_on_loop_parses_to_none():
    assert sg.parse_readcap(fixture("sg3-utils/loop-sg_readcap-l-error.txt")) is None


def test_sg_sanitize_invalid_opcode_of_a_sata_ssd_is_unsupported():
    argv = sg.build_sanitize_argv("/dev/sda", "block")
    out = fixture("sg3-utils/sata-ssd-crucial-mx500-sg_sanitize-block-invalid-opcode.txt")
    runner = FakeRunner({tuple(argv): done(argv, out, rc=9)})
    with pytest.raises(UnsupportedError, match="Invalid opcode"):
        sg.sanitize("/dev/sda", "block", runner=runner)


def test_sg_sanitize_exit_0_with_transport_error_is_a_failure():
    argv = sg.build_sanitize_argv("/dev/sdb", "overwrite")
    out = "Sanitize: transport: Host_status=0x07 [DID_ERROR]\n"  # reference/qemu.md §3.3, rc 0
    runner = FakeRunner({tuple(argv): done(argv, out, rc=0)})
    with pytest.raises(ToolFailedError, match="DID_ERROR"):
        sg.sanitize("/dev/sdb", "overwrite", runner=runner)


def test_sg_opcodes_listing_layout():
    """No real SAS listing with SANITIZE exists in the corpora: this is sg_opcodes' layout."""
    text = (
        "Opcode  Service    CDB    Name\n(hex)   action(h)  size\n"
        "-----------------------------------------------\n"
        " 00                  6    Test Unit Ready\n 04                  6    Format Unit\n"
        " 48        2        10    Sanitize, block erase\n"
        " 48        3        10    Sanitize, cryptographic erase\n"
    )
    ops = sg.parse_opcodes(text)
    assert ops.format_unit
    assert ops.sanitize_block
    assert ops.sanitize_crypto
    assert not ops.sanitize_overwrite


def test_sg_opcodes_error_on_loop_lists_nothing():
    assert sg.parse_opcodes(fixture("sg3-utils/loop-sg_opcodes-error.txt")).supported == frozenset()


def test_sg_progress():
    assert sg.parse_progress("Progress indication: 45.25% done\n") == pytest.approx(0.4525)
    assert sg.parse_progress("") is None


# ---- smartctl ---------------------------------------------------------------------------------


def test_smartctl_ata_with_security_state():
    s = smartctl.parse(fixture("smartctl/ata-ssd-samsung-860evo-x-security-not-frozen.json"))
    assert (s.protocol, s.model, s.passed, s.power_on_hours) == (
        "ATA",
        "Samsung SSD 860 EVO 500GB",
        True,
        14551,
    )
    assert s.security_enabled is False
    assert s.security_frozen is False
    assert s.reallocated_sectors == 0
    assert s.rotation_rate == 0


def test_smartctl_nvme_health():
    s = smartctl.parse(fixture("smartctl/nvme-samsung-970evo-x.json"))
    assert s.protocol == "NVMe"
    assert s.percentage_used == 3
    assert s.media_errors == 7


def test_smartctl_sas_and_hdd_exit_bits():
    sas = smartctl.parse(fixture("smartctl/sas-hdd-seagate-st1200mm0088.json"))
    assert sas.protocol == "SCSI"
    assert sas.rotation_rate == 10500
    hdd = smartctl.parse(fixture("smartctl/ata-hdd-hgst-hus724020ale640.json"))
    assert hdd.exit_status == 64
    assert not smartctl.failed_to_run(hdd)
    assert hdd.pending_sectors == 0
    assert hdd.trim is False


def test_smartctl_loop_device_is_a_clear_error():
    text = fixture("smartctl/loop-unable-to-detect.json")
    argv = smartctl.build_argv("/dev/loop1")
    runner = FakeRunner({tuple(argv): done(argv, text, rc=1)})
    with pytest.raises(ToolFailedError, match="Unable to detect device type"):
        smartctl.summary("/dev/loop1", runner=runner)


def test_smartctl_usb_tries_sat_then_scsi():
    bad = fixture("smartctl/loop-unable-to-detect.json")
    good = fixture("smartctl/sas-hdd-seagate-st1200mm0088.json")
    sat, scsi = smartctl.build_argv("/dev/sdc", "sat"), smartctl.build_argv("/dev/sdc", "scsi")
    runner = FakeRunner({tuple(sat): done(sat, bad, 1), tuple(scsi): done(scsi, good, 0)})
    assert smartctl.summary("/dev/sdc", "usb", runner=runner).protocol == "SCSI"
    assert runner.calls == [tuple(sat), tuple(scsi)]


# ---- fail closed: malformed values are errors or unknown, never defaults -------------------------

WD_READCAP = "sg3-utils/usb-hdd-wd-black-p10-game-drive-sg_readcap-l.txt"


@pytest.mark.parametrize("value", ["5l2", "512.5", "", "0x200"])
def test_sg_readcap_unreadable_block_length_is_a_tool_error_naming_the_line(value):
    text = fixture(WD_READCAP).replace("Logical block length=512", f"Logical block length={value}")
    with pytest.raises(ToolError, match="Logical block length="):
        sg.parse_readcap(text)


def test_sg_readcap_results_without_their_values_are_a_tool_error():
    text = fixture(WD_READCAP).split("   Last LBA")[0]
    with pytest.raises(ToolError, match="without a block count"):
        sg.parse_readcap(text)


def test_sg_opcodes_table_without_a_readable_row_is_a_tool_error():
    with pytest.raises(ToolError, match="no readable opcode row"):
        sg.parse_opcodes("Opcode  Service    CDB    Name\n-----------\n<tr><td>48</td></tr>\n")


@pytest.mark.parametrize("text", ["Progress indication: 4.5.2% done", "Progress indication: 450%"])
def test_sg_progress_mangled_is_no_progress(text):
    assert sg.parse_progress(text) is None


@pytest.mark.parametrize("text", ["[]", '"smartctl"', '{"smartctl": {"exit_status": "0"}}', "{}"])
def test_smartctl_json_that_is_not_smartctls_object_is_a_tool_error(text):
    with pytest.raises(ToolError):
        smartctl.parse(text)


def test_smartctl_wrongly_typed_values_are_unknown_not_defaults():
    d = json.loads(fixture("smartctl/nvme-samsung-970evo-x.json"))
    d["smart_status"]["passed"] = "true"
    d["nvme_smart_health_information_log"]["critical_warning"] = "0"
    d["power_on_time"] = 12
    s = smartctl.parse(json.dumps(d))
    assert (s.passed, s.critical_warning, s.power_on_hours) == (None, None, None)


@pytest.mark.parametrize("bad", ["4096 bytes", "-1", "0x200", "", "５１２"])
def test_blkdev_queue_value_that_is_not_a_whole_number_is_a_tool_error(bad):
    values = {k: v for k, v in blkdev.QUEUE_FILES.items()} | {"logical_block_size": bad}
    with pytest.raises(ToolError, match="logical_block_size"):
        blkdev.parse_queue_limits(values)


def test_blkdev_no_queue_files_at_all_is_a_tool_error():
    with pytest.raises(ToolError, match="no queue limits"):
        blkdev.parse_queue_limits({})


def test_hdparm_n_answer_of_an_aborting_usb_bridge_is_an_error_not_a_1_sector_native_max():
    """Real: a Verbatim stick's bridge aborted and hdparm printed 0/1; resetting to 1 sector
    would be the result of believing it."""
    with pytest.raises(ToolError, match="aborted"):
        hdparm.parse_hpa(fixture("hdparm/usb-flash-verbatim-N-aborted-0-of-1.txt"))
    with pytest.raises(ToolError, match="impossible"):
        hdparm.parse_hpa("\n/dev/sdf:\n max sectors   = 0/1, HPA is enabled\n")


def test_hdparm_real_hpa_and_dco_captures():
    hpa = hdparm.parse_hpa(fixture("hdparm/sata-hdd-160g-N-hpa-enabled.txt"))
    assert hpa == hdparm.HpaState(312579695, 312581808, True)
    assert hpa.hidden_sectors == 2113
    dco = hdparm.parse_dco(fixture("hdparm/sata-hdd-3t-dco-identify.txt"))
    assert dco == hdparm.DcoState(5860533168)
    with pytest.raises(ToolError, match="Real max sectors: 58605x"):
        hdparm.parse_dco("\tReal max sectors: 58605x\n")
