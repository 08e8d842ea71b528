"""The store of user-labelled drawings: SQLite in the data home (``<home>/feedback.db``).

Each sample keeps the preprocessed 28×28 as uint8 (what training uses), the original image as a
PNG when it is small enough, the label, the prediction and model version it corrects, and when it
came. Nothing that identifies a person is stored: no IP address, no user agent.

- WAL mode, ``synchronous=FULL``: every write is one transaction, durable when it returns, so a
  sample that got its 201 survives the server being killed.
- Versioned migrations (``schema_migrations``): a later release appends a step to ``MIGRATIONS``
  and existing data is carried over. A database from a newer release is refused, not touched.
- A file that is not a readable SQLite database, or fails its integrity check, stops start-up
  with ``FeedbackStoreError`` naming the file; it is never replaced or silently emptied.
- The SQL is standard (no SQLite-only types or upserts); the same interface over PostgreSQL, for
  replicas on several hosts, is ``app/db/feedback.py``.

Every connection is opened for one operation and closed after it: cheap for SQLite, safe across
threads and across the worker processes of one server.

(Over 300 lines on purpose: the schema, its migrations and every query on it are one unit, and
a change to one is checked against the others here.)
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from app.feedback import trash
from model.train import NOT_A_DIGIT  # the label of a drawing that is no digit at all

DB_NAME = "feedback.db"
PAGE_SIZE_MAX = 200
MODEL_VERSION_MAX_LENGTH = 200  # as the column is declared; posts and imports are held to it
# The text a model_version may hold: no control characters, C0, DEL or C1 (PostgreSQL's text
# cannot hold NUL, so one would be a 500 there and an export no PostgreSQL store could import).
MODEL_VERSION_TEXT = re.compile(r"[^\x00-\x1f\x7f-\x9f]*")
CREATED_MAX_LENGTH = 40  # an ISO 8601 time with milliseconds and offset takes 29

# Each step moves the schema from version i to i + 1. Never edit a released step: add one.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            created VARCHAR(40) NOT NULL,
            label SMALLINT NOT NULL CHECK (label BETWEEN 0 AND 9),
            predicted SMALLINT CHECK (predicted BETWEEN 0 AND 9),
            model_version VARCHAR(200),
            pixels BLOB NOT NULL,
            original BLOB,
            digest CHAR(64) NOT NULL
        )""",
        "CREATE INDEX feedback_label ON feedback (label)",
        "CREATE INDEX feedback_digest ON feedback (digest)",
    ],
    # 2: label 10 means "not a digit" (the model's eleventh class). SQLite cannot change a
    # CHECK in place, so the table is rebuilt, rows and ids carried over.
    [
        """CREATE TABLE feedback_2 (
            id INTEGER PRIMARY KEY,
            created VARCHAR(40) NOT NULL,
            label SMALLINT NOT NULL CHECK (label BETWEEN 0 AND 10),
            predicted SMALLINT CHECK (predicted BETWEEN 0 AND 9),
            model_version VARCHAR(200),
            pixels BLOB NOT NULL,
            original BLOB,
            digest CHAR(64) NOT NULL
        )""",
        "INSERT INTO feedback_2 SELECT id, created, label, predicted, model_version, pixels, "
        "original, digest FROM feedback",
        "DROP TABLE feedback",
        "ALTER TABLE feedback_2 RENAME TO feedback",
        "CREATE INDEX feedback_label ON feedback (label)",
        "CREATE INDEX feedback_digest ON feedback (digest)",
    ],
    # 3: an id is never given again (AUTOINCREMENT), as PostgreSQL's identity never is: without
    # it SQLite gave a new drawing the id of the newest one deleted, so an admin's stale page
    # could relabel or delete someone else's drawing. Rebuilt as for 2, rows and ids kept.
    [
        """CREATE TABLE feedback_3 (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created VARCHAR(40) NOT NULL,
            label SMALLINT NOT NULL CHECK (label BETWEEN 0 AND 10),
            predicted SMALLINT CHECK (predicted BETWEEN 0 AND 9),
            model_version VARCHAR(200),
            pixels BLOB NOT NULL,
            original BLOB,
            digest CHAR(64) NOT NULL
        )""",
        "INSERT INTO feedback_3 SELECT id, created, label, predicted, model_version, pixels, "
        "original, digest FROM feedback",
        "DROP TABLE feedback",
        "ALTER TABLE feedback_3 RENAME TO feedback",
        "CREATE INDEX feedback_label ON feedback (label)",
        "CREATE INDEX feedback_digest ON feedback (digest)",
    ],
    # 4: a deleted drawing is moved aside for a while, so that its delete can be undone.
    [
        """CREATE TABLE feedback_deleted (
            id INTEGER PRIMARY KEY,
            created VARCHAR(40) NOT NULL,
            label SMALLINT NOT NULL,
            predicted SMALLINT,
            model_version VARCHAR(200),
            pixels BLOB NOT NULL,
            original BLOB,
            digest CHAR(64) NOT NULL,
            deleted VARCHAR(40) NOT NULL
        )""",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)
