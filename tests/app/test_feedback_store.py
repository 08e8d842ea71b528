"""The feedback store: WAL, versioned migrations, and a clear start-up error for a bad file."""

from __future__ import annotations

import sqlite3
import tracemalloc

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.feedback import store as fb
from app.feedback.store import DB_NAME, FeedbackStore, FeedbackStoreError, load_split
from app.main import create_app


def _pixels(value: int = 200) -> np.ndarray:
    x = np.zeros((28, 28), np.uint8)
    x[10:18, 12:16] = value
    return x


def _store_of_release(tmp_path, monkeypatch, version: int) -> FeedbackStore:
    """A store as the release at schema ``version`` made it (``monkeypatch.undo()`` to go on
    with this one's)."""
    monkeypatch.setattr(fb, "MIGRATIONS", fb.MIGRATIONS[:version])
    old = FeedbackStore(tmp_path)
    assert old.open() == version
    return old


def _add_as_released(store: FeedbackStore, pixels: np.ndarray, label: int, *row) -> int:
    """A drawing stored as an earlier release stored it (today's ``add`` also tidies the table
    of deleted drawings, which an early schema does not have): row is predicted, model_version,
    original."""
    predicted, version, original = (*row, None, None, None)[:3]
    data = fb.pixels_bytes(pixels)
    with sqlite3.connect(store.path) as db:
        cursor = db.execute(
            "INSERT INTO feedback (created, label, predicted, model_version, pixels, original, "
            "digest) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (fb.now(), label, predicted, version, data, original, fb.digest(data)),
        )
    return cursor.lastrowid


def test_a_new_store_is_wal_and_at_the_latest_schema(tmp_path):
    store = FeedbackStore(tmp_path)
    assert store.open() == fb.SCHEMA_VERSION == store.schema_version()
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        versions = [r[0] for r in db.execute("SELECT version FROM schema_migrations")]
    assert versions == list(range(1, fb.SCHEMA_VERSION + 1))
    assert store.open() == fb.SCHEMA_VERSION  # opening again changes nothing


def test_a_later_migration_keeps_the_data(tmp_path, monkeypatch):
    store = FeedbackStore(tmp_path)
    store.open()
    sample = store.add(_pixels(), 4, 9, "v1")
    step = [
        "ALTER TABLE feedback ADD COLUMN source VARCHAR(20)",
        "UPDATE feedback SET source = 'web'",
    ]
    monkeypatch.setattr(fb, "MIGRATIONS", [*fb.MIGRATIONS, step])
    assert store.open() == fb.SCHEMA_VERSION + 1 == store.schema_version()
    assert store.get(sample).label == 4 and store.get(sample).predicted == 9
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        assert db.execute("SELECT source FROM feedback").fetchall() == [("web",)]


def test_a_store_from_a_newer_release_is_refused_untouched(tmp_path):
    store = FeedbackStore(tmp_path)
    store.open()
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        db.execute("INSERT INTO schema_migrations VALUES (99, 'later')")
    with pytest.raises(FeedbackStoreError, match="newer than this release"):
        store.open()


def test_a_failed_write_is_rolled_back_whole(tmp_path):
    store = FeedbackStore(tmp_path)
    store.open()
    x = np.stack([_pixels(v) for v in (100, 150, 200)])
    with pytest.raises(sqlite3.IntegrityError):
        store.import_arrays(x, np.array([1, 2, 3]), predicted=np.array([1, 2, 42]))
    assert store.count() == 0  # the two good rows went with the bad one


@pytest.mark.parametrize("damage", ["garbage", "torn"])
def test_a_corrupt_database_stops_start_up_and_is_left_as_it_was(tmp_path, damage):
    path = tmp_path / DB_NAME
    if damage == "garbage":
        path.write_bytes(b"these are not the bytes of a SQLite database" * 100)
    else:
        store = FeedbackStore(tmp_path)
        store.open()
        for i in range(300):
            store.add(_pixels(i % 250 + 1), i % 10, original=bytes(2000))
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        data = bytearray(path.read_bytes())
        data[4096 * 3 : 4096 * 6] = b"\xa5" * (4096 * 3)  # scribble over pages in the middle
        path.write_bytes(bytes(data))
    before = path.read_bytes()
    app = create_app(Settings(home=tmp_path))
    with pytest.raises(FeedbackStoreError) as caught, TestClient(app):
        pass
    message = str(caught.value)
    assert str(path) in message and "cannot be read" in message and "untouched" in message
    assert path.read_bytes() == before  # never replaced by an empty store


