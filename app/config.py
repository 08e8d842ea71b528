"""Settings: every knob of the service, each with a default that runs on a laptop.

Values come from the environment with the prefix ``DIGITS_`` (``DIGITS_HOME=/srv/digits``,
``DIGITS_MAX_BODY_BYTES=4000000``, …). Tests build ``Settings(...)`` directly and hand it to
``create_app``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIGITS_", frozen=True)

    # The data home: the model registry (models/) and the MNIST cache live under it.
    home: Path = Path("var")
    # Largest request body for /api/predict and everything else, in bytes; 413 beyond it.
    max_body_bytes: int = Field(2_000_000, gt=0)
    # Largest body for /api/predict/batch: 1000 items of 784 numbers in JSON need ~5-9 MB.
    max_batch_body_bytes: int = Field(20_000_000, gt=0)
    # Largest image, width × height, read from its header before any pixel is decoded.
    max_image_pixels: int = Field(4_000_000, gt=0)
    # Most items in one /api/predict/batch request.
    batch_limit: int = Field(1000, gt=0)
    # A prediction whose top probability is below this is flagged "unsure".
    unsure_threshold: float = Field(0.6, ge=0.0, le=1.0)
    # How often each process checks the registry's ACTIVE file for a new model, in seconds.
    model_poll_seconds: float = Field(1.0, gt=0.0)


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment, read once per process."""
    return Settings()