_TRASH_VERSION = 4  # the step that made feedback_deleted (older steps are run by tests alone)


class FeedbackStoreError(RuntimeError):
    """The feedback database cannot be used safely (unreadable, corrupt, or too new)."""


@dataclass(frozen=True)
class Sample:
    id: int
    created: str
    label: int
    predicted: int | None
    model_version: str | None
    pixels: np.ndarray  # (28, 28) uint8, ink = 255
    has_original: bool

    @property
    def wrong(self) -> bool:
        return self.predicted is not None and self.predicted != self.label

    def thumbnail(self) -> str:
        """The 28×28 as a PNG data URL (light ink on dark, as the network sees it)."""
        return png_data_url(self.pixels)


def png_data_url(pixels: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, dtype=np.uint8).reshape(28, 28), "L").save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def digest(data: bytes) -> str:
    """Names a sample's 28×28 content, its ``pixels_bytes`` (import uses it to skip samples
    it already has)."""
    return hashlib.sha256(data).hexdigest()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


SAMPLE_COLUMNS = "id, created, label, predicted, model_version, pixels, original IS NOT NULL"


def sample_from_row(row) -> Sample:
    id_, created, label, predicted, version, pixels, has_original = row
    array = np.frombuffer(pixels, dtype=np.uint8).reshape(28, 28)
    return Sample(id_, created, label, predicted, version, array, bool(has_original))


def stored_sample(row: tuple) -> Sample:
    """A row of every stored column (``app.feedback.trash.COLUMNS``) → its Sample."""
    id_, created, label, predicted, version, pixels, original, _ = row
    return sample_from_row((id_, created, label, predicted, version, pixels, original is not None))


def page_query(
    mark: str, label: int | None, predicted: int | None, wrong_only: bool, page: int, per_page: int
) -> tuple[str, list, str, list]:
    """One page of samples, newest first, and how many match in all, as SQL for a driver whose
    placeholder is ``mark`` ("?" for SQLite, "%s" for psycopg): (count SQL, its arguments, page
    SQL, its arguments). Both stores ask it, so that they filter and page alike."""
    where, args = [], []
    if label is not None:
        where.append(f"label = {mark}")
        args.append(label)
    if predicted is not None:
        where.append(f"predicted = {mark}")
        args.append(predicted)
    if wrong_only:
        where.append("predicted IS NOT NULL AND predicted <> label")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    per_page = max(1, min(per_page, PAGE_SIZE_MAX))
    rows = (
        f"SELECT {SAMPLE_COLUMNS} FROM feedback{clause} ORDER BY id DESC LIMIT {mark} OFFSET {mark}"
    )
    offset = (max(page, 1) - 1) * per_page
    return f"SELECT COUNT(*) FROM feedback{clause}", args, rows, [*args, per_page, offset]


# Per label: how many samples, and how many of them the model had got wrong.
COUNTS_SQL = (
    "SELECT label, COUNT(*), SUM(CASE WHEN predicted IS NOT NULL AND predicted <> label THEN 1 "
    "ELSE 0 END) FROM feedback GROUP BY label"
)


def counts_from_rows(rows) -> dict:
    """COUNTS_SQL's rows → samples per digit (and not a digit), and how many of each were wrong."""
    by_label, wrong = [0] * 11, [0] * 11
    for label, n, w in rows:
        by_label[label], wrong[label] = int(n), int(w or 0)
    return {
        "total": sum(by_label),
        "wrong": sum(wrong),
        "by_label": by_label[:NOT_A_DIGIT],
        "wrong_by_label": wrong[:NOT_A_DIGIT],
        "not_a_digit": by_label[NOT_A_DIGIT],
        "wrong_not_a_digit": wrong[NOT_A_DIGIT],
    }


