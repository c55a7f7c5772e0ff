"""One run per output root: two would interleave writes to the same MLMD store and serving folder."""
from __future__ import annotations

import contextlib
import fcntl
import os
from typing import Iterator


class RunInProgressError(RuntimeError):
    """Another run holds the output root."""


@contextlib.contextmanager
def output_lock(output: str) -> Iterator[None]:
    """Holds OUTPUT/.lock for the run (released when the process ends, however it ends)."""
    os.makedirs(output, exist_ok=True)
    with open(os.path.join(output, ".lock"), "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise RunInProgressError(f"another flowers run ({holder}) is using {output}; wait for it "
                                     "to finish or pass a different --output") from None
        lock.truncate(0)
        lock.write(f"pid {os.getpid()}")
        lock.flush()
        try:
            yield
        finally:
            lock.truncate(0)
