"""Fixtures for the service tests: an app per test on a fresh data home under tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from admin_support import TOKEN, with_mnist
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

# Short enough that hot-reload tests finish in well under a second.
FAST_POLL = 0.05


@pytest.fixture
def make_client(tmp_path) -> Iterator[Callable[..., TestClient]]:
    """make_client(**settings) → a started TestClient on an app with those settings.

    Every app's data home is this test's tmp_path, so apps made in one test share a registry.
    """
    with ExitStack() as stack:

        def make(**overrides) -> TestClient:
            settings = Settings(home=tmp_path, model_poll_seconds=FAST_POLL, **overrides)
            return stack.enter_context(TestClient(create_app(settings)))

        yield make


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


@pytest.fixture
def home(tmp_path):
    """A data home with MNIST in it, for tests that train."""
    return with_mnist(tmp_path / "home")


@pytest.fixture
def admin(home):
    """A started client whose app has the admin token and a data home with MNIST."""
    settings = Settings(home=home, admin_token=TOKEN, model_poll_seconds=0.05)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(params=["embedded", "postgres"])
def stores(request, tmp_path):
    """Every store, opened, from each back-end in turn: the data home (files and SQLite), then a
    fresh PostgreSQL database. A test that takes it states the contract both must keep."""
    from app.stores import open_stores

    url = request.getfixturevalue("database_url") if request.param == "postgres" else None
    opened = open_stores(Settings(home=tmp_path / "home", database_url=url, job_lease_seconds=2))
    opened.open()
    yield opened
    opened.close()
