"""Start of shift (Pilot): after the sign-in the operator opens a lot — lot id, customer and a
manifest from the boot stick's copy or the report stick — or resumes one left open on the stick.

A barcode scanner types into the focused box and presses Enter, so the tests type the way it does.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList, Static
from wipestation.config import StationConfig
from wipestation.custody.manifest import ManifestError
from wipestation.model import JobState
from wipestation.reports.record import StationInfo
from wipestation.reports.sign import Signer, verify_bytes
from wipestation.reports.target import DirectoryTarget, StickTarget
from wipestation.reports.writer import ReportWriter
from wipestation.tui.app import WipestationApp
from wipestation.tui.lot_sources import (
    BOOT,
    CONFIGURED,
    REPORT,
    LotFinder,
    ManifestChoice,
    manifest_names,
)
from wipestation.tui.screens.lot import LotScreen
from wipestation.tui.screens.lot_open import LotOpenScreen
from wipestation.tui.screens.signin import SignInScreen

from tests.custody.helpers import record, save
from tests.reports.factory import drive, job
from tests.tui.conftest import FIXED_CLOCK, METHODS, rack
from tests.tui.fakes import FakeEngine, FakeWatcher, services
from tests.tui.test_pilot import SIZE, started
from tests.tui.test_scanner import MANIFEST

BAD_MANIFEST = "Serial;Asset Tag\nWD-1;T-1\nWD-2;T-2;extra\n"  # line 3, column 10: no header


def writer_in(tmp_path: Path) -> ReportWriter:
    """The station's writer into a directory (the "report stick"), as ``from_config`` builds it
    for the configured lot; no PDFs (a second each, and the records are what is checked)."""
    station = StationInfo("bay-3", customer="Old Co", lot_id="LOT-1")
    out, keys, spool = tmp_path / "out", tmp_path / "keys", tmp_path / "sp"
    return ReportWriter(out, station=station, key_home=keys, spool_dir=spool, pdf_enabled=False)


def shift_config() -> StationConfig:
    """An attended station with a lot from its configuration and nobody signed in yet."""
    return StationConfig(station="bay-3", method="nist-clear", lot="LOT-1", customer="Old Co")


def stick(tmp_path: Path) -> Path:
    """The boot stick's copy directory: a manifest at the top and one under manifests/."""
    d = tmp_path / "stick"
    (d / "manifests").mkdir(parents=True)
    (d / "manifests" / "lot9.csv").write_text(MANIFEST, encoding="utf-8")
    (d / "bad.csv").write_text(BAD_MANIFEST, encoding="utf-8")
    (d / "notes.txt").write_text("not a manifest\n")
    return d


def station_app(
    tmp_path: Path, config: StationConfig, writer: ReportWriter | None = None
) -> tuple[WipestationApp, FakeEngine]:
    engine = FakeEngine()
    target = writer.target if writer is not None else None
    app = WipestationApp(
        services=services(engine, rack(), config, watcher=FakeWatcher(), writer=writer),
        methods=METHODS,
        clock=lambda: FIXED_CLOCK,
        ascii_only=True,
        lot_finder=LotFinder(stick(tmp_path), target, configured=config.manifest),
    )
    return app, engine


def keys(text: str) -> list[str]:
    return ["minus" if c == "-" else "space" if c == " " else c for c in text]


async def sign_in(app: WipestationApp, pilot: Pilot, name: str = "Kim") -> None:
    await pilot.pause()
    assert isinstance(app.screen, SignInScreen)
    await pilot.press(*keys(name), "enter")
    await looked(app, pilot)


async def looked(app: WipestationApp, pilot: Pilot) -> None:
    """The App's worker has looked on the sticks (or read the manifest) and answered."""
    await app.workers.wait_for_complete()
    await pilot.pause()


def manifest_options(app: WipestationApp) -> list[str]:
    lst = app.screen.query_one("#manifests", OptionList)
    return [str(lst.get_option_at_index(i).prompt) for i in range(lst.option_count)]


async def choose(app: WipestationApp, pilot: Pilot, label: str) -> None:
    """Up/Down to the option, Enter (the manifest list has the focus)."""
    options = manifest_options(app)
    lst = app.screen.query_one("#manifests", OptionList)
    assert app.focused is lst
    steps = options.index(label) - (lst.highlighted or 0)
    await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps), "enter")
    await looked(app, pilot)


