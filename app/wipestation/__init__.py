"""Wipestation: sanitize every attached drive the way its hardware allows, verify, and prove it.

Architecture (one module, one job):
discovery → probe → policy → engine (jobs, overwrite, verify, journal) → reports
→ front ends (cli, tui).
"""

__version__ = "0.1.0"
