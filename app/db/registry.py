"""The model registry in PostgreSQL: the registry's rules (``model.registry``) over two tables.

``models`` keeps each version's ``.npz`` file byte for byte (a ``bytea``, checked against its
sha256 when loaded, like a file) with its metadata as JSON beside it, so listing versions never
reads weights. ``active_model`` is one row naming the active version, with a counter that goes
up at every activation: that is the stamp watchers poll. An activation also sends NOTIFY on
``digits_active`` when it commits, so every replica's listener hears of it at once.

The registry's lock is an advisory lock taken inside the transaction of each change, so changes
are serialised across every process on every host, and a crash mid-change leaves nothing behind
(the transaction is rolled back): ``clean`` has nothing to do.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

from app.db.connection import Database
from model.modelfile import LoadedModel, load_model, model_bytes
from model.network import MLP
from model.registry import SHIPPED_MODEL, ModelRegistry, VersionNotFound

CHANNEL = "digits_active"


class PgRegistry(ModelRegistry):
    """Model versions and the active one, in the shared database."""

    def __init__(self, db: Database, shipped: Path = SHIPPED_MODEL):
        self.db = db
        self.shipped = Path(shipped)
        self.where = "the database"

    def versions(self) -> list[str]:
        with self.db.connection() as connection:
            rows = connection.execute("SELECT version FROM models ORDER BY version").fetchall()
        return [r[0] for r in rows]

    def active_version(self) -> str | None:
        with self.db.connection() as connection:
            row = connection.execute("SELECT version FROM active_model").fetchone()
        return row and row[0]

    def active_stamp(self) -> tuple[str, int] | None:
        with self.db.connection() as connection:
            row = connection.execute("SELECT version, changes FROM active_model").fetchone()
        return row and tuple(row)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with self.db.transaction(lock="registry"):
            yield

    def metas(self) -> list[dict]:
        with self.db.connection() as connection:
            rows = connection.execute(
                "SELECT meta FROM models ORDER BY created DESC, version DESC"
            ).fetchall()
        return [r[0] for r in rows]

    def _read(self, version: str) -> LoadedModel:
        with self.db.connection() as connection:
            row = connection.execute(
                "SELECT file FROM models WHERE version = %s", (version,)
            ).fetchone()
        if row is None:
            raise VersionNotFound(f"there is no model version {version!r}")
        return load_model(bytes(row[0]), name=f"version {version} in the database")

    def _store(self, version: str, network: MLP, meta: dict) -> None:
        data, stored = model_bytes(network, meta)
        self._store_file(version, data, stored)

    def _store_file(self, version: str, data: bytes, meta: dict) -> None:
        with self.db.connection() as connection:
            connection.execute(
                "INSERT INTO models (version, created, meta, sha256, file) "
                "VALUES (%s, %s, %s, %s, %s)",
                (version, meta.get("created", ""), json.dumps(meta), meta["sha256"], data),
            )

    def _set_active(self, version: str) -> None:
        with self.db.connection() as connection:
            connection.execute(
                "INSERT INTO active_model (singleton, version) VALUES (TRUE, %s) "
                "ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version, "
                "changes = active_model.changes + 1, changed = now()",
                (version,),
            )
            self.db.notify(connection, CHANNEL, version)

    def _remove(self, version: str) -> None:
        with self.db.connection() as connection:
            connection.execute("DELETE FROM models WHERE version = %s", (version,))

    def subscribe(self, changed: Callable[[], None]) -> Callable[[], None]:
        return self.db.listen(CHANNEL, changed)