def lot_line(app: WipestationApp) -> str:
    return str(app.drives_screen.lot.render())


@pytest.mark.slow  # the writer renders the session summary PDF (reportlab): 3 s
def test_sign_in_then_open_a_lot_with_a_manifest_from_the_stick(tmp_path: Path) -> None:
    writer = writer_in(tmp_path)
    app, engine = station_app(tmp_path, shift_config(), writer)
    written: list[Path] = []

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(app, pilot)
            assert isinstance(app.screen, LotOpenScreen)  # right after the sign-in
            assert app.focused is app.screen.query_one("#lot-id")
            assert manifest_options(app) == [
                "boot stick: bad.csv",
                "boot stick: manifests/lot9.csv",
                "none (build it by scanning)",
            ]
            await pilot.press(*keys("LOT-9"), "enter")  # a scan
            await pilot.press(*keys("ACME Recycling"), "enter")
            await choose(app, pilot, "boot stick: manifests/lot9.csv")
            assert app.screen is app.drives_screen
            assert lot_line(app).startswith("[o] Lot LOT-9: 4 expected, 0 passed")
            assert "3 not seen yet, 2 not on the manifest" in lot_line(app)
            assert (app.config.lot, app.config.customer) == ("LOT-9", "ACME Recycling")
            assert app.lot.operators == ["Kim"]
            # the next record carries the opened lot
            app.start_wipe(("sdb",), "nist-clear")
            await started(app, pilot)
            job = engine.job_of("sdb")
            engine.advance(job, state=JobState.PASSED)
            written.extend(writer.write(engine.results()[job]))
            await pilot.pause()
            assert "1 passed" in lot_line(app)
            await pilot.press("o")
            await pilot.pause()
            assert isinstance(app.screen, LotScreen)
            title = str(app.screen.query_one("#lot-title").render())
            assert "Lot LOT-9  customer ACME Recycling" in title

    asyncio.run(scenario())
    writer.close()
    rec = verify_bytes(written[0].read_bytes()).record
    assert rec is not None
    assert (rec["lot_id"], rec["customer"], rec["operator"]) == ("LOT-9", "ACME Recycling", "Kim")


def test_a_malformed_manifest_is_named_with_line_and_column_and_nothing_is_loaded(
    tmp_path: Path,
) -> None:
    app, _ = station_app(tmp_path, shift_config())

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(app, pilot)
            await pilot.press("enter", "enter")  # keep the lot id and customer as configured
            await choose(app, pilot, "boot stick: bad.csv")
            assert isinstance(app.screen, LotOpenScreen)  # still open: pick another, or none
            error = str(app.screen.query_one("#lot-open-error", Static).render())
            assert "bad.csv: line 3, column 10: value 'extra' under no header" in error
            assert app.lot.manifest is None
            assert app.config.lot == "LOT-1"  # nothing applied yet
            await choose(app, pilot, "none (build it by scanning)")
            assert app.screen is app.drives_screen
            assert app.lot.manifest is None
            assert lot_line(app) == "[o] Lot LOT-1: no manifest; 0 passed, 0 failed"
            assert app.config.customer == "Old Co"

    asyncio.run(scenario())


def earlier_boot(tmp_path: Path) -> None:
    """What an earlier boot of the station left on the report stick for lot LOT-5: two records
    signed with the station's key (its key home), and one forged with a key found elsewhere."""
    station = StationInfo("bay-3", operator="Kim", customer="ACME", lot_id="LOT-5")
    before = ReportWriter(
        tmp_path / "out",
        station=station,
        key_home=tmp_path / "keys",
        spool_dir=tmp_path / "sp0",
        pdf_enabled=False,  # the records are what count; a PDF costs a second
    )
    for job_id, serial, passed in (("a", "ZZ-NEVER-SEEN", True), ("b", "S3Z9NB0K999999", False)):
        d = drive(serial=serial, identity=serial, name=f"sd{job_id}", path=f"/dev/sd{job_id}")
        assert before.write(job(passed, job_id=job_id, drive=d))
    before.close()
    forged = record(Signer.generate(), "", asset_tag="CUST-004", lot_id="LOT-5", customer="ACME")
    save(tmp_path / "out" / "reports" / "2026-11-27", "forged", forged)


