"""An exclusive lock on a file for the length of a block, across every thread and process."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an ``flock`` on ``path`` (made if missing), waiting for it, until the block ends.

    Each call opens the file afresh, so two threads of one process exclude each other too; the
    kernel lets go of the lock when the descriptor is closed, or the process dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
