"""power.py on /sys/class/power_supply trees. Each tree is built file by file as the kernel's
ABI lays it out (Documentation/ABI/testing/sysfs-class-power: type, status, capacity, online,
present, scope), with the supply names and values of published uevent dumps (a Dell laptop's
BAT0 ``DELL J7H5M26`` discharging at 37 %; an HP Pavilion's BAT0 at 39 %; a Logitech K370s
keyboard's ``hidpp_battery_0`` with scope Device) — not captured here, and said so."""

from __future__ import annotations

from pathlib import Path

from wipestation.power import LOW_BATTERY_PCT, low_battery_warning, read_power


def tree(root: Path, supplies: dict[str, dict[str, str]]) -> Path:
    for name, files in supplies.items():
        (root / name).mkdir(parents=True)
        for f, value in files.items():
            (root / name / f).write_text(value + "\n")
    return root


def laptop(root: Path, capacity: str, status: str, ac: str) -> Path:
    return tree(root, {
        "AC": {"type": "Mains", "online": ac},
        "BAT0": {"type": "Battery", "status": status, "present": "1", "capacity": capacity},
    })  # fmt: skip


def test_a_laptop_on_a_low_battery_is_warned(tmp_path: Path) -> None:
    state = read_power(laptop(tmp_path, "22", "Discharging", "0"))
    assert (state.source, state.lowest_pct, state.mains_online) == ("battery", 22, False)
    assert low_battery_warning(state).startswith("ON BATTERY at 22 %: plug in the charger")
    assert state.to_json()["summary"] == "battery 22 %"


def test_a_laptop_on_battery_above_the_threshold_is_not(tmp_path: Path) -> None:
    state = read_power(laptop(tmp_path, "37", "Discharging", "0"))
    assert state.source == "battery"
    assert LOW_BATTERY_PCT == 30
    assert low_battery_warning(state) == ""
    assert low_battery_warning(state, threshold=40) != ""


def test_a_laptop_on_its_charger_is_on_mains_whatever_its_charge(tmp_path: Path) -> None:
    state = read_power(laptop(tmp_path, "12", "Charging", "1"))
    assert (state.source, state.mains_online) == ("mains", True)
    assert low_battery_warning(state) == ""
    assert state.summary() == "mains power (battery 12 %)"


def test_a_desktop_reports_no_supply_and_is_unknown(tmp_path: Path) -> None:
    state = read_power(tree(tmp_path / "ps", {}))
    assert (state.source, state.batteries, state.mains_online) == ("unknown", (), None)
    assert low_battery_warning(state) == ""
    assert read_power(tmp_path / "absent").source == "unknown"


def test_a_wireless_keyboards_battery_powers_nothing_here(tmp_path: Path) -> None:
    state = read_power(tree(tmp_path, {
        "hidpp_battery_0": {"type": "Battery", "scope": "Device", "status": "Discharging",
                            "capacity": "10", "online": "1"},
    }))  # fmt: skip
    assert state.source == "unknown"
    assert low_battery_warning(state) == ""


def test_unreadable_or_absurd_values_are_unknown_never_a_warning(tmp_path: Path) -> None:
    state = read_power(tree(tmp_path, {
        "BAT1": {"type": "Battery", "status": "Discharging", "capacity": "1536"},
        "BAT2": {"type": "Battery", "present": "0", "status": "Discharging", "capacity": "5"},
    }))  # fmt: skip
    assert [b.name for b in state.batteries] == ["BAT1"]  # an empty bay is no battery
    assert state.lowest_pct is None  # over 100 % is not a charge (bq27000's bug)
    assert state.source == "battery"
    assert low_battery_warning(state) == ""
    assert state.summary() == "battery ? %"
