"""Undoing a delete: a deleted drawing is moved aside for ten minutes, not dropped at once.

The rules:
- A delete moves the row (its 28×28, original image, label, prediction, model version, time and
  id) into ``feedback_deleted``. Lists, counts, exports and training read ``feedback`` alone, so
  for them the drawing is gone at once.
- For ``UNDO_WINDOW`` a restore moves it back as it was, under its own id: ids are never given
  to another drawing, so it is still free. Two drawings alike (the same 28×28 and label, posted
  twice) are two drawings: undoing the delete of one brings it back beside the other.
- An import that stores a deleted drawing again (the same 28×28 and label, not stored at the
  time) has brought it back: what was kept aside for it is forgotten, so an Undo then finds
  nothing to restore rather than make a second copy.
- After that it cannot be restored, and it is removed for good by the next change to the store
  (a drawing stored, relabelled, deleted, restored or imported), by an admin's list of the
  drawings, or when the store opens: on a server in use that is soon after, and no server has to
  run a timer for it.

Both stores (SQLite and PostgreSQL) run these statements in one write transaction of their own;
``mark`` is the driver's placeholder ("?" for sqlite3, "%s" for psycopg). A row is read, then
deleted, and written to the other table only if this transaction's delete took it: when two
admins delete (or restore) the same drawing at once, PostgreSQL makes the second delete wait on
the row and then find nothing, and SQLite runs one write at a time. (Plain SQL: ``RETURNING``
needs SQLite 3.35, newer than some systems' Python 3.11 has.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

UNDO_WINDOW = timedelta(minutes=10)
COLUMNS = "id, created, label, predicted, model_version, pixels, original, digest"
_NAMES = COLUMNS.split(", ")

Execute = Callable[..., object]  # a connection's execute(sql, params) → its cursor


def _stamp(moment: datetime) -> str:
    # The form of ``app.feedback.store.now``, so that times compare as text in both databases.
    return moment.isoformat(timespec="milliseconds")


def forget_expired(execute: Execute, mark: str) -> None:
    """Remove for good what was deleted longer than UNDO_WINDOW ago."""
    cutoff = _stamp(datetime.now(UTC) - UNDO_WINDOW)
    execute(f"DELETE FROM feedback_deleted WHERE deleted < {mark}", (cutoff,))


def _take(execute: Execute, mark: str, table: str, sample_id: int) -> tuple | None:
    """Row ``sample_id`` of ``table`` (its COLUMNS), deleted from it; None if it is not there or
    another transaction took it first."""
    row = execute(f"SELECT {COLUMNS} FROM {table} WHERE id = {mark}", (sample_id,)).fetchone()
    if row is None:
        return None
    taken = execute(f"DELETE FROM {table} WHERE id = {mark}", (sample_id,)).rowcount
    return tuple(row) if taken else None


def delete(execute: Execute, mark: str, sample_id: int) -> bool:
    """Move one drawing aside; False when there is no such drawing."""
    forget_expired(execute, mark)
    row = _take(execute, mark, "feedback", sample_id)
    if row is None:
        return False
    values = ", ".join([mark] * (len(_NAMES) + 1))
    execute(
        f"INSERT INTO feedback_deleted ({COLUMNS}, deleted) VALUES ({values})",
        (*row, _stamp(datetime.now(UTC))),
    )
    return True


def restore(execute: Execute, mark: str, sample_id: int) -> tuple | None:
    """Put a drawing deleted within UNDO_WINDOW back: its row (its COLUMNS), or None when there
    is none to put back."""
    forget_expired(execute, mark)
    row = _take(execute, mark, "feedback_deleted", sample_id)
    if row is None:
        return None
    values = ", ".join([mark] * len(_NAMES))
    execute(f"INSERT INTO feedback ({COLUMNS}) VALUES ({values})", row)
    return row


def forget_stored_again(execute: Execute, mark: str, stored: set[tuple[str, int]]) -> None:
    """Forget the deleted drawings an import has just stored again: ``stored`` holds the
    (digest, label) of each drawing it added."""
    aside = execute("SELECT id, digest, label FROM feedback_deleted").fetchall()
    for sample_id, key in ((row[0], (row[1], row[2])) for row in aside):
        if key in stored:
            execute(f"DELETE FROM feedback_deleted WHERE id = {mark}", (sample_id,))
