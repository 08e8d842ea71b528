"""Calibrating a model on drawn digits (model/trust.py): the cache, the fit and the figures."""

from __future__ import annotations

import numpy as np
import pytest

from model import pendigits, trust
from model.calibrate import softmax
from model.network import MLP
from model.verdict import Calibration


def _drawn(n_digits: int = 400, n_marks: int = 100, seed: int = 0) -> trust.Drawn:
    """Noise images standing in for rendered pen data, half of each kind in the fit part."""
    rng = np.random.default_rng(seed)
    n = n_digits + n_marks
    labels = np.concatenate([np.arange(n_digits) % 10, np.full(n_marks, -1)])
    return trust.Drawn(
        x=rng.random((n, 784), dtype=np.float32),
        labels=labels,
        fit=np.arange(n) % 2 == 0,
    )


@pytest.fixture
def pen_files(tmp_path, monkeypatch):
    """Stand-in pen data files, and a renderer that counts its calls instead of rendering."""
    digits, marks = tmp_path / "digits.json.gz", tmp_path / "marks.json.gz"
    digits.write_bytes(b"digits v1")
    marks.write_bytes(b"marks v1")
    monkeypatch.setattr(pendigits, "PEN_DIGITS", digits)
    monkeypatch.setattr(pendigits, "PEN_MARKS", marks)
    calls = []
    monkeypatch.setattr(trust, "drawn", lambda processes=2: calls.append(1) or _drawn())
    return digits, calls


def test_load_renders_once_then_reads_the_cache_until_the_pen_data_changes(pen_files, tmp_path):
    digits, calls = pen_files
    cache = tmp_path / "cache"
    first = trust.load(cache)
    again = trust.load(cache)
    assert len(calls) == 1
    assert np.array_equal(first.x, again.x) and np.array_equal(first.labels, again.labels)
    assert np.array_equal(first.fit, again.fit)
    digits.write_bytes(b"digits v2")
    trust.load(cache)
    assert len(calls) == 2
    assert len(list(cache.glob("drawn-*.npz"))) == 1  # the stale render is gone


def test_without_pen_data_a_model_keeps_the_default_calibration(tmp_path, monkeypatch):
    monkeypatch.setattr(pendigits, "PEN_DIGITS", tmp_path / "missing.json.gz")
    assert trust.load(tmp_path / "cache") is None
    network = MLP([784, 8, 11], seed=0)
    assert trust.calibrate(network, None) == (Calibration(), None)


def test_the_threshold_flags_at_most_the_allowed_share_of_the_fit_writers_digits():
    data = _drawn(n_digits=2000, n_marks=200)
    network = MLP([784, 16, 11], seed=1)
    calibration = trust.fit(network, data)
    assert calibration.temperature > 0
    z = trust.scores(network, data.x[data.fit & data.digits])
    flagged = softmax(z)[:, 10] >= calibration.not_a_digit_threshold
    assert 0 < flagged.mean() <= trust.MAX_FALSE_FLAGS + 1 / len(z)


def test_measure_reports_on_the_held_out_writers_only():
    data = _drawn()
    network = MLP([784, 16, 11], seed=2)
    calibration, figures = trust.calibrate(network, data)
    held = ~data.fit
    assert figures["digits"] == int((held & data.digits).sum())
    assert figures["marks"] == int((held & ~data.digits).sum())
    assert 0 <= figures["marks_detected"] <= 1 and 0 <= figures["digits_flagged"] <= 1
    assert 1 <= len(figures["reliability_after"]) <= 15  # empty bins are left out
    assert sum(b["count"] for b in figures["reliability_after"]) == figures["digits"]
    text = trust.describe(figures, {**calibration.__dict__})
    assert "held-out marks" in text and "temperature" in text


def test_a_ten_output_model_gets_a_temperature_and_no_mark_figures():
    data = _drawn()
    calibration, figures = trust.calibrate(MLP([784, 16, 10], seed=3), data)
    assert calibration.not_a_digit_threshold == Calibration.not_a_digit_threshold
    assert "marks_detected" not in figures


def test_the_digit_reading_names_a_digit_and_counts_the_flags_apart():
    data = _drawn(n_digits=200, n_marks=0)
    network = MLP([784, 16, 11], seed=4)
    x, y = data.x, data.labels
    z = trust.scores(network, x)
    named = (z[:, :10].argmax(axis=1) == y).mean()
    for threshold, flagged in ((0.0, 1.0), (1.01, 0.0)):
        reading = trust.digit_reading(network, Calibration(1.0, threshold), x, y)
        assert reading == {"digit_accuracy": pytest.approx(named), "flagged": flagged}
    ten = trust.digit_reading(MLP([784, 16, 10], seed=4), Calibration(), x, y)
    assert ten["flagged"] == 0.0
