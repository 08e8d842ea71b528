"""The stores' contract, run against both back-ends: the data home (files, SQLite, memory) and
PostgreSQL. Each test takes the ``stores`` fixture, so it runs once per back-end."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import threading
import time
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import numpy as np
import psycopg
import pytest

from app.feedback import trash
from app.feedback.export import read_export, write_export
from app.feedback.store import load_split
from app.jobs.manager import CANCEL_SIGNAL
from app.jobs.process import Runner, _Stop
from app.jobs.store import JobBusy, JobNotFound, JobStore, now
from model.modelfile import ModelFileError, read_meta
from model.network import MLP
from model.registry import SHIPPED_MODEL, VersionNotFound

# ---- the model registry -------------------------------------------------------------------------


def _corrupt(stores, version: str) -> None:
    """Damage a stored version's file, as a disk or a bad write could."""
    if stores.shared:
        with stores.database.connection() as connection:
            connection.execute("UPDATE models SET file = 'garbage' WHERE version = %s", (version,))
    else:
        stores.registry.path(version).write_bytes(b"garbage")


def test_a_fresh_registry_starts_on_the_shipped_model(stores):
    registry = stores.registry
    assert registry.active_version() is None
    version = registry.ensure_initialised()
    assert version == read_meta(SHIPPED_MODEL)["version"]
    assert registry.versions() == [version]
    assert registry.load_active().version == version
    assert registry.ensure_initialised() == version  # a second start changes nothing


def test_versions_are_added_activated_and_deleted(stores):
    registry = stores.registry
    first = registry.ensure_initialised()
    stamp = registry.active_stamp()
    second = registry.add(MLP([784, 8, 10], seed=1), {"metrics": {"mnist_test_accuracy": 0.5}})
    assert registry.active_version() == first, "a new version is not active until promoted"
    registry.activate(second)
    assert registry.active_version() == second and registry.active_stamp() != stamp
    assert [m["version"] for m in registry.metas()][0] == second
    assert registry.load(second).meta["metrics"] == {"mnist_test_accuracy": 0.5}
    with pytest.raises(ValueError, match="active"):
        registry.delete(second)
    registry.delete(first)
    assert registry.versions() == [second]
    with pytest.raises(VersionNotFound):
        registry.delete(first)
    with pytest.raises(VersionNotFound):
        registry.load("no-such-version")
    with pytest.raises(ModelFileError, match="not a valid model version"):
        registry.load("../etc")


def test_a_damaged_version_is_never_activated(stores):
    registry = stores.registry
    first = registry.ensure_initialised()
    bad = registry.add(MLP([784, 8, 10], seed=1), {})
    _corrupt(stores, bad)
    with pytest.raises(ModelFileError):
        registry.activate(bad)
    assert registry.active_version() == first
    for sizes in ([784, 16, 5], [100, 10]):
        wrong = registry.add(MLP(sizes, seed=0), {})
        with pytest.raises(ModelFileError, match="not a digit model"):
            registry.activate(wrong)
    assert registry.active_version() == first


def test_fall_back_serves_the_newest_version_that_loads(stores):
    registry = stores.registry
    registry.ensure_initialised()
    good = registry.add(MLP([784, 8, 10], seed=1), {})
    time.sleep(1.1)  # versions are ordered by their creation second
    bad = registry.add(MLP([784, 8, 10], seed=2), {})
    registry.activate(bad)
    _corrupt(stores, bad)
    assert registry.fall_back() == good
    assert registry.active_version() == good
    assert registry.fall_back() is None


