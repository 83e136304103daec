"""Each thread has its own libudev context, and making one no longer looks libudev up again
(an ``ldconfig -p`` child per new wipe thread, issue 18)."""

from __future__ import annotations

import threading

import pytest
from pyudev._ctypeslib import utils
from wipestation.discovery import udev


def test_contexts_per_thread_share_one_library_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    lookup = utils.find_library
    assert isinstance(lookup, udev.LibudevLookup)
    assert lookup.udev  # found at import
    asked: list[str] = []
    monkeypatch.setattr(lookup, "find", asked.append)
    contexts: list[object] = []
    threads = [threading.Thread(target=lambda: contexts.append(udev.context())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in contexts}) == 4  # never shared between threads
    assert asked == []  # no new lookup (ldconfig) for any of them
