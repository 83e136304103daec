"""The station screen: a Textual front end over the same engine the CLI uses.

Nothing here decides how a drive is erased; the engine and the policy do. Only this package may
import Textual (tests/test_import_hygiene.py checks it), so the headless CLI never pays for it.
"""

#: What the App returns when it exits on purpose (the supervisor acts on it): power off, or
#: restart the whole station with new settings (a boot stick that arrived late).
POWEROFF, RESTART = "poweroff", "restart"
