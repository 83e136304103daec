"""The station screen: a Textual front end over the same ``Services`` the CLI and the conveyor use.

Nothing here decides how a drive is erased; planning does, and the engine runs its plans. Only
this package may import Textual (tests/test_architecture.py checks it), so the headless CLI never
pays for it.
"""

#: What the App returns when it exits on purpose (the supervisor acts on it): power off, or
#: restart the whole station with new settings (a boot stick that arrived late).
POWEROFF, RESTART = "poweroff", "restart"
