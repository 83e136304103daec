"""Where a booted station keeps things: defined once, used by the boot wiring and front ends."""

from __future__ import annotations

from pathlib import Path

#: The configuration file baked into the image (the optional config layer replaces it).
IMAGE_CONFIG = Path("/etc/wipestation/wipestation.toml")
#: This boot's state: tmpfs, gone at power-off.
RUN_DIR = Path("/run/wipestation")
#: This boot's copy of the boot stick's wipestation.toml (the stick may be pulled later).
STICK_COPY = RUN_DIR / "stick-wipestation.toml"
#: This boot's copy of the station config fetched from ``wipestation.config=`` (netconfig.py);
#: ``.failed`` beside it holds the reason when it could not be had.
NET_COPY = RUN_DIR / "net-wipestation.toml"
#: The station's config files, weakest first (the kernel command line is read over them):
#: what a command run on the station reads when it is given no ``--config``.
CONFIG_LAYERS = (IMAGE_CONFIG, STICK_COPY, NET_COPY)
#: This boot's clock: set from NTP or not, and by how much (timesync.py); read by every process.
CLOCK_FILE = RUN_DIR / "clock.json"
#: What the controlling terminal does, as lines; the other terminals follow it.
STATION_LOG = RUN_DIR / "station.log"
#: Where a crashed screen's traceback goes (never onto the console).
CRASH_LOG = RUN_DIR / "tui-crash.log"
#: Where report sticks are mounted while a record is written (or the journal lives there).
MOUNT_ROOT = RUN_DIR / "mnt"
#: Records that have no report target yet wait here (and in memory): tmpfs, so it survives a
#: restart of the station's process, not a reboot (the stick is for that).
SPOOL_DIR = RUN_DIR / "spool"
