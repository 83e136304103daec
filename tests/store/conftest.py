"""The session's SeaweedFS store (one ``weed server`` for every test in tests/store/)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.store.seaweed import Seaweed, new_seaweed


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    server = new_seaweed(tmp_path_factory.mktemp("seaweed"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
