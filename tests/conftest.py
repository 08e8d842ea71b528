"""Fixtures shared across the suite: the cached MNIST (fetched by the test command), and a
throwaway PostgreSQL cluster for the tests of the shared-database back-end."""

import os
from pathlib import Path

import pytest

from model.data import load_mnist, to_float

ROOT = Path(__file__).resolve().parents[1]
DATA_HOME = ROOT / "var"


@pytest.fixture(scope="session")
def mnist():
    return load_mnist(DATA_HOME)


@pytest.fixture(scope="session")
def mnist_small(mnist):
    """The first 20,000 training images (uint8 (n, 28, 28)) and labels."""
    return mnist.train_x[:20_000], mnist.train_y[:20_000]


@pytest.fixture(scope="session")
def mnist_test(mnist):
    """The MNIST test set as float32 (10000, 784) and labels (10000,)."""
    return to_float(mnist.test_x), mnist.test_y


# ---- PostgreSQL: a throwaway cluster for the session, a fresh database per test ----------------


@pytest.fixture(scope="session")
def postgres_cluster():
    """The session's cluster (app/db/throwaway.py), started on first use and removed at the end.

    Skipped when PostgreSQL is not installed, except under CI (CI=true), where that is a failure:
    CI must run the shared-database tests, and ``python3 dev.py test`` installs PostgreSQL."""
    from app.db.throwaway import Cluster, find_binaries

    binaries = find_binaries()
    if binaries is None:
        message = "PostgreSQL is not installed (python3 dev.py test installs Debian's postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    cluster = Cluster(binaries).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def database_url(postgres_cluster) -> str:
    """The URL of a new, empty database for this test."""
    return postgres_cluster.new_database()
