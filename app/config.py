"""Settings: every knob of the service, each with a default that runs on a laptop.

Values come from the environment with the prefix ``DIGITS_`` (``DIGITS_HOME=/srv/digits``,
``DIGITS_MAX_BODY_BYTES=4000000``, …). Tests build ``Settings(...)`` directly and hand it to
``create_app``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from model.decode import DecodeLimits

# A token of fewer distinct characters is a word or a key held down ("changemechangeme",
# "xxxxxxxxxxxxxxxxxxxxxxxx"), not a secret: secrets.token_urlsafe(24) has about 25.
MIN_DISTINCT = 8
CHECKOUT = Path(__file__).resolve().parents[1]  # the folder that holds app/ and model/


def default_home(package_root: Path = CHECKOUT) -> Path:
    """Where the data lives when DIGITS_HOME is not set.

    In the development checkout (the package runs from a git checkout with its pyproject.toml,
    as after `python3 dev.py` or `pip install -e .`): that checkout's var/, whatever the current
    folder. Installed anywhere else: the platform's user data folder (platformdirs:
    ~/.local/share/digits on Linux, ~/Library/Application Support/digits on macOS,
    %LOCALAPPDATA%\\digits on Windows). Never the current folder: a command run elsewhere
    must not leave a var/ there, nor miss the MNIST it already has.
    """
    if (package_root / "pyproject.toml").is_file() and (package_root / ".git").exists():
        return package_root / "var"
    return Path(platformdirs.user_data_dir("digits", appauthor=False))


class Settings(BaseSettings):
    # hide_input_in_errors: a refused value (a token, a database URL) may hold a secret.
    model_config = SettingsConfigDict(env_prefix="DIGITS_", frozen=True, hide_input_in_errors=True)

    # The data home: the model registry (models/), the MNIST cache, the jobs and the drawings
    # live under it. Default: default_home() (the checkout's var/, or the user data folder).
    home: Path = Field(default_factory=default_home)
    # Largest request body for /api/predict and everything else, in bytes; 413 beyond it.
    max_body_bytes: int = Field(2_000_000, gt=0)
    # Largest body for /api/predict/batch: 1000 items of 784 numbers in JSON need ~5-9 MB.
    max_batch_body_bytes: int = Field(20_000_000, gt=0)
    # A request body must arrive within this many seconds of the app starting to read it, plus
    # 1 s per 100 kB received (app.limits); 408 beyond it, so a client trickling its body in
    # cannot hold the request open.
    body_timeout_seconds: float = Field(20.0, gt=0.0)
    # Predictions (/api/predict, /api/predict/batch) in progress at once, in each server
    # process; past it, 503 `overloaded` at once rather than a queue that grows without bound.
    # Below the threadpool's 40 threads, which other routes need too.
    max_concurrent_predictions: int = Field(32, gt=0)
    # Largest image, width × height, read from its header before any pixel is decoded.
    max_image_pixels: int = Field(4_000_000, gt=0)
    # CPU time one image may take to decode, in seconds; past it, 422 `image_too_complex`.
    # A backstop behind the structural checks of model/decode.py (JPEG scans, chunk counts).
    decode_cpu_seconds: float = Field(1.0, gt=0.0)
    # Most items in one /api/predict/batch request.
    batch_limit: int = Field(1000, gt=0)
    # Pixels all the images of one batch may decode in all (1,000 canvases of 316×316); the
    # item that crosses it gets 413 `batch_too_many_pixels`, so a batch costs at most this plus
    # one image. Without it, 1,000 4-megapixel images held a thread for over a minute.
    max_batch_pixels: int = Field(100_000_000, gt=0)
    # Most digits POST /api/read reads in one number (DIGITS_READ_MAX_DIGITS); a drawing of
    # more gets 422 `too_many_digits`. A drawing of more strokes (or pieces of ink) than four
    # times this is refused before any is drawn or scored, which bounds the work of a read.
    read_max_digits: int = Field(12, ge=1, le=100)
    # A prediction whose top (calibrated) probability is below this is "unsure". At 0.7 that is
    # about 3 % of drawn digits, right about 60 % of the time, and the right digit is one of the
    # two it names 95 times in 100; the answers above it are right 98 % of the time.
    unsure_threshold: float = Field(0.7, ge=0.0, le=1.0)
    # How often each process checks the registry's ACTIVE file for a new model, in seconds.
    model_poll_seconds: float = Field(1.0, gt=0.0)
    # The bearer token for /api/admin/* (DIGITS_ADMIN_TOKEN). `digits serve` makes a random one
    # when it is unset; an app created without one refuses every admin request (503).
    admin_token: SecretStr | None = None
    # Wrong admin tokens accepted per minute from one client, in each server process; past it,
    # every admin request from that client gets 429 for the rest of the minute. 0 = no limit.
    admin_failure_limit: int = Field(10, ge=0)
    # The quality gate: a retrained model goes live only if its MNIST test accuracy is no lower
    # than the active model's minus this many percentage points.
    gate_tolerance_pp: float = Field(0.3, ge=0.0, le=100.0)
    # A training job that runs longer than this is stopped and marked failed, in seconds.
    job_timeout_seconds: float = Field(6 * 3600.0, gt=0.0)
    # Longest a /events stream stays open before the client must reconnect, in seconds.
    events_max_seconds: float = Field(3600.0, gt=0.0)

    # Feedback posts (POST /api/feedback) per minute per client, in each server process; 0 = no
    # limit. Over it, 429 with Retry-After.
    feedback_rate_limit: int = Field(60, ge=0)
    # The original image of a feedback sample is kept (as PNG) only up to this size, in bytes.
    feedback_max_original_bytes: int = Field(200_000, ge=0)
    # Largest body for POST /api/admin/feedback/import (an .npz export), in bytes.
    max_import_bytes: int = Field(50_000_000, gt=0)

    # The reverse proxies in front of the server (DIGITS_TRUSTED_PROXIES), as addresses or
    # networks, comma-separated (10.0.0.5,10.1.0.0/16): the client's address is read from the
    # X-Forwarded-For they set, and only from them. Unset: every client is the address it
    # connects from, and behind a proxy all of them share the proxy's limits.
    trusted_proxies: str | None = None

    # PostgreSQL shared by replicas on several hosts (DIGITS_DATABASE_URL), e.g.
    # postgresql://digits:PASSWORD@db.internal:5432/digits. Unset: the state lives in the data
    # home (files and SQLite) and the rate limits in each process, as on one machine. Set: the
    # model registry, the jobs and their lock, the feedback and the rate limits are shared
    # through it (app/stores.py; README, "Running on several machines").
    database_url: SecretStr | None = None
    # Connections each process (a server worker, a training job) keeps to the database, at most.
    database_pool_size: int = Field(4, ge=1, le=100)
    # How long to wait for the database (to connect, or for a free connection), in seconds. Past
    # it a request that needs the database gets 503 `database_unavailable`, and /readyz fails;
    # predictions go on from the loaded model.
    database_timeout_seconds: float = Field(5.0, gt=0.0, le=60.0)
    # With a database: a running job renews its lease on the one-job lock every fifth of this.
    # Once it has expired (the job's process or its host died) any replica marks the job
    # interrupted and may start another, in seconds.
    job_lease_seconds: float = Field(15.0, ge=1.0, le=3600.0)

    @property
    def decode_limits(self) -> DecodeLimits:
        return DecodeLimits(self.max_image_pixels, self.decode_cpu_seconds)

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, url: SecretStr | None) -> SecretStr | None:
        """A PostgreSQL URL, or unset (an empty value counts as unset)."""
        if url is None or url.get_secret_value().strip() == "":
            return None
        if not url.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError(
                "must be a PostgreSQL URL, postgresql://user:password@host"
                ":5432/database (or unset, to keep the state in the data home)"
            )
        return url

    @field_validator("admin_token")
    @classmethod
    def _no_weak_token(cls, token: SecretStr | None) -> SecretStr | None:
        """Refuse short tokens and placeholders: an admin token guards retraining the model."""
        if token is None:
            return None
        value = token.get_secret_value()
        if value.strip() == "":
            return None  # DIGITS_ADMIN_TOKEN= (empty) means unset
        if len(value) < 16 or len(set(value)) < MIN_DISTINCT:
            raise ValueError(
                f"the admin token must be at least 16 characters, {MIN_DISTINCT} of them "
                "different (not a word or a letter repeated); "
                "try: python -c 'import secrets; print(secrets.token_urlsafe(24))'"
            )
        return token


class SettingsError(ValueError):
    """A setting in the environment was refused; the message names each one by its variable."""

    def __init__(self, error: ValidationError):
        super().__init__(
            "; ".join(
                f"DIGITS_{'_'.join(map(str, e['loc'])).upper()}: "
                f"{e['msg'].removeprefix('Value error, ')}"
                for e in error.errors()
            )
        )


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment, read once per process (SettingsError if refused)."""
    try:
        return Settings()
    except ValidationError as e:
        # Said by the variable a person sets, without pydantic's class name and help link.
        raise SettingsError(e) from None
