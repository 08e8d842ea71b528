"""Feedback under stress, against the real server: concurrent posts, and SIGKILL mid-stream."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2
import numpy as np
import pytest
from admin_support import digits_serve
from drawings import SEVEN_PIXELS

from app.feedback.store import FeedbackStore


def _drawing(i: int) -> dict:
    """A distinct drawing for each i (the seven with one marker pixel), labelled i % 10."""
    rows = np.asarray(SEVEN_PIXELS, dtype=np.float32).copy()
    rows[1 + i // 26 % 26, 1 + i % 26] = 1.0
    return {"pixels": rows.tolist(), "label": i % 10, "model_version": f"post-{i}"}


def _rows(store: FeedbackStore) -> list[tuple[int, str, int]]:
    """(id, model_version, label) of every stored sample."""
    with store.snapshot() as snapshot:
        return [row for page in snapshot.rows("id", "model_version", "label") for row in page]


@pytest.fixture
def no_rate_limit(monkeypatch):
    monkeypatch.setenv("DIGITS_FEEDBACK_RATE_LIMIT", "0")


def test_50_concurrent_posts_are_all_stored_once(tmp_path, no_rate_limit):
    server = digits_serve(tmp_path / "home", tmp_path / "server.log", workers=2)
    with server, httpx2.Client(base_url=server.url, timeout=30) as client:
        barrier = threading.Barrier(50)

        def post(i: int) -> httpx2.Response:
            barrier.wait()
            return client.post("/api/feedback", json=_drawing(i))

        with ThreadPoolExecutor(50) as pool:
            responses = list(pool.map(post, range(50)))
    assert [r.status_code for r in responses] == [201] * 50, [r.text for r in responses][:3]
    ids = [r.json()["id"] for r in responses]
    assert len(set(ids)) == 50
    rows = _rows(FeedbackStore(tmp_path / "home"))
    assert sorted(i for i, _, _ in rows) == sorted(ids)  # none lost, none duplicated
    assert sorted(version for _, version, _ in rows) == sorted(f"post-{i}" for i in range(50))
    for _, version, label in rows:
        assert label == int(version.split("-")[1]) % 10


def test_sigkill_during_a_stream_of_posts_loses_nothing_that_got_201(tmp_path, no_rate_limit):
    acknowledged: dict[int, int] = {}  # id → the label it was posted with
    stop = threading.Event()
    lock = threading.Lock()
    server = digits_serve(tmp_path / "home", tmp_path / "server.log", workers=1).start()

    def stream(worker: int) -> None:
        i = worker
        with httpx2.Client(base_url=server.url, timeout=5) as client:
            while not stop.is_set():
                try:
                    r = client.post("/api/feedback", json=_drawing(i))
                except httpx2.HTTPError:
                    return  # the server is gone
                if r.status_code == 201:
                    with lock:
                        acknowledged[r.json()["id"]] = i % 10
                i += 4

    threads = [threading.Thread(target=stream, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 20
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()  # SIGKILL, mid-stream: requests are in flight
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        server.kill()
    assert len(acknowledged) >= 40, server.log()
    store = FeedbackStore(tmp_path / "home")
    store.open()  # the database is intact after the crash (this runs its integrity check)
    stored = {sample_id: label for sample_id, _, label in _rows(store)}
    missing = [i for i in acknowledged if i not in stored]
    assert missing == []
    assert all(stored[i] == label for i, label in acknowledged.items())
