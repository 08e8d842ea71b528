"""The labelled drawings in PostgreSQL: ``app.feedback.store``'s interface, for every host.

The rows are the SQLite store's (its schema version 4: label 10 meaning "not a digit", a
deleted drawing kept aside for an undo), created by the database's migrations (``app.db.schema``)
rather than by ``open``. Each write is one transaction, committed before the 201 goes out, so a
sample that got its 201 is in the database whichever replica took it. An export reads one
consistent snapshot (a repeatable-read transaction) through a server-side cursor, a page at a
time, so memory stays flat.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from app.db.connection import Database
from app.feedback import trash
from app.feedback.store import (
    COUNTS_SQL,
    SAMPLE_COLUMNS,
    Sample,
    Snapshot,
    counts_from_rows,
    digest,
    labelled_pixels,
    now,
    page_query,
    pixels_bytes,
    readable_column,
    sample_from_row,
    stored_sample,
)

_INSERT = (
    "INSERT INTO feedback (created, label, predicted, model_version, pixels, original, digest) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


class PgFeedbackStore:
    """Labelled drawings in the shared database's ``feedback`` table."""

    def __init__(self, db: Database):
        self.db = db

    def open(self) -> int:
        """Nothing to create: the migrations made the tables. Forgets the drawings deleted
        longer ago than the undo window; returns the schema version."""
        with self.db.transaction() as connection:
            trash.forget_expired(connection.execute, "%s")
        return self.schema_version()

    def exists(self) -> bool:
        return True

    def schema_version(self) -> int:
        from app.db.schema import current_version

        return current_version(self.db)

    # -- writes

    def add(
        self,
        pixels: np.ndarray,
        label: int,
        predicted: int | None = None,
        model_version: str | None = None,
        original: bytes | None = None,
        created: str | None = None,
    ) -> int:
        """Store one sample: pixels (28, 28) or (784,) uint8. Returns its id."""
        data = pixels_bytes(pixels)
        row = (created or now(), int(label), predicted, model_version, data, original, digest(data))
        with self.db.transaction() as connection:
            trash.forget_expired(connection.execute, "%s")
            return int(connection.execute(_INSERT + " RETURNING id", row).fetchone()[0])

    def relabel(self, sample_id: int, label: int) -> Sample | None:
        with self.db.transaction() as connection:
            trash.forget_expired(connection.execute, "%s")
            cursor = connection.execute(
                "UPDATE feedback SET label = %s WHERE id = %s", (int(label), sample_id)
            )
        return self.get(sample_id) if cursor.rowcount else None

    def delete(self, sample_id: int) -> bool:
        """Move a drawing aside, where ``restore`` can bring it back (``app.feedback.trash``)."""
        with self.db.transaction() as connection:
            return trash.delete(connection.execute, "%s", sample_id)

    def restore(self, sample_id: int) -> Sample | None:
        """The drawing deleted within the undo window, back as it was under its own id; None if
        there is none."""
        with self.db.transaction() as connection:
            # As an import does: one running at the same time then either finds the drawing back
            # (and skips it) or has stored it again and forgotten it here first.
            connection.execute("LOCK TABLE feedback IN SHARE ROW EXCLUSIVE MODE")
            row = trash.restore(connection.execute, "%s", sample_id)
        return None if row is None else stored_sample(row)

    def import_arrays(
        self,
        x: np.ndarray,
        y: np.ndarray,
        predicted: np.ndarray | None = None,
        model_version: np.ndarray | None = None,
        created: np.ndarray | None = None,
        original: list[bytes | None] | None = None,
    ) -> tuple[int, int]:
        """Add the samples not already stored (same 28×28 and label); one transaction, which
        holds off other writes meanwhile so two imports cannot both add a sample. A sample
        deleted in the undo window and added here cannot be restored as well (``trash``).
        Returns (added, skipped)."""
        stamp, rows, skipped = now(), [], 0
        with self.db.transaction() as connection:
            connection.execute("LOCK TABLE feedback IN SHARE ROW EXCLUSIVE MODE")
            trash.forget_expired(connection.execute, "%s")
            have = {
                (d, label) for d, label in connection.execute("SELECT digest, label FROM feedback")
            }
            for i in range(len(y)):
                data = pixels_bytes(x[i])
                key = (digest(data), int(y[i]))
                if key in have:
                    skipped += 1
                    continue
                guess = None if predicted is None or predicted[i] < 0 else int(predicted[i])
                version = None if model_version is None else (str(model_version[i]) or None)
                when = stamp if created is None else (str(created[i]) or stamp)
                image = None if original is None else original[i]
                rows.append((when, key[1], guess, version, data, image, key[0]))
                have.add(key)
            with connection.cursor() as cursor:
                cursor.executemany(_INSERT, rows)
            added = {(row[6], row[1]) for row in rows}  # (digest, label), as _INSERT orders them
            trash.forget_stored_again(connection.execute, "%s", added)
        return len(rows), skipped

    # -- reads

    def get(self, sample_id: int) -> Sample | None:
        with self.db.connection() as connection:
            row = connection.execute(
                f"SELECT {SAMPLE_COLUMNS} FROM feedback WHERE id = %s", (sample_id,)
            ).fetchone()
        return None if row is None else sample_from_row(row)

    def original(self, sample_id: int) -> bytes | None:
        with self.db.connection() as connection:
            row = connection.execute(
                "SELECT original FROM feedback WHERE id = %s", (sample_id,)
            ).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def list_samples(
        self,
        label: int | None = None,
        predicted: int | None = None,
        wrong_only: bool = False,
        page: int = 1,
        per_page: int = 48,
    ) -> tuple[list[Sample], int]:
        """One page of samples, newest first, and how many match in all."""
        count, args, rows, page_args = page_query(
            "%s", label, predicted, wrong_only, page, per_page
        )
        with self.db.connection() as connection:
            trash.forget_expired(connection.execute, "%s")  # (an admin's look tidies up, too)
            total = connection.execute(count, args).fetchone()[0]
            samples = [sample_from_row(r) for r in connection.execute(rows, page_args).fetchall()]
        return samples, int(total)

    def counts(self) -> dict:
        """Samples per digit (and not a digit), and how many of each the model had got wrong."""
        with self.db.connection() as connection:
            return counts_from_rows(connection.execute(COUNTS_SQL).fetchall())

    def count(self) -> int:
        with self.db.connection() as connection:
            return int(connection.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def labelled_pixels(self) -> tuple[np.ndarray, np.ndarray]:
        """Every sample's 28×28 and label, oldest first: x (n, 28, 28) uint8, y (n,) uint8."""
        return labelled_pixels(self)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[PgSnapshot]:
        """One consistent read of the whole store (a read-only repeatable-read transaction)."""
        with self.db.transaction() as connection:
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield PgSnapshot(connection)


class PgSnapshot(Snapshot):
    """``Snapshot``'s reads, with the rows streamed through a server-side cursor."""

    def rows(self, *columns: str, page: int = 1000) -> Iterator[list[tuple]]:
        names = ", ".join(readable_column(c) for c in columns)
        with self._connection.cursor(name="feedback_rows") as cursor:
            cursor.itersize = page
            cursor.execute(f"SELECT {names} FROM feedback ORDER BY id")
            while rows := cursor.fetchmany(page):
                yield rows