class FeedbackStore:
    """Labelled drawings in ``<home>/feedback.db``. Call ``open()`` once before use."""

    def __init__(self, home: Path):
        self.path = Path(home) / DB_NAME

    # -- connections, migrations, checks

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; every write says BEGIN itself.
        connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        connection.execute("PRAGMA busy_timeout = 30000")
        connection.execute("PRAGMA synchronous = FULL")
        return connection

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        connection = self._connect()
        try:
            yield connection
        finally:
            connection.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        finally:
            connection.close()

    def open(self) -> int:
        """Check the database, create or migrate it; returns the schema version.

        Raises FeedbackStoreError, naming the file and what to do, when the file is not a usable
        SQLite database. The file is left exactly as it was.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            if existed:
                self._check_integrity()
            with self._read() as connection:
                mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise FeedbackStoreError(f"{self.path}: could not switch to WAL mode ({mode})")
            return self._migrate()
        except sqlite3.DatabaseError as e:
            raise self._unreadable(e) from e

    def _unreadable(self, e: Exception) -> FeedbackStoreError:
        return FeedbackStoreError(
            f"the feedback database {self.path} cannot be read ({e}). It was left untouched. "
            f"Restore it from a backup or an export, or move it aside to start an empty store."
        )

    def _check_integrity(self) -> None:
        # Opened read-only, so that a damaged file is never written to while it is checked.
        uri = f"file:{self.path}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, timeout=30.0)
        try:
            result = [row[0] for row in connection.execute("PRAGMA quick_check").fetchall()]
        finally:
            connection.close()
        if result != ["ok"]:
            raise self._unreadable(sqlite3.DatabaseError("; ".join(map(str, result[:3]))))

    def _migrate(self) -> int:
        with self._write() as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, applied VARCHAR(40) NOT NULL)"
            )
            current = connection.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
            version, latest = current[0] or 0, len(MIGRATIONS)
            if version > latest:
                raise FeedbackStoreError(
                    f"the feedback database {self.path} has schema version {version}, newer "
                    f"than this release understands ({latest}); upgrade the app. The "
                    f"file was left untouched."
                )
            for step in range(version, latest):
                for statement in MIGRATIONS[step]:
                    connection.execute(statement)
                connection.execute(
                    "INSERT INTO schema_migrations (version, applied) VALUES (?, ?)",
                    (step + 1, now()),
                )
            if latest >= _TRASH_VERSION:
                trash.forget_expired(connection.execute, "?")
        return latest

    def schema_version(self) -> int:
        with self._read() as connection:
            return connection.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]

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
        with self._write() as connection:
            trash.forget_expired(connection.execute, "?")
            cursor = connection.execute(
                "INSERT INTO feedback (created, label, predicted, model_version, pixels, "
                "original, digest) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    created or now(),
                    int(label),
                    predicted,
                    model_version,
                    data,
                    original,
                    digest(data),
                ),
            )
            return int(cursor.lastrowid)

    def relabel(self, sample_id: int, label: int) -> Sample | None:
        with self._write() as connection:
            trash.forget_expired(connection.execute, "?")
            cursor = connection.execute(
                "UPDATE feedback SET label = ? WHERE id = ?", (int(label), sample_id)
            )
            if cursor.rowcount == 0:
                return None
        return self.get(sample_id)

    def delete(self, sample_id: int) -> bool:
        """Move a drawing aside, where ``restore`` can bring it back (``app.feedback.trash``)."""
        with self._write() as connection:
            return trash.delete(connection.execute, "?", sample_id)

    def restore(self, sample_id: int) -> Sample | None:
        """The drawing deleted within the undo window, back as it was under its own id; None if
        there is none."""
        with self._write() as connection:
            row = trash.restore(connection.execute, "?", sample_id)
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
        """Add the samples not already stored (same 28×28 and label); one transaction. A sample
        deleted in the undo window and added here cannot be restored as well (``trash``).
        Returns (added, skipped)."""
        stored: set[tuple[str, int]] = set()  # (digest, label) of each sample added
        skipped = 0
        stamp = now()
        with self._write() as connection:
            trash.forget_expired(connection.execute, "?")
            have = set(connection.execute("SELECT digest, label FROM feedback").fetchall())
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
                connection.execute(
                    "INSERT INTO feedback (created, label, predicted, model_version, pixels, "
                    "original, digest) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (when, key[1], guess, version, data, image, key[0]),
                )
                have.add(key)
                stored.add(key)
            trash.forget_stored_again(connection.execute, "?", stored)
        return len(stored), skipped

    # -- reads

    def get(self, sample_id: int) -> Sample | None:
        with self._read() as connection:
            row = connection.execute(
                f"SELECT {SAMPLE_COLUMNS} FROM feedback WHERE id = ?", (sample_id,)
            ).fetchone()
        return None if row is None else sample_from_row(row)

    def original(self, sample_id: int) -> bytes | None:
        with self._read() as connection:
            row = connection.execute(
                "SELECT original FROM feedback WHERE id = ?", (sample_id,)
            ).fetchone()
        return None if row is None else row[0]

    def list_samples(
        self,
        label: int | None = None,
        predicted: int | None = None,
        wrong_only: bool = False,
        page: int = 1,
        per_page: int = 48,
    ) -> tuple[list[Sample], int]:
        """One page of samples, newest first, and how many match in all."""
        count, args, rows, page_args = page_query("?", label, predicted, wrong_only, page, per_page)
        with self._read() as connection:
            # (an admin's look tidies up too: one statement, its own transaction, as in autocommit)
            trash.forget_expired(connection.execute, "?")
            total = connection.execute(count, args).fetchone()[0]
            samples = [sample_from_row(r) for r in connection.execute(rows, page_args)]
        return samples, int(total)

    def counts(self) -> dict:
        """Samples per digit (and not a digit), and how many of each the model had got wrong."""
        with self._read() as connection:
            return counts_from_rows(connection.execute(COUNTS_SQL).fetchall())

    def count(self) -> int:
        with self._read() as connection:
            return int(connection.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def labelled_pixels(self) -> tuple[np.ndarray, np.ndarray]:
        """Every sample's 28×28 and label, oldest first: x (n, 28, 28) uint8, y (n,) uint8."""
        return labelled_pixels(self)

    def exists(self) -> bool:
        """Whether the store has been created (training leaves a data home without one)."""
        return self.path.is_file()

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """One consistent read of the whole store: every query made through it sees the same
        rows, however many are added or deleted meanwhile (a read transaction in WAL mode)."""
        with self._read() as connection:
            connection.execute("BEGIN")
            try:
                yield Snapshot(connection)
            finally:
                connection.execute("ROLLBACK")