def test_resume_a_lot_left_open_on_the_report_stick(tmp_path: Path) -> None:
    earlier_boot(tmp_path)
    writer = writer_in(tmp_path)  # this boot: same station key, same report stick
    app, _ = station_app(tmp_path, shift_config(), writer)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(app, pilot)
            lots = app.screen.query_one("#open-lots", OptionList)
            assert str(lots.get_option_at_index(0).prompt).startswith(
                "LOT-5  ACME  3 record(s), last 2026-11-27 03:42"
            )
            await pilot.press("tab", "tab", "tab")  # lot id → customer → manifests → open lots
            assert app.focused is lots
            await pilot.press("enter")  # fills in the lot id and customer
            await pilot.pause()
            note = str(app.screen.query_one("#lot-open-note", Static).render())
            assert note.startswith("Resuming lot LOT-5")
            await choose(app, pilot, "boot stick: manifests/lot9.csv")
            await looked(app, pilot)  # the earlier records, read in a worker
            assert app.screen is app.drives_screen
            # line 4 passed and line 3 failed on the earlier boot; sdb is seen now; the forged
            # PASS for line 5 is not counted
            assert lot_line(app) == (
                "[o] Lot LOT-5: 4 expected, 1 passed, 1 failed, 0 in progress, 1 not seen yet, "
                "2 not on the manifest"
            )
            assert "1 not signed by this station (not counted)" in str(
                app.drives_screen.message.render()
            )
            assert (writer.station.lot_id, writer.station.customer) == ("LOT-5", "ACME")
            assert len(app.lot.prior) == 2

    asyncio.run(scenario())
    writer.close()


def test_a_lot_id_typed_again_resumes_that_lot_without_a_manifest(tmp_path: Path) -> None:
    earlier_boot(tmp_path)
    writer = writer_in(tmp_path)
    app, _ = station_app(tmp_path, shift_config(), writer)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(app, pilot)
            await pilot.press(*keys("lot-5"), "enter", "enter")  # lower case, by hand
            note = str(app.screen.query_one("#lot-open-note", Static).render())
            assert note.startswith("Resuming lot LOT-5: its 3 earlier record(s) count")
            await choose(app, pilot, "none (build it by scanning)")
            await looked(app, pilot)
            assert (app.config.lot, app.config.customer) == ("LOT-5", "ACME")  # as on the stick
            assert lot_line(app) == "[o] Lot LOT-5: no manifest; 1 passed, 1 failed"

    asyncio.run(scenario())
    writer.close()


def test_no_lot_id_no_lot_and_escape_keeps_the_configured_one(tmp_path: Path) -> None:
    cfg = replace(shift_config(), manifest=str(stick(tmp_path / "cfg") / "manifests/lot9.csv"))
    app, _ = station_app(tmp_path, cfg)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(app, pilot)
            # the configured manifest is offered first, and highlighted
            assert manifest_options(app)[0].startswith("configured: ")
            await pilot.press("backspace", "enter", "enter", "enter")  # the lot id deleted
            error = str(app.screen.query_one("#lot-open-error", Static).render())
            assert "Type or scan the lot id first." in error
            assert app.focused is app.screen.query_one("#lot-id")
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is app.drives_screen
            assert app.config.lot == "LOT-1"
            assert app.lot.manifest is not None
            assert len(app.lot.manifest.entries) == 4

    asyncio.run(scenario())


def test_the_lot_screen_opens_another_lot(tmp_path: Path) -> None:
    cfg = replace(shift_config(), operator="Kim")  # signed in by the configuration: no dialog
    app, _ = station_app(tmp_path, cfg)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.screen is app.drives_screen
            await pilot.press("o")
            await pilot.pause()
            await pilot.press("o")
            await looked(app, pilot)
            assert isinstance(app.screen, LotOpenScreen)
            await pilot.press(*keys("LOT-22"), "enter", "enter")
            await choose(app, pilot, "boot stick: manifests/lot9.csv")
            assert app.screen is app.drives_screen
            assert lot_line(app).startswith("[o] Lot LOT-22: 4 expected")

    asyncio.run(scenario())


