"""Settings: laptop defaults, overridden by DIGITS_* environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import Settings, get_settings


def test_defaults_run_on_a_laptop(monkeypatch):
    for name in ("DIGITS_HOME", "DIGITS_MAX_BODY_BYTES", "DIGITS_BATCH_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    s = Settings()
    assert s.home == Path(__file__).resolve().parents[2] / "var"  # this checkout's, not ./var
    assert (s.max_body_bytes, s.max_image_pixels, s.batch_limit) == (2_000_000, 4_000_000, 1000)
    assert 0 < s.unsure_threshold < 1
    assert s.model_poll_seconds == 1.0


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITS_HOME", str(tmp_path))
    monkeypatch.setenv("DIGITS_BATCH_LIMIT", "50")
    monkeypatch.setenv("DIGITS_UNSURE_THRESHOLD", "0.75")
    get_settings.cache_clear()
    try:
        s = get_settings()
        assert (s.home, s.batch_limit, s.unsure_threshold) == (tmp_path, 50, 0.75)
        assert get_settings() is s  # read once per process
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    "bad", [{"max_body_bytes": 0}, {"unsure_threshold": 1.5}, {"model_poll_seconds": 0}]
)
def test_nonsense_is_refused(bad):
    with pytest.raises(ValidationError):
        Settings(**bad)


def test_a_database_url_must_be_postgresql_and_is_never_echoed():
    assert Settings(database_url="").database_url is None  # DIGITS_DATABASE_URL= means unset
    url = "postgresql://digits:s3cret-pa55@db.internal:5432/digits"
    assert Settings(database_url=url).database_url.get_secret_value() == url
    with pytest.raises(ValidationError) as refused:
        Settings(database_url="mysql://digits:s3cret-pa55@db.internal/digits")
    assert "PostgreSQL URL" in str(refused.value) and "s3cret-pa55" not in str(refused.value)
    assert "s3cret-pa55" not in repr(Settings(database_url=url))


def test_a_refused_database_url_is_named_once_by_its_variable(monkeypatch):
    monkeypatch.setenv("DIGITS_DATABASE_URL", "mysql://digits:s3cret-pa55@db.internal/digits")
    get_settings.cache_clear()
    try:
        with pytest.raises(ValueError) as refused:
            get_settings()
    finally:
        get_settings.cache_clear()
    said = str(refused.value)
    assert said.startswith("DIGITS_DATABASE_URL: must be a PostgreSQL URL, postgresql://")
    assert said.count("DIGITS_DATABASE_URL") == 1 and "s3cret-pa55" not in said
