"""What a local run shows: one short line per step on the console, the full log in a file."""
from __future__ import annotations

import contextlib
import logging
import re
import time
from typing import Callable, Iterator

from absl import logging as absl_logging

Reporter = Callable[[str], None]


# The project's own loggers: their INFO lines (Trainer epochs, data warnings) reach the console.
_OUR_LOGGERS = {"flowers", "components", "pipeline", "data", "models"}


class _Progress(logging.Handler):
    """Turns TFX's and the Trainer's log lines into one short line per step for the console."""

    _PATTERNS = [
        (re.compile(r"Component (\S+) is running"), "running"),
        (re.compile(r"Component (\S+) is finished"), "finished"),
    ]

    def __init__(self, report: Reporter):
        super().__init__(logging.INFO)
        self.report = report
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.name.split(".")[0] in _OUR_LOGGERS:
            if record.levelno >= logging.INFO:
                self.report(f"    {message}" if record.levelno == logging.INFO else f"    {record.levelname}: {message}")
            return
        for pattern, state in self._PATTERNS:
            match = pattern.search(message)
            if not match:
                continue
            name = match.group(1)
            if state == "running":
                self.started[name] = time.time()
                self.report(f"  {name} ...")
            else:
                self.report(f"  {name} done in {time.time() - self.started.get(name, time.time()):.1f}s")


@contextlib.contextmanager
def logging_to(log_file: str, report: Reporter) -> Iterator[None]:
    """Full INFO log to a file; only progress lines and the project's warnings to the console.

    Handlers installed earlier (TFX and Beam call basicConfig) are set aside for the run, so the
    console is not flooded with executor protos.
    """
    root = logging.getLogger()
    file_handler = logging.FileHandler(log_file)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    tf_logger = logging.getLogger("tensorflow")  # has a console handler of its own
    saved = (root.handlers[:], root.level, absl_logging.get_verbosity(), tf_logger.handlers[:])
    root.handlers[:] = [file_handler, _Progress(report)]
    root.setLevel(logging.INFO)
    # Through absl's own flag, not setLevel: TensorFlow's SavedModel export saves and restores
    # absl's verbosity, and a bare setLevel would be lost there, silencing the rest of the run.
    absl_logging.set_verbosity(absl_logging.INFO)
    tf_logger.handlers[:] = []
    try:
        yield
    finally:
        root.handlers[:], level, absl_level, tf_logger.handlers[:] = saved
        root.setLevel(level)
        absl_logging.set_verbosity(absl_level)
        file_handler.close()
