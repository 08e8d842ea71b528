"""The model this process serves, swapped for a new one when the registry's active version changes.

The registry names the active version in one small file, ``ACTIVE``, replaced atomically. A
watcher task looks at that file's ``stat`` once per poll interval (a few microseconds) and only
when it changed reads the name and loads that version, in a worker thread so that requests keep
flowing meanwhile. Every worker process of a multi-worker server does the same, so they all end
up on the same version.

A swap replaces one reference. ``predict`` reads that reference once, so a request always
finishes on the model it started with, and the version it reports is the one that answered.
If a newly activated version cannot be loaded, the current model keeps serving and the error
is logged; the watcher tries again when ACTIVE next changes. At start-up, with no model to keep
serving, a process whose ACTIVE names a version that cannot be loaded falls back to the newest
version that can (``Registry.fall_back``), with an error in the log.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from starlette.concurrency import run_in_threadpool

from model.modelfile import LoadedModel, ModelFileError
from model.registry import Registry

log = logging.getLogger(__name__)


class NoModelError(RuntimeError):
    """No model could be loaded, so this process cannot predict (it reports not ready)."""


class ModelServer:
    """Holds the active ``LoadedModel`` of this process and reloads it when ACTIVE changes."""

    def __init__(self, registry: Registry):
        self.registry = registry
        self._model: LoadedModel | None = None
        self._seen: tuple[int, int, int] | None = None  # stat of ACTIVE when last acted upon
        self._lock = threading.Lock()  # the watcher and start() never load at the same time
        self.loads = 0  # models loaded, the first included
        self.load_failures = 0  # activated versions that could not be loaded

    @property
    def model(self) -> LoadedModel | None:
        return self._model

    @property
    def version(self) -> str | None:
        model = self._model
        return model.version if model else None

    def start(self) -> None:
        """Tidy the registry, register the shipped model on a fresh data home, then load the
        active version (or, if it cannot be loaded, the newest version that can).

        A failure is logged rather than raised: the process comes up not ready (/readyz says
        503) and loads a model as soon as a loadable version is activated.
        """
        try:
            for leftover in self.registry.clean():
                log.warning("removed %s from the model registry (an interrupted write)", leftover)
            self.registry.ensure_initialised()
            self.refresh()
            if self._model is None:
                active = self.registry.active_version()
                fallback = self.registry.fall_back()
                if fallback is not None:
                    message = "the active model version %s cannot be loaded; serving %s instead"
                    log.error(message, active, fallback)
                    self.refresh()
        except (ModelFileError, OSError) as e:
            log.error("could not initialise the model registry at %s: %s", self.registry.root, e)

    def refresh(self) -> bool:
        """Load the active version if ACTIVE changed since the last look; True if it was swapped."""
        with self._lock:
            stamp = self._stat_active()
            if stamp == self._seen:
                return False
            self._seen = stamp
            version = self.registry.active_version()
            if version is None or version == self.version:
                return False
            try:
                loaded = self.registry.load(version)
            except ModelFileError as e:
                self.load_failures += 1
                log.error("cannot load model version %s: %s; still serving %s", version, e,
                          self.version)  # fmt: skip
                return False
            except Exception:
                self.load_failures += 1
                log.exception("unexpected error loading model version %s; still serving %s",
                              version, self.version)  # fmt: skip
                return False
            self._model = loaded
            self.loads += 1
            log.info("serving model version %s", version)
            return True

    def current(self) -> LoadedModel:
        """The model to answer one request with (read once: a concurrent swap cannot change the
        model mid-request). Raises NoModelError when none is loaded."""
        model = self._model
        if model is None:
            raise NoModelError("no model is loaded")
        return model

    async def watch(self, every_seconds: float) -> None:
        """Check ACTIVE every ``every_seconds`` until cancelled; loads run in a worker thread."""
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await run_in_threadpool(self.refresh)
            except Exception:  # the watcher must outlive any one bad check
                log.exception("model watcher: checking the registry failed")

    def _stat_active(self) -> tuple[int, int, int] | None:
        try:
            st = self.registry.active_file.stat()
        except FileNotFoundError:
            return None
        # An atomic replace gives a new inode; an in-place edit changes mtime or size.
        return st.st_ino, st.st_mtime_ns, st.st_size
