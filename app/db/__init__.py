"""PostgreSQL: the state that replicas on several hosts share, when ``DIGITS_DATABASE_URL`` is set.

One module per store, each holding all of its SQL, each implementing the same interface as the
embedded store it stands in for (files and SQLite in the data home):

    connection.py  the pool, the errors that mean "unreachable", LISTEN, the readiness check
    schema.py      the tables, as versioned migrations applied at start-up under a lock
    registry.py    model versions (the .npz files as bytea) and the active one, NOTIFY on change
    jobs.py        job records, their events, and the one-job lease
    feedback.py    the labelled drawings
    limits.py      the per-client rate limits (feedback posts, wrong admin tokens)
    datasets.py    MNIST, so that a job can run on a host that never fetched it
    throwaway.py   a temporary cluster on this machine, for the tests and the benchmarks

``app.stores`` chooses between the two back-ends. Nothing here is imported unless a database is
configured, so psycopg (the ``postgres`` extra) is needed only then.
"""


class DatabaseError(RuntimeError):
    """The shared database cannot be used: the message says why and what to do."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached right now (down, unreachable, or out of connections).

    Answered as 503 ``database_unavailable``; the loaded model keeps serving predictions."""


class SchemaError(DatabaseError):
    """The database's schema cannot be used by this release (it is newer)."""