# Columns a snapshot may read (names are put in SQL, so they come from this list only), and the
# original's length, which an export reads without reading the image itself.
READABLE_COLUMNS = frozenset(
    {"id", "created", "label", "predicted", "model_version", "pixels", "original"}
    | {"LENGTH(original)"}
)


class Snapshot:
    """Reads of the store inside one read transaction (``FeedbackStore.snapshot``)."""

    def __init__(self, connection: sqlite3.Connection):
        self._connection = connection

    def count(self) -> int:
        return int(self._connection.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def longest(self, column: str) -> int:
        """The length of the longest value of a text column (0 when there is none)."""
        sql = f"SELECT MAX(LENGTH({readable_column(column)})) FROM feedback"
        return int(self._connection.execute(sql).fetchone()[0] or 0)

    def total_length(self, column: str) -> int:
        """The bytes (or characters) of a column's values added up (0 when there are none)."""
        sql = f"SELECT SUM(LENGTH({readable_column(column)})) FROM feedback"
        return int(self._connection.execute(sql).fetchone()[0] or 0)

    def rows(self, *columns: str, page: int = 1000) -> Iterator[list[tuple]]:
        """The columns of every sample, oldest first, ``page`` rows at a time (memory stays
        flat however large the store)."""
        names = ", ".join(readable_column(c) for c in columns)
        cursor = self._connection.execute(f"SELECT {names} FROM feedback ORDER BY id")
        while rows := cursor.fetchmany(page):
            yield rows


def readable_column(name: str) -> str:
    if name not in READABLE_COLUMNS:
        raise ValueError(f"not a readable column: {name!r}")
    return name


def pixels_bytes(pixels: np.ndarray) -> bytes:
    array = np.asarray(pixels)
    if array.dtype != np.uint8 or array.size != 784:
        raise ValueError("pixels must be 784 uint8 values (a 28×28 image)")
    return np.ascontiguousarray(array).tobytes()


def labelled_pixels(store) -> tuple[np.ndarray, np.ndarray]:
    """Every sample's 28×28 and label from a store (either back-end), oldest first: x (n, 28,
    28) uint8, y (n,) uint8. Only those two columns are read (785 bytes a sample), which is all
    training needs."""
    with store.snapshot() as snapshot:
        n = snapshot.count()
        x = np.empty((n, 28 * 28), dtype=np.uint8)
        y = np.empty(n, dtype=np.uint8)
        done = 0
        for rows in snapshot.rows("pixels", "label"):
            end = done + len(rows)
            pixels = b"".join(bytes(r[0]) for r in rows)
            x[done:end] = np.frombuffer(pixels, dtype=np.uint8).reshape(len(rows), 28 * 28)
            y[done:end] = [r[1] for r in rows]
            done = end
    return x.reshape(n, 28, 28), y


def load_split(source):
    """The stored drawings as training data: a ``model.feedback_data.FeedbackSplit`` of their
    training and held-back parts, or None when there are none. ``source`` is a store (either
    back-end) or a data home. Only their pixels and labels are read (785 bytes a drawing). A data
    home without a feedback database is left without one."""
    from model.feedback_data import split_feedback

    store = FeedbackStore(source) if isinstance(source, str | Path) else source
    if not store.exists():
        return None
    store.open()  # checks the file (a clear error if it is damaged) and its schema
    x, y = store.labelled_pixels()
    return split_feedback(x, y) if len(y) else None
