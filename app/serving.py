"""The model this process serves, swapped for a new one when the registry's active version changes.

A watcher task asks the registry for its active stamp once per poll interval (for the files in
the data home, the ``stat`` of ``ACTIVE``: a few microseconds; in a shared database, one small
row) and only when it changed reads the name and loads that version, in a worker thread so that
requests keep flowing meanwhile. A registry that can announce changes (the database's NOTIFY)
wakes the watcher at once; the poll stays as the fallback. Every worker process of every
replica does the same, so they all end up on the same version.

A swap replaces one reference. ``predict`` reads that reference once, so a request always
finishes on the model it started with, and the version it reports is the one that answered.
If a newly activated version cannot be loaded, the current model keeps serving and the error
is logged; the watcher tries again when ACTIVE next changes. At start-up, with no model to keep
serving, a process whose ACTIVE names a version that cannot be loaded falls back to the newest
version that can (``Registry.fall_back``), with an error in the log. While a shared database is
unreachable the current model keeps serving, and the watcher says so once in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from starlette.concurrency import run_in_threadpool

from app.db import DatabaseUnavailable
from model.modelfile import LoadedModel, ModelFileError
from model.registry import ModelRegistry

log = logging.getLogger(__name__)


class NoModelError(RuntimeError):
    """No model could be loaded, so this process cannot predict (it reports not ready)."""


class ModelServer:
    """Holds the active ``LoadedModel`` of this process and reloads it when ACTIVE changes."""

    def __init__(self, registry: ModelRegistry):
        self.registry = registry
        self._model: LoadedModel | None = None
        self._seen: object = None  # the registry's active stamp when last acted upon
        self._unreachable = False  # the registry's store could not be reached at the last look
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
        except (ModelFileError, OSError, DatabaseUnavailable) as e:
            log.error("could not initialise the model registry in %s: %s", self.registry.where, e)

    def refresh(self) -> bool:
        """Load the active version if ACTIVE changed since the last look; True if it was swapped."""
        with self._lock:
            stamp = self.registry.active_stamp()
            if stamp == self._seen:
                return False
            version = self.registry.active_version()
            self._seen = stamp
            if version is None or version == self.version:
                return False
            try:
                loaded = self.registry.load(version)
            except DatabaseUnavailable:
                self._seen = None  # not looked at after all: try again at the next check
                raise
            except ModelFileError as e:
                self.load_failures += 1
                log.error(
                    "cannot load model version %s: %s; still serving %s", version, e, self.version
                )
                return False
            except Exception:
                self.load_failures += 1
                log.exception(
                    "unexpected error loading model version %s; still serving %s",
                    version,
                    self.version,
                )
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
        """Check the registry every ``every_seconds``, or at once when it announces a change,
        until cancelled; loads run in a worker thread."""
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        stop = self.registry.subscribe(lambda: loop.call_soon_threadsafe(wake.set))
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(every_seconds):
                        await wake.wait()
                wake.clear()
                await run_in_threadpool(self._check)
        finally:
            stop()

    def _check(self) -> None:
        """One look at the registry; the watcher must outlive any one bad check."""
        try:
            self.refresh()
        except DatabaseUnavailable as e:
            if not self._unreachable:  # once per outage, not once a second
                log.warning("model watcher: %s; still serving %s", e, self.version)
            self._unreachable = True
            return
        except Exception:
            log.exception("model watcher: checking the registry failed")
            return
        if self._unreachable:
            log.warning("model watcher: the registry can be reached again")
        self._unreachable = False
