"""Data sets in the shared database, so that a job can train on any replica: MNIST's cache file.

A host that has MNIST in its data home (``digits data fetch``) publishes the cache file, byte for
byte with its sha256; a host that has not downloads it into its own data home the first time a
job or the admin's insights need it. The file is checked against its sha256 before it is
written, and ``model.data.load_mnist`` checks its shapes when it is read, as for any cache.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from app.db.connection import Database
from model.atomic import atomic_write
from model.data import CACHE_NAME, DataError, cache_path

MNIST = "mnist"


class PgDatasets:
    """Named files in the ``datasets`` table."""

    def __init__(self, db: Database):
        self.db = db

    def has(self, name: str = MNIST) -> bool:
        with self.db.connection() as connection:
            row = connection.execute("SELECT 1 FROM datasets WHERE name = %s", (name,)).fetchone()
        return row is not None

    def publish(self, path: Path, name: str = MNIST) -> bool:
        """Store the file at ``path`` under ``name`` unless the database has it; True if it
        was stored now."""
        if self.has(name):
            return False
        data = Path(path).read_bytes()
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with self.db.connection() as connection:
            cursor = connection.execute(
                "INSERT INTO datasets (name, sha256, data, created) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (name) DO NOTHING",
                (name, hashlib.sha256(data).hexdigest(), data, created),
            )
        return cursor.rowcount == 1

    def download_mnist(self, home: Path) -> bool:
        """Put the shared MNIST cache file into ``home`` if it is not there; True if it was
        downloaded. Raises DataError when the database has none, or a damaged one."""
        path = cache_path(home)
        if path.is_file():
            return False
        with self.db.connection() as connection:
            row = connection.execute(
                "SELECT sha256, data FROM datasets WHERE name = %s", (MNIST,)
            ).fetchone()
        if row is None:
            raise DataError(
                f"no MNIST cache at {path}, and none in the database; run `digits data fetch` "
                "on any replica (it shares what it fetches)"
            )
        sha256, data = row[0], bytes(row[1])
        if hashlib.sha256(data).hexdigest() != sha256:
            raise DataError(f"the database's copy of {CACHE_NAME} fails its sha256 check")
        atomic_write(path, lambda f: f.write(data))
        return True
