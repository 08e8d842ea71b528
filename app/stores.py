"""Where the app's state lives: the data home of one machine, or PostgreSQL shared by hosts.

``DIGITS_DATABASE_URL`` unset (the default): the model registry, the training jobs and their
lock, and the labelled drawings live in the data home (files and SQLite), and the rate limits in
each process's memory. Nothing to install; one machine, any number of workers.

Set to a ``postgresql://`` URL: all of them live in that database (``app/db/``), so replicas on
several hosts share them, and MNIST is shared through it too. The data home then holds only
caches (MNIST) and the logs of the jobs that ran on this host.

``open_stores`` is the one place that makes this choice: the app, the training job's process and
the CLI all get their stores from it, and both back-ends give the same interface to each store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.config import Settings
from app.db import DatabaseError
from app.jobs.store import JobStore
from model.data import Mnist, cache_path, load_mnist
from model.registry import ModelRegistry, Registry

# Imported where used: a training job's process opens its stores first thing, and must say it
# is running within moments of starting (the web framework and Pillow can wait).

log = logging.getLogger(__name__)


@dataclass
class Stores:
    """Every store of one process, from one back-end."""

    home: Path
    registry: ModelRegistry
    jobs: Any  # JobStore, or app.db.jobs.PgJobStore
    feedback: Any  # FeedbackStore, or app.db.feedback.PgFeedbackStore
    database: Any = None  # app.db.connection.Database when shared
    datasets: Any = None  # app.db.datasets.PgDatasets when shared

    @property
    def shared(self) -> bool:
        """True when the state is in a database that other hosts share."""
        return self.database is not None

    def open(self) -> None:
        """Make the stores ready, as a server does at start-up: the database's migrations, and
        the feedback store's checks (the SQLite file's are its own). Raises FeedbackStoreError,
        SchemaError or DatabaseUnavailable, naming what is wrong."""
        self.migrate()
        self.feedback.open()

    def migrate(self) -> None:
        """Apply the database's migrations (under its lock); nothing for the data home."""
        if self.database is not None:
            from app.db.schema import migrate

            # One connection of its own first: if the database cannot be reached, the error
            # says why (refused, no such host, bad password), where the pool only says it
            # timed out.
            self.database.connect().close()
            before, after = migrate(self.database)
            if before != after:
                log.warning("database schema migrated from version %d to %d", before, after)

    def limiter(self, name: str, limit: int, window: float = 60.0):
        """A per-client rate limit: in this process's memory, or counted across every host."""
        if self.database is None:
            from app.ratelimit import RateLimiter

            return RateLimiter(limit, window)
        from app.db.limits import PgRateLimiter

        return PgRateLimiter(self.database, name, limit, window)

    def has_mnist(self) -> bool:
        """MNIST is in the data home, or in the database for any host to take."""
        if cache_path(self.home).is_file():
            return True
        return self.datasets is not None and self.datasets.has()

    def mnist(self) -> Mnist:
        """MNIST from the data home's cache, downloaded there first from the database when
        shared and missing. Raises DataError."""
        if self.datasets is not None:
            self.datasets.download_mnist(self.home)
        return load_mnist(self.home)

    def share_mnist(self) -> bool:
        """Put this data home's MNIST in the database, if it is shared and has none yet."""
        path = cache_path(self.home)
        if self.datasets is None or not path.is_file():
            return False
        return self.datasets.publish(path)

    def check_ready(self, within: float) -> None:
        """Raise DatabaseUnavailable if the shared database does not answer within ``within``
        seconds."""
        if self.database is not None:
            self.database.ping(within)

    def job_env(self, settings: Settings) -> dict[str, str | None]:
        """What a training job's process needs in its environment to open the same stores."""
        url = settings.database_url
        return {
            "DIGITS_HOME": str(self.home),
            "DIGITS_DATABASE_URL": url.get_secret_value() if url else None,
            "DIGITS_JOB_LEASE_SECONDS": str(settings.job_lease_seconds),
            "DIGITS_DATABASE_TIMEOUT_SECONDS": str(settings.database_timeout_seconds),
        }

    def close(self) -> None:
        if self.database is not None:
            self.database.close()


def open_stores(settings: Settings, name: str = "digits", pool_size: int | None = None) -> Stores:
    """The stores ``settings`` ask for (not yet ``open()``ed). ``name`` shows in the database's
    list of sessions; ``pool_size`` overrides the setting (a CLI command needs one or two)."""
    from app.feedback.store import FeedbackStore

    home = Path(settings.home)
    if settings.database_url is None:
        return Stores(home, Registry(home), JobStore(home), FeedbackStore(home))
    try:
        from app.db.connection import Database
    except ImportError as e:
        raise DatabaseError(
            f"DIGITS_DATABASE_URL is set, but PostgreSQL support is not installed ({e}); "
            "install it with: pip install 'digits[postgres]'"
        ) from None
    from app.db.datasets import PgDatasets
    from app.db.feedback import PgFeedbackStore
    from app.db.jobs import PgJobStore
    from app.db.registry import PgRegistry

    db = Database(
        settings.database_url.get_secret_value(),
        max_size=pool_size or settings.database_pool_size,
        timeout=settings.database_timeout_seconds,
        name=name,
    )
    return Stores(
        home,
        PgRegistry(db),
        PgJobStore(db, home, settings.job_lease_seconds),
        PgFeedbackStore(db),
        database=db,
        datasets=PgDatasets(db),
    )
