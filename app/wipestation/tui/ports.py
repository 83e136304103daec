"""What the header says about where proof goes (the screen's view of the report writer).

The collaborators themselves (engine, planner, drive source, watcher) are the station's
``Services`` (``wipestation.services``), shared with every other front end.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportStatus:
    """What the header says about where proof goes. ``target``: present | absent | full | off."""

    target: str = "off"
    where: str = ""
    pending: int = 0
    printer: str = "none"  # none | ready | offline | error text
    detail: str = ""
    store: str = ""  # "N records not yet in the store: why", or "" (none waits / no store)
    computer: str = ""  # the computer every record names: "Dell Inc. OptiPlex 7010, S/N 5Q4Q7Y1"