def test_an_activation_and_a_deletion_of_one_version_never_both_succeed(stores):
    registry = stores.registry
    registry.ensure_initialised()
    outcomes = []
    for _ in range(6):
        version = registry.add(MLP([784, 64, 10], seed=2), {})
        barrier, done = threading.Barrier(2), {}

        def attempt(name, action, version=version, barrier=barrier, done=done):
            barrier.wait()
            try:
                action(version)
                done[name] = True
            except (ModelFileError, ValueError):
                done[name] = False

        threads = [
            threading.Thread(target=attempt, args=("activate", registry.activate)),
            threading.Thread(target=attempt, args=("delete", registry.delete)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        outcomes.append((done["activate"], done["delete"]))
        registry.load(registry.active_version())  # the active version exists
    assert (True, True) not in outcomes and all(a or d for a, d in outcomes)


# ---- training jobs ------------------------------------------------------------------------------


def _record(job_id: str) -> dict:
    fields = {"created": now(), "history": [], "notes": [], "request": {}}
    return {"id": job_id, "status": "queued", "result": None, "reason": None, "pid": None, **fields}


def _let_go(stores, claim) -> None:
    """The lock's holder vanishes without a word (a killed process, a dead host)."""
    claim.close()
    if stores.shared:
        time.sleep(stores.jobs.lease_seconds + 0.3)  # its lease runs out


def test_one_job_at_a_time_and_the_lock_goes_with_the_record(stores):
    jobs = stores.jobs
    first = _record("j-20260101-000000-aaaaaa")
    claim = jobs.claim(first)
    assert jobs.read(first["id"])["status"] == "queued"
    with pytest.raises(JobBusy) as busy:
        jobs.claim(_record("j-20260101-000001-bbbbbb"))
    assert busy.value.job_id == first["id"]
    with jobs.hold(first["id"], claim.args) as held:
        claim.close()
        assert not held.lost
        jobs.finish(first, "succeeded", "done")
    second = _record("j-20260101-000002-cccccc")
    jobs.claim(second).close()
    assert [r["id"] for r in jobs.records()] == [second["id"], first["id"]]
    assert jobs.ids() == [second["id"], first["id"]]
    assert jobs.read(first["id"])["status"] == "succeeded"


def _open_in_a_forked_child(fd: int) -> bool:
    """Whether descriptor ``fd`` is still open in a child forked now."""
    pid = os.fork()
    if pid == 0:
        try:
            os.fstat(fd)
        except OSError:
            os._exit(1)
        os._exit(0)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def test_a_forked_child_closes_the_job_lock_only_while_it_is_held(tmp_path):
    """A forked helper of the job (the augmentation worker) must not keep the lock alive. The
    handler that closed it in the child used to stay after the lock was let go, and closed in
    every later child whatever file had the number since: in one test process, a worker pool's
    pipe, and its workers died as they started, for ever (the run hung)."""
    jobs = JobStore(tmp_path)
    record = _record("j-20260101-000000-aaaaaa")
    claim = jobs.claim(record)
    fd = int(claim.args[0])
    with jobs.hold(record["id"], claim.args):
        assert not _open_in_a_forked_child(fd)
    assert _open_in_a_forked_child(fd)  # let go: the parent's descriptor is no longer the lock's
    claim.close()
    other = os.open(os.devnull, os.O_RDONLY)
    if other != fd:  # another file takes the lock's old number
        os.dup2(other, fd)
        os.close(other)
    try:
        assert _open_in_a_forked_child(fd)
    finally:
        os.close(fd)


def test_a_job_whose_holder_vanished_is_marked_interrupted(stores):
    jobs = stores.jobs
    record = _record("j-20260101-000000-dddddd")
    _let_go(stores, jobs.claim(record))
    assert jobs.reconcile() == [record["id"]]
    job = jobs.read(record["id"])
    assert job["status"] == "interrupted" and job["finished"]
    assert jobs.reconcile() == []
    jobs.claim(_record("j-20260101-000001-eeeeee")).close()  # the lock is free again


def test_a_job_that_ends_while_another_worker_reconciles_keeps_its_result(tmp_path, monkeypatch):
    """Another worker's reconcile reads the job as running; the job then writes its result and
    lets go of the lock; the reconcile, now finding the lock free, must not mark it interrupted.
    (The file store's race: PostgreSQL's reconcile reads the records under its lock.)"""
    jobs = JobStore(tmp_path)
    record = _record("j-20260101-000000-fedcba")
    claim = jobs.claim(record)
    read_records = jobs.records

    def records_then_the_job_ends(limit=None):
        seen = read_records(limit)
        with jobs.hold(record["id"], claim.args):
            claim.close()
            jobs.finish(dict(record), "succeeded", "promoted", result={"accuracy": 0.99})
        return seen

    monkeypatch.setattr(jobs, "records", records_then_the_job_ends)
    assert jobs.reconcile() == []
    job = jobs.read(record["id"])
    assert (job["status"], job["result"]) == ("succeeded", {"accuracy": 0.99})
    events, _ = jobs.read_events(record["id"], 0)
    assert [e["status"] for e in events if e["kind"] == "status"] == ["queued", "succeeded"]


def test_reconcile_leaves_a_job_it_is_told_to_skip_for_its_reaper(stores):
    """A server skips its own children: each one's reaper records how it ended (the signal that
    killed it), which a reconcile racing it would have replaced with a vaguer reason."""
    jobs = stores.jobs
    record = _record("j-20260101-000000-abcabc")
    _let_go(stores, jobs.claim(record))
    assert jobs.reconcile(skip={record["id"]}) == []
    assert jobs.read(record["id"])["status"] == "queued"
    assert jobs.reconcile() == [record["id"]]


def test_the_first_ending_of_a_job_stands(stores):
    """A job's reaper and another worker's reconcile may both end a dead job: the first ending
    is kept, and the stream announces one."""
    jobs = stores.jobs
    record = _record("j-20260101-000000-e0e0e0")
    jobs.claim(record).close()
    jobs.finish(dict(record), "failed", "the training process was killed by SIGKILL")
    jobs.finish(dict(record), "interrupted", "the server stopped or the process was killed")
    job = jobs.read(record["id"])
    assert (job["status"], job["reason"]) == (
        "failed",
        "the training process was killed by SIGKILL",
    )
    events, _ = jobs.read_events(record["id"], 0)
    assert [e["status"] for e in events if e["kind"] == "status"] == ["queued", "failed"]


def test_events_are_read_in_order_from_where_the_reader_stopped(stores):
    jobs = stores.jobs
    record = _record("j-20260101-000000-ffffff")
    jobs.claim(record).close()
    events, offset = jobs.read_events(record["id"], 0)
    assert events == [{"kind": "status", "status": "queued"}]
    for epoch in (1, 2):
        jobs.append_event(record["id"], {"kind": "epoch", "epoch": epoch})
    more, offset = jobs.read_events(record["id"], offset)
    assert [e["epoch"] for e in more] == [1, 2]
    assert jobs.read_events(record["id"], offset) == ([], offset)
    record["notes"].append("a note the run made")
    jobs.finish(record, "cancelled", "by a test")
    last, _ = jobs.read_events(record["id"], offset)
    assert last[0]["status"] == "cancelled" and last[0]["reason"] == "by a test"
    assert last[0]["notes"] == ["a note the run made"]  # the page shows them when a job ends


def test_a_cancel_can_be_asked_before_the_job_has_started(stores):
    jobs = stores.jobs
    record = _record("j-20260101-000000-cccccc")
    jobs.claim(record).close()
    assert not jobs.cancel_requested(record["id"])
    jobs.request_cancel(record["id"])
    assert jobs.cancel_requested(record["id"])


def test_a_job_cancelled_before_its_process_started_ends_cancelled(stores):
    """The cancel is flagged before the job's process takes the lock (with PostgreSQL it then
    arrives as a signal while the lease is first renewed): the job ends "cancelled", not as a
    process that died, and the lock is free for the next job."""
    jobs = stores.jobs
    record = _record("j-20260101-000000-c0ffee")
    claim = jobs.claim(record)
    jobs.request_cancel(record["id"])
    runner = Runner(stores, record["id"], timeout_seconds=600)
    previous = signal.signal(CANCEL_SIGNAL, runner.on_signal)
    try:
        assert runner.run(claim.args) == 0
    finally:
        signal.signal(CANCEL_SIGNAL, previous)
        claim.close()
    job = jobs.read(record["id"])
    assert (job["status"], job["reason"]) == ("cancelled", "cancelled by an admin")
    jobs.claim(_record("j-20260101-000001-c0ffee")).close()  # the lock is free again


def test_a_stop_as_the_job_says_it_is_running_is_recorded_under_the_lock(tmp_path, monkeypatch):
    """A cancel's signal may land the moment the job has written its pid: the job must write
    how it ended while it still holds the lock, or another worker's reconcile, finding the lock
    free, marks it interrupted first (two final events)."""
    jobs = JobStore(tmp_path)
    record = _record("j-20260101-000000-5a5a5a")
    claim = jobs.claim(record)
    job_lock = os.dup(int(claim.args[0]))  # the job process's own descriptor
    claim.close()  # the server's copy, closed once the process is spawned
    runner = Runner(SimpleNamespace(jobs=jobs), record["id"], timeout_seconds=600)
    append, finish, lock_free = jobs.append_event, jobs.finish, []

    def append_then_signal(job_id, event):
        append(job_id, event)
        if event.get("status") == "running":
            raise _Stop("cancelled", "cancelled by an admin")

    def finish_seen_by_another_worker(*args, **kwargs):
        other = JobStore(tmp_path)
        fd = other.try_lock()
        lock_free.append(fd is not None)
        if fd is not None:
            os.close(fd)
        return finish(*args, **kwargs)

    monkeypatch.setattr(jobs, "append_event", append_then_signal)
    monkeypatch.setattr(jobs, "finish", finish_seen_by_another_worker)
    assert runner.run([str(job_lock)]) == 0
    assert lock_free == [False]
    events, _ = jobs.read_events(record["id"], 0)
    assert [e["status"] for e in events if e["kind"] == "status"] == [
        "queued",
        "running",
        "cancelled",
    ]


@pytest.mark.parametrize(
    "job_id", ["j-1", "../../etc/passwd", "x" * 5000, "j-20260101-000000-zzzzzz"]
)
def test_unknown_and_malformed_job_ids_are_not_found(stores, job_id):
    with pytest.raises(JobNotFound):
        stores.jobs.read(job_id)


# ---- feedback -----------------------------------------------------------------------------------


def _pixels(value: int) -> np.ndarray:
    x = np.zeros((28, 28), np.uint8)
    x[8:20, 10:18] = value
    return x


def test_feedback_is_stored_listed_counted_relabelled_and_deleted(stores):
    store = stores.feedback
    ids = [
        store.add(_pixels(10 + i), i % 11, (i + 1) % 10, "v-1", b"png" if i == 0 else None)
        for i in range(15)
    ]
    sample = store.get(ids[0])
    assert sample.label == 0 and sample.predicted == 1 and sample.model_version == "v-1"
    assert sample.has_original and store.original(ids[0]) == b"png"
    assert np.array_equal(sample.pixels, _pixels(10))
    page, total = store.list_samples(per_page=4, page=2)
    assert total == 15 and [s.id for s in page] == ids[::-1][4:8]
    assert store.list_samples(label=10)[1] == 1  # "not a digit"
    assert store.list_samples(predicted=1)[1] == 2
    assert store.list_samples(wrong_only=True)[1] == 15
    counts = store.counts()
    assert counts["total"] == 15 and counts["not_a_digit"] == 1 and len(counts["by_label"]) == 10
    assert store.relabel(ids[0], 1).label == 1 and not store.get(ids[0]).wrong
    assert store.relabel(10**12, 1) is None
    assert store.delete(ids[1]) and not store.delete(ids[1]) and store.get(ids[1]) is None
    assert store.count() == 14


def test_the_id_of_a_deleted_drawing_is_never_given_again(stores):
    """An admin's page listing drawing 2 must not relabel or delete another drawing that took
    its id after it was deleted."""
    store = stores.feedback
    first, newest = store.add(_pixels(10), 1), store.add(_pixels(20), 2)
    assert store.delete(newest)
    assert store.add(_pixels(30), 3) > newest and store.get(newest) is None
    assert store.get(first).label == 1


def test_a_delete_can_be_undone_within_its_window_and_then_never(stores, monkeypatch):
    """A deleted drawing is out of every list, count, export and training split at once, and a
    restore brings it back whole, under its own id; one deleted longer ago than UNDO_WINDOW is
    removed for good by the next drawing stored."""
    store = stores.feedback
    kept = store.add(_pixels(10), 4, 9, "v-1", b"png")
    other = store.add(_pixels(20), 7, 7)
    assert store.delete(kept) and store.get(kept) is None and store.original(kept) is None
    assert store.count() == 1 and store.counts()["by_label"][4] == 0
    assert len(load_split(store).train_y) + len(load_split(store).held_y) == 1
    assert write_export(store, io.BytesIO()) == 1
    back = store.restore(kept)
    assert (back.id, back.label, back.predicted, back.model_version) == (kept, 4, 9, "v-1")
    assert np.array_equal(back.pixels, _pixels(10)) and store.original(kept) == b"png"
    assert store.restore(kept) is None and store.restore(10**12) is None  # nothing left aside
    assert store.count() == 2

    assert store.delete(kept) and _kept_aside(stores) == 1
    _ten_minutes_on(monkeypatch)
    assert store.add(_pixels(30), 1) > other  # its id is never given again…
    assert _kept_aside(stores) == 0  # …and the new drawing removed it for good, in passing
    assert store.restore(kept) is None
    assert store.delete(other) and store.restore(other).label == 7  # deleted "just now"


def _ten_minutes_on(monkeypatch) -> None:
    """The trash's clock, moved past the undo window."""
    later = datetime.now(UTC) + trash.UNDO_WINDOW + timedelta(seconds=1)
    monkeypatch.setattr(trash, "datetime", SimpleNamespace(now=lambda tz: later))


@pytest.mark.parametrize(
    "change",
    [
        lambda store, ids: store.add(_pixels(50), 5),
        lambda store, ids: store.relabel(ids[1], 2),
        lambda store, ids: store.delete(10**12),
        lambda store, ids: store.restore(10**12),
        lambda store, ids: store.import_arrays(_pixels(60)[None], np.array([6])),
        lambda store, ids: store.list_samples(),
        lambda store, ids: store.open(),
    ],
    ids=["add", "relabel", "delete", "restore", "import", "list", "open"],
)
def test_every_change_and_an_admins_look_remove_an_expired_delete(stores, monkeypatch, change):
    """A deleted drawing is kept no longer than the undo window on a server where only an admin
    works: any change to the drawings, a list of them, or a start removes it for good."""
    store = stores.feedback
    ids = [store.add(_pixels(10), 4), store.add(_pixels(20), 7)]
    assert store.delete(ids[0]) and _kept_aside(stores) == 1
    _ten_minutes_on(monkeypatch)
    change(store, ids)
    assert _kept_aside(stores) == 0


def test_an_undo_after_an_import_brought_the_drawing_back_makes_no_second_copy(stores):
    store = stores.feedback
    kept = store.add(_pixels(10), 4, 9, "v-1", b"png")
    other = store.add(_pixels(20), 7)
    assert store.delete(kept) and store.delete(other)
    x, y = np.stack([_pixels(10), _pixels(20)]), np.array([4, 2])  # the second: another label
    assert store.import_arrays(x, y) == (2, 0)
    assert store.restore(kept) is None and store.count() == 2  # back already, by the import
    assert store.restore(other).id == other and store.count() == 3


def test_undoing_the_delete_of_one_of_two_drawings_alike_brings_it_back_beside_the_other(stores):
    """Posted twice, the same drawing is two rows; an import that has it skips it, and an Undo
    still brings the deleted one back under its own id."""
    store = stores.feedback
    first, second = store.add(_pixels(10), 4), store.add(_pixels(10), 4)
    assert store.delete(second)
    assert store.import_arrays(_pixels(10)[None], np.array([4])) == (0, 1)
    back = store.restore(second)
    assert back.id == second and back.label == 4 and np.array_equal(back.pixels, _pixels(10))
    assert sorted(s.id for s in store.list_samples()[0]) == [first, second]
    assert _kept_aside(stores) == 0


def _kept_aside(stores) -> int:
    """How many deleted drawings the store still holds, read from the database itself."""
    query = "SELECT COUNT(*) FROM feedback_deleted"
    if stores.shared:
        with stores.database.connection() as connection:
            return connection.execute(query).fetchone()[0]
    with sqlite3.connect(stores.feedback.path) as db:
        return db.execute(query).fetchone()[0]


def test_two_deletes_or_restores_of_one_drawing_at_once_move_it_once(stores):
    """Two admins acting on the same drawing together: one of each pair wins, the other is told
    there was nothing to move (never a duplicate key, which would be a 500)."""
    store = stores.feedback
    for _ in range(5):
        sample = store.add(_pixels(40), 3)
        for act in (store.delete, store.restore):
            barrier, results = threading.Barrier(2), []

            def race(act=act, barrier=barrier, results=results, sample=sample):
                barrier.wait()
                results.append(bool(act(sample)))

            threads = [threading.Thread(target=race) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(results) == [False, True]
        assert store.get(sample).label == 3
        store.delete(sample)
    assert store.count() == 0


def test_an_import_is_idempotent_and_all_or_nothing(stores):
    store = stores.feedback
    x = np.stack([_pixels(v) for v in (100, 150, 200)])
    with pytest.raises((sqlite3.IntegrityError, psycopg.errors.CheckViolation)):
        store.import_arrays(x, np.array([1, 2, 3]), predicted=np.array([1, 2, 42]))
    assert store.count() == 0  # the two good rows went with the bad one
    assert store.import_arrays(x, np.array([1, 2, 3])) == (3, 0)
    assert store.import_arrays(x, np.array([1, 2, 4])) == (1, 2)
    assert store.count() == 4


def test_an_export_reads_back_and_training_sees_every_drawing(stores, tmp_path):
    store = stores.feedback
    for i in range(60):
        store.add(_pixels(i + 1), i % 10, None, None, b"png%d" % i if i % 7 == 0 else None)
    with open(tmp_path / "export.npz", "wb") as out:
        assert write_export(store, out) == 60
    arrays = read_export((tmp_path / "export.npz").read_bytes())
    assert arrays["x"].shape == (60, 28, 28) and list(arrays["y"][:3]) == [0, 1, 2]
    lengths = arrays["original_length"].tolist()
    assert lengths == [len(b"png%d" % i) if i % 7 == 0 else 0 for i in range(60)]
    assert arrays["original"].tobytes() == b"".join(b"png%d" % i for i in range(0, 60, 7))
    split = load_split(store)
    assert len(split.train_y) + len(split.held_y) == 60


# ---- rate limits --------------------------------------------------------------------------------


def test_a_rate_limit_counts_per_client_and_forgets_after_its_window(stores):
    limiter = stores.limiter("test", 3, window=1.0)
    assert [limiter.check("a") for _ in range(3)] == [None, None, None]
    wait = limiter.check("a")
    assert wait is not None and 0 < wait <= 1.0
    assert limiter.check("b") is None  # another client has its own count
    limiter.refund("a")
    assert limiter.check("a") is None  # the refunded event no longer counts
    time.sleep(1.05)
    assert limiter.check("a") is None
    assert stores.limiter("off", 0).check("a") is None


def test_concurrent_checks_never_let_more_than_the_limit_through(stores):
    limiter = stores.limiter("burst", 5, window=60.0)
    allowed, barrier = [], threading.Barrier(12)

    def hit():
        barrier.wait()
        with suppress(Exception):
            allowed.append(limiter.check("c") is None)

    threads = [threading.Thread(target=hit) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 5 and len(allowed) == 12
