"""The engine's per-job log lines ("<job id>: <text>") relayed to the screen as messages.

The details view shows this as the job's live log. The handler runs in whichever thread logged,
so it only posts a message (thread-safe, never blocks the wipe).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from textual.message import Message

from wipestation.tui.messages import JobLogged

ENGINE_LOGGER = "wipestation.engine"


class JobLogRelay(logging.Handler):
    def __init__(self, post: Callable[[Message], object]) -> None:
        super().__init__(logging.INFO)
        self.post = post
        self._saved_level = logging.NOTSET

    def emit(self, record: logging.LogRecord) -> None:
        job_id, sep, text = record.getMessage().partition(": ")
        if sep and text and " " not in job_id:
            self.post(JobLogged(job_id, text.splitlines()[0]))

    def attach(self) -> None:
        logger = logging.getLogger(ENGINE_LOGGER)
        self._saved_level = logger.level
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
        logger.addHandler(self)

    def detach(self) -> None:
        logger = logging.getLogger(ENGINE_LOGGER)
        logger.removeHandler(self)
        logger.setLevel(self._saved_level)
