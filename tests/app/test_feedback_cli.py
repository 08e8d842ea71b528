"""`digits train --feedback` and `digits serve` with a damaged feedback database."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from admin_support import ROOT, with_mnist

from app.feedback.store import DB_NAME, FeedbackStore
from model.modelfile import load_model


def _digits(home, *args, timeout=300) -> subprocess.CompletedProcess:
    env = {**os.environ, "DIGITS_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _store_some(home, per_class: int = 6) -> None:
    store = FeedbackStore(home)
    store.open()
    rng = np.random.default_rng(0)
    for label in range(10):
        for _ in range(per_class):
            store.add(rng.integers(0, 256, (28, 28), dtype=np.uint8), label, (label + 1) % 10)


def test_train_with_feedback_mixes_the_drawings_in_and_reports_the_held_back_set(tmp_path):
    home = with_mnist(tmp_path / "home")
    _store_some(home)
    out = tmp_path / "fb.npz"
    result = _digits(
        home,
        "train",
        "--hidden",
        "16",
        "--epochs",
        "1",
        "--max-train-samples",
        "1000",
        "--no-augment",
        "--feedback",
        "--feedback-weight",
        "4",
        "--out",
        out,
    )
    assert result.returncode == 0, result.stderr
    assert "feedback: 30 stored drawings in training (each ×4), 30 held back" in result.stderr
    # 1,000 images, 700 generated digits and marks and 120 of feedback are 15 steps of 128
    assert "15 steps of 128 images are too few" in result.stderr
    assert "so this run takes 114 steps of 16" in result.stderr
    assert "held-back drawings:" in result.stdout and "of 30" in result.stdout
    meta = load_model(out).meta
    assert meta["feedback"]["trained_on"] and meta["feedback"]["weight"] == 4
    assert meta["metrics"]["feedback_size"] == 30


def test_serve_refuses_to_start_on_a_corrupt_feedback_database(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / DB_NAME).write_bytes(b"not a database at all " * 200)
    before = (home / DB_NAME).read_bytes()
    env = {
        **os.environ,
        "DIGITS_HOME": str(home),
        "DIGITS_ADMIN_TOKEN": "feedback-cli-token-0123456789",
    }
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--port", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "FeedbackStoreError" in output and f"{home / DB_NAME} cannot be read" in output
    assert result.stdout.startswith(f"data home: {home} (DIGITS_HOME)")  # said at start-up
    assert (home / DB_NAME).read_bytes() == before
