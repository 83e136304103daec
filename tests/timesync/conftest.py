"""One chronyd for the module's tests that need a synchronised server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.timesync.chrony import Chrony, running


@pytest.fixture(scope="session")
def chrony(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chrony]:
    with running(tmp_path_factory.mktemp("chrony")) as server:
        yield server
