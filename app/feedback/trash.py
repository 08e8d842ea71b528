"""Undoing a delete: a deleted drawing is moved aside for ten minutes, not dropped at once.

The rules:
- A delete moves the row (its 28×28, original image, label, prediction, model version, time and
  id) into ``feedback_deleted``. Lists, counts, exports and training read ``feedback`` alone, so
  for them the drawing is gone at once.
- For ``UNDO_WINDOW`` a restore moves it back as it was, under its own id: ids are never given
  to another drawing, so it is still free.
- After that it is removed for good by the next write of a drawing (a new one, a delete, a
  restore), or when the store opens: on a server in use that is soon after, and no server has
  to run a timer for it.

Both stores (SQLite and PostgreSQL) run these statements in one write transaction of their own;
``mark`` is the driver's placeholder ("?" for sqlite3, "%s" for psycopg). A row is taken out
with ``DELETE … RETURNING`` before it is written to the other table, so that two admins deleting
(or restoring) the same drawing at once cannot both move it: PostgreSQL makes the second wait on
the row and then find nothing, and SQLite runs one write at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

UNDO_WINDOW = timedelta(minutes=10)
COLUMNS = "id, created, label, predicted, model_version, pixels, original, digest"
_MOVED = len(COLUMNS.split(", "))

Execute = Callable[..., object]  # a connection's execute(sql, params) → its cursor


def _stamp(moment: datetime) -> str:
    # The form of ``app.feedback.store.now``, so that times compare as text in both databases.
    return moment.isoformat(timespec="milliseconds")


def forget_expired(execute: Execute, mark: str) -> None:
    """Remove for good what was deleted longer than UNDO_WINDOW ago."""
    cutoff = _stamp(datetime.now(UTC) - UNDO_WINDOW)
    execute(f"DELETE FROM feedback_deleted WHERE deleted < {mark}", (cutoff,))


def delete(execute: Execute, mark: str, sample_id: int) -> bool:
    """Move one drawing aside; False when there is no such drawing."""
    forget_expired(execute, mark)
    rows = execute(
        f"DELETE FROM feedback WHERE id = {mark} RETURNING {COLUMNS}", (sample_id,)
    ).fetchall()
    if not rows:
        return False
    values = ", ".join([mark] * (_MOVED + 1))
    execute(
        f"INSERT INTO feedback_deleted ({COLUMNS}, deleted) VALUES ({values})",
        (*rows[0], _stamp(datetime.now(UTC))),
    )
    return True


def restore(execute: Execute, mark: str, sample_id: int) -> bool:
    """Put a drawing deleted within UNDO_WINDOW back; False when there is none to put back."""
    forget_expired(execute, mark)
    rows = execute(
        f"DELETE FROM feedback_deleted WHERE id = {mark} RETURNING {COLUMNS}", (sample_id,)
    ).fetchall()
    if not rows:
        return False
    values = ", ".join([mark] * _MOVED)
    execute(f"INSERT INTO feedback ({COLUMNS}) VALUES ({values})", rows[0])
    return True
