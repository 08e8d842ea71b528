"""The app on PostgreSQL: migrations under a lock, hot swap by NOTIFY, MNIST shared, the CLI's
`db` commands, and a database that goes away and comes back while predictions go on."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import numpy as np
import psycopg
import pytest
from admin_support import AUTH, TOKEN, with_mnist
from drawings import encode, seven_image
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict

from app.config import Settings
from app.db import DatabaseUnavailable, SchemaError
from app.db import schema as db_schema
from app.db.connection import Database
from app.main import create_app
from app.stores import open_stores
from model.data import DataError, cache_path, load_mnist
from model.network import MLP

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _settings(home, url, **overrides) -> Settings:
    values = {"model_poll_seconds": 0.05, "admin_token": TOKEN, "database_timeout_seconds": 1.0}
    return Settings(home=home, database_url=url, **{**values, **overrides})


@contextmanager
def _database_down(url: str):
    """No new connection is let in, and every open one is cut: the database is gone for this
    app, while the cluster goes on serving the other tests."""
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(url.replace(f"/{name}?", "/postgres?"), autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        try:
            yield
        finally:
            admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")


def test_replicas_starting_together_migrate_once(database_url):
    databases = [Database(database_url, max_size=1) for _ in range(4)]
    barrier, results = threading.Barrier(4), []

    def start(db):
        barrier.wait()
        results.append(db_schema.migrate(db))

    threads = [threading.Thread(target=start, args=(db,)) for db in databases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latest = db_schema.SCHEMA_VERSION
    assert sorted(results) == [(0, latest)] + [(latest, latest)] * 3
    with databases[0].connection() as connection:
        rows = connection.execute("SELECT version FROM schema_migrations").fetchall()
    assert rows == [(v,) for v in range(1, latest + 1)]
    for db in databases:
        db.close()


def test_a_later_migration_keeps_the_data_and_a_newer_database_is_refused(database_url, tmp_path):
    stores = open_stores(_settings(tmp_path, database_url))
    stores.open()
    sample = stores.feedback.add(np.full((28, 28), 7, np.uint8), 4, 9, "v1")
    step = [
        "ALTER TABLE feedback ADD COLUMN source VARCHAR(20)",
        "UPDATE feedback SET source = 'w'",
    ]
    later = [*db_schema.MIGRATIONS, step]
    assert db_schema.migrate(stores.database, later) == (len(later) - 1, len(later))
    assert stores.feedback.get(sample).label == 4
    with pytest.raises(SchemaError, match="newer than this release"):
        db_schema.migrate(stores.database)  # this release knows one step fewer
    stores.close()


def test_an_activation_reaches_another_replica_by_notify_not_by_polling(database_url, tmp_path):
    # A poll of 30 s: only the NOTIFY can bring the new version across within 2 s.
    slow = {"model_poll_seconds": 30.0}
    one = create_app(_settings(tmp_path / "one", database_url, **slow))
    other = create_app(_settings(tmp_path / "two", database_url, **slow))
    with TestClient(one) as a, TestClient(other) as b:
        first = b.get("/api/model").json()["version"]
        version = one.state.stores.registry.add(MLP([784, 16, 10], seed=3), {})
        started = time.monotonic()
        assert a.post(f"/api/admin/models/{version}/activate", headers=AUTH).status_code == 200
        while other.state.serving.version != version:
            assert time.monotonic() - started < 2.0, "the other replica did not swap within 2 s"
            time.sleep(0.02)
        assert first != version
        assert b.get("/api/model").json()["version"] == version


def test_while_the_database_is_down_predictions_go_on_and_the_rest_says_503(database_url, tmp_path):
    app = create_app(_settings(tmp_path, database_url))
    png = encode(seven_image())
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        feedback = {"file": ("d.png", png, "image/png")}
        assert client.post("/api/feedback", files=feedback, data={"label": "3"}).status_code == 201
        with _database_down(database_url):
            for _ in range(3):
                ready = client.get("/readyz")
                assert ready.status_code == 503
                assert ready.json()["error"]["code"] == "database_unavailable"
                assert client.post("/api/predict", files=feedback).status_code == 200
            posted = client.post("/api/feedback", files=feedback, data={"label": "3"})
            assert posted.status_code == 503 and "Retry-After" in posted.headers
            assert client.get("/api/admin/models", headers=AUTH).status_code == 503
        deadline = time.monotonic() + 15
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "not ready again 15 s after the database came back"
            time.sleep(0.2)
        assert client.post("/api/feedback", files=feedback, data={"label": "3"}).status_code == 201
        assert app.state.stores.feedback.count() == 2  # the refused one was never stored


def test_a_database_that_stops_answering_is_a_503_in_time_and_holds_one_thread():
    """A frozen database host keeps its connections open and answers nothing: /readyz hung
    (40 s and more) where it must say 503. No server is needed to see the rule: the round trip
    is replaced by one that never comes back until released."""
    database = Database("postgresql://digits@/none?host=/nonexistent", timeout=5.0)
    release, calls = threading.Event(), []
    database._round_trip = lambda: (calls.append(1), release.wait(10))
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable, match=r"did not answer within 0\.3 s"):
            database.ping(0.3)
        assert 0.25 < time.monotonic() - started < 2
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable, match="has not answered the last check yet"):
            database.ping(0.3)  # at once, without a second thread waiting on the same silence
        assert time.monotonic() - started < 0.2 and calls == [1]
        release.set()
        database._pinging.result(timeout=5)
        database._round_trip = lambda: None  # answering again: ready again
        database.ping(0.3)
    finally:
        release.set()
        database.close()


def test_a_ping_still_waiting_does_not_hold_the_process_at_exit():
    """An executor's threads are joined at exit: with the database frozen, one /readyz kept a
    server stopped by Ctrl+C running until the database woke up."""
    script = (
        "import threading, time\n"
        "from app.db import DatabaseUnavailable\n"
        "from app.db.connection import Database\n"
        "database = Database('postgresql://digits@/none?host=/nonexistent')\n"
        "database._round_trip = lambda: time.sleep(60)\n"
        "try:\n"
        "    database.ping(0.2)\n"
        "except DatabaseUnavailable:\n"
        "    print('503')\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0 and done.stdout.strip() == "503", done.stderr
    assert time.monotonic() - started < 10  # not the minute the round trip would take


def test_mnist_is_shared_through_the_database(database_url, tmp_path):
    first = open_stores(_settings(with_mnist(tmp_path / "a"), database_url))
    first.open()
    assert first.share_mnist() and not first.share_mnist()  # once
    other = open_stores(_settings(tmp_path / "b", database_url))
    assert other.has_mnist() and not cache_path(tmp_path / "b").exists()
    assert other.mnist().fingerprint == load_mnist(tmp_path / "a").fingerprint
    assert cache_path(tmp_path / "b").is_file()  # kept in that host's data home
    # The CLI on a host without its own copy reads the database's, and fetches nothing.
    info = _digits("data", "info", url=database_url, home=tmp_path / "d")
    assert info.returncode == 0, info.stderr
    assert load_mnist(tmp_path / "a").fingerprint in info.stdout
    fetched = _digits("data", "fetch", url=database_url, home=tmp_path / "e")
    assert fetched.returncode == 0, fetched.stderr
    assert "(source: cache)" in fetched.stdout and "mirror" not in fetched.stderr
    with first.database.connection() as connection:
        connection.execute("UPDATE datasets SET sha256 = repeat('0', 64)")
    third = open_stores(_settings(tmp_path / "c", database_url))
    with pytest.raises(DataError, match="sha256"):
        third.mnist()
    for stores in (first, other, third):
        stores.close()


def test_a_job_hears_a_cancel_asked_on_another_host_and_loses_a_lease_taken_away(
    database_url, tmp_path
):
    stores = open_stores(_settings(tmp_path, database_url, job_lease_seconds=1))
    stores.open()
    jobs = stores.jobs
    record = {"id": "j-20260101-000000-abcdef", "status": "queued", "request": {}}
    jobs.claim(record)
    cancelled, lost = threading.Event(), threading.Event()
    with jobs.hold(record["id"], [], on_cancel=cancelled.set, on_lost=lost.set) as held:
        jobs.request_cancel(record["id"])  # as a replica on another host would
        assert cancelled.wait(2.0) and not held.lost
        with stores.database.connection() as connection:
            connection.execute("DELETE FROM job_lease")  # as a replica would, once it expired
        assert lost.wait(2.0) and held.lost
    stores.close()


def _digits(*args: str, url: str | None, home) -> subprocess.CompletedProcess:
    env = {**os.environ, "DIGITS_HOME": str(home), "DIGITS_DATABASE_TIMEOUT_SECONDS": "1"}
    env.pop("DIGITS_DATABASE_URL", None)
    if url:
        env["DIGITS_DATABASE_URL"] = url
    command = [sys.executable, "-m", "app.cli", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_digits_db_migrate_and_check(database_url, tmp_path):
    before = _digits("db", "check", url=database_url, home=tmp_path)
    assert before.returncode == 1 and "migration(s) to apply" in before.stdout
    migrated = _digits("db", "migrate", url=database_url, home=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert f"from version 0 to {db_schema.SCHEMA_VERSION}" in migrated.stdout
    after = _digits("db", "check", url=database_url, home=tmp_path)
    assert after.returncode == 0 and "FAIL" not in after.stdout and "none yet" in after.stdout
    no_url = _digits("db", "check", url=None, home=tmp_path)
    assert no_url.returncode == 2 and "DIGITS_DATABASE_URL is not set" in no_url.stderr
    nowhere = "postgresql://nobody@/none?host=/nonexistent"
    unreachable = _digits("db", "check", url=nowhere, home=tmp_path)
    assert unreachable.returncode == 1 and "FAIL connection" in unreachable.stdout
    # libpq's own reason, not the pool's "couldn't get a connection after 5.00 sec"
    name = conninfo_to_dict(database_url)["dbname"]
    misnamed = _digits(
        "db", "check", url=database_url.replace(f"/{name}?", "/nodb?"), home=tmp_path
    )
    assert misnamed.returncode == 1 and 'database "nodb" does not exist' in misnamed.stdout


def test_a_role_that_may_not_create_tables_is_told_so_in_one_line(database_url, tmp_path):
    """PostgreSQL 15 lets only the database's owner create in its public schema: a role that
    is not got a traceback from `digits db migrate`."""
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS visitor")
        admin.execute("CREATE ROLE visitor LOGIN")
    visitor = database_url.replace("://digits@", "://visitor@")
    refused = _digits("db", "migrate", url=visitor, home=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert refused.stderr.startswith("digits: error: the database refused to migrate: ")
    assert "permission denied for schema public" in refused.stderr
    assert "must own its database" in refused.stderr