def test_an_unreadable_file_stops_start_up(tmp_path):
    path = tmp_path / DB_NAME
    path.mkdir()  # a directory where the database should be
    with pytest.raises(FeedbackStoreError, match="cannot be read"):
        FeedbackStore(tmp_path).open()


def test_training_reads_only_pixels_and_labels(tmp_path):
    """Rows with 100,000-character model versions (stored before imports were checked) made
    every retrain load all their text: MemoryError. Training reads 785 bytes a drawing."""
    store = FeedbackStore(tmp_path)
    store.open()
    pixels = np.zeros((28, 28), np.uint8)
    with sqlite3.connect(store.path) as db:
        db.executemany(
            "INSERT INTO feedback (created, label, predicted, model_version, pixels, original, "
            "digest) VALUES ('2026-01-01', ?, NULL, ?, ?, NULL, 'd')",
            [(i % 10, "v" * 100_000, (pixels + i).tobytes()) for i in range(200)],
        )
    tracemalloc.start()
    try:
        split = load_split(tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(split.train_y) + len(split.held_y) == 200
    assert peak < 2_000_000, peak  # the versions alone are 20 MB


def test_a_version_1_store_is_migrated_to_take_not_a_digit_keeping_every_sample(
    tmp_path, monkeypatch
):
    """Version 2 lets a label be 10, "not a digit"; the rows of version 1 keep their ids."""
    old = _store_of_release(tmp_path, monkeypatch, 1)
    pixels = np.zeros((28, 28), np.uint8)
    first = _add_as_released(old, pixels, 7, 1, "v-1")
    with pytest.raises(sqlite3.IntegrityError):
        _add_as_released(old, pixels + 1, 10)  # version 1 refuses the label
    monkeypatch.undo()
    store = FeedbackStore(tmp_path)
    assert store.open() == fb.SCHEMA_VERSION
    assert store.get(first).label == 7 and store.get(first).model_version == "v-1"
    second = store.add(pixels + 2, 10, 3)
    assert store.get(second).label == 10 and store.get(second).wrong
    counts = store.counts()
    assert counts["not_a_digit"] == 1 and counts["wrong_not_a_digit"] == 1
    assert counts["by_label"][7] == 1 and len(counts["by_label"]) == 10


def test_a_version_2_store_keeps_its_ids_and_then_never_gives_one_again(tmp_path, monkeypatch):
    """SQLite without AUTOINCREMENT gave a new drawing the id of the newest one deleted, so an
    admin's stale page could act on the wrong drawing. From version 3 an id is never given
    again, and the drawings of version 2 keep theirs."""
    old = _store_of_release(tmp_path, monkeypatch, 2)
    pixels = np.zeros((28, 28), np.uint8)
    kept, deleted = _add_as_released(old, pixels, 7), _add_as_released(old, pixels + 1, 3)
    with sqlite3.connect(old.path) as connection:  # as that release deleted a drawing
        connection.execute("DELETE FROM feedback WHERE id = ?", (deleted,))
    assert _add_as_released(old, pixels + 2, 4) == deleted  # what version 3 ends
    monkeypatch.undo()
    store = FeedbackStore(tmp_path)
    assert store.open() == fb.SCHEMA_VERSION
    assert store.get(kept).label == 7 and store.get(deleted).label == 4
    newest = store.add(pixels + 3, 5)
    store.delete(newest)
    assert store.add(pixels + 4, 6) == newest + 1


def test_a_version_3_store_keeps_every_drawing_and_its_deletes_can_then_be_undone(
    tmp_path, monkeypatch
):
    """Version 4 adds the table a deleted drawing waits in (``app.feedback.trash``)."""
    old = _store_of_release(tmp_path, monkeypatch, 3)
    pixels = np.zeros((28, 28), np.uint8)
    first = _add_as_released(old, pixels, 7, 1, "v-1", b"png")
    monkeypatch.undo()
    store = FeedbackStore(tmp_path)
    assert store.open() == 4 == fb.SCHEMA_VERSION
    assert store.get(first).label == 7 and store.original(first) == b"png"
    assert store.delete(first) and store.count() == 0
    assert store.restore(first).model_version == "v-1" and store.original(first) == b"png"