def test_an_unattended_station_never_shows_the_dialog(tmp_path: Path) -> None:
    cfg = replace(shift_config(), unattended=True)
    app, _ = station_app(tmp_path, cfg)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.screen is app.drives_screen
            await pilot.press("o")
            await pilot.pause()
            await pilot.press("o")  # the lot screen's "open lot" refuses: the config decides
            await pilot.pause()
            assert isinstance(app.screen, LotScreen)
            assert app.config.lot == "LOT-1"

    asyncio.run(scenario())


def dialog_app(tmp_path: Path) -> WipestationApp:
    """The dialog with something in every list: the boot stick's two manifests, one on the report
    stick, and lot LOT-5 left open there."""
    earlier_boot(tmp_path)
    (tmp_path / "out" / "manifests").mkdir()
    (tmp_path / "out" / "manifests" / "LOT-5.CSV").write_text(MANIFEST, encoding="utf-8")
    app, _ = station_app(tmp_path, shift_config(), writer_in(tmp_path))
    return app


async def signed_in(pilot: Pilot) -> None:
    await sign_in(pilot.app, pilot)  # type: ignore[arg-type]


def test_lot_dialog_80x24_console(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(dialog_app(tmp_path), terminal_size=(80, 24), run_before=signed_in)


def test_lot_dialog_100x30(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(dialog_app(tmp_path), terminal_size=(100, 30), run_before=signed_in)


def test_which_files_are_offered_as_manifests(tmp_path: Path) -> None:
    d = stick(tmp_path)
    (d / "manifests" / "FROM-WINDOWS.CSV").write_text(MANIFEST)
    (d / ".hidden.csv").write_text(MANIFEST)  # a Mac's ._ file and the like
    (d / "folder.csv").mkdir()
    (d / "manifests" / "deeper").mkdir()
    (d / "manifests" / "deeper" / "x.csv").write_text(MANIFEST)  # only one level down
    assert manifest_names(d) == ["bad.csv", "manifests/FROM-WINDOWS.CSV", "manifests/lot9.csv"]
    assert manifest_names(tmp_path / "no-such-dir") == []


def test_looking_without_a_report_stick_still_offers_the_boot_stick(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text(MANIFEST)
    no_stick = StickTarget(probe=lambda: [])
    found = LotFinder(stick(tmp_path), no_stick, configured=str(elsewhere)).look()
    assert found.manifests[0] == ManifestChoice(CONFIGURED, str(elsewhere))
    assert ManifestChoice(BOOT, "manifests/lot9.csv") in found.manifests
    assert not any(c.where == REPORT for c in found.manifests)
    assert found.open_lots == ()
    assert found.problem.startswith("report stick (WIPEREPORTS or WIPESTATION): no report stick")
    assert LotFinder(tmp_path / "stick", None).look().problem == "no report target configured"
    # the configured manifest is the boot stick's own: listed once, as the boot stick's
    configured = str(tmp_path / "stick" / "bad.csv")
    once = LotFinder(tmp_path / "stick", None, configured=configured).look().manifests
    assert [c.label for c in once] == ["boot stick: bad.csv", "boot stick: manifests/lot9.csv"]


def test_a_manifest_on_the_report_stick_is_read_whole_or_refused_with_line_and_column(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    (out / "manifests").mkdir(parents=True)
    (out / "manifests" / "good.csv").write_text(MANIFEST, encoding="utf-8")
    (out / "manifests" / "bad.csv").write_text(BAD_MANIFEST, encoding="utf-8")
    finder = LotFinder(stick(tmp_path), DirectoryTarget(out))
    assert [c.label for c in finder.look().manifests if c.where == REPORT] == [
        "report stick: manifests/bad.csv",
        "report stick: manifests/good.csv",
    ]
    good = finder.load(ManifestChoice(REPORT, "manifests/good.csv"))
    assert len(good.entries) == 4
    assert good.sha256 == hashlib.sha256(MANIFEST.encode()).hexdigest()
    with pytest.raises(ManifestError) as bad:
        finder.load(ManifestChoice(REPORT, "manifests/bad.csv"))
    assert str(bad.value) == (
        f"directory {out}: manifests/bad.csv: line 3, column 10: value 'extra' under no header"
    )
    with pytest.raises(ManifestError, match="gone.csv: line 0, column 0: cannot read"):
        finder.load(ManifestChoice(BOOT, "gone.csv"))
