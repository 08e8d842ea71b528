"""The verdict rules and the calibration they use: temperature fitting, ECE, reliability."""

from __future__ import annotations

import math

import numpy as np
import pytest

from model.calibrate import (
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    reliability,
    softmax,
)
from model.verdict import MIN_EXTENT, Calibration, read


def test_the_fitted_temperature_is_the_one_the_labels_were_drawn_with():
    """Labels drawn from softmax(z / 2.5): the fit finds T ≈ 2.5, the minimum of the NLL."""
    rng = np.random.default_rng(0)
    scores = rng.normal(0, 6, (20_000, 10))
    p = softmax(scores, 2.5)
    labels = np.array([rng.choice(10, p=row) for row in p])
    t = fit_temperature(scores, labels)
    assert t == pytest.approx(2.5, rel=0.05)
    nll = negative_log_likelihood(scores, labels, t)
    assert nll < negative_log_likelihood(scores, labels, t * 1.2)
    assert nll < negative_log_likelihood(scores, labels, t / 1.2)
    # and calibrated: its ECE is small, the raw scores' is not
    assert expected_calibration_error(softmax(scores, t), labels) < 0.02
    assert expected_calibration_error(softmax(scores, 1.0), labels) > 0.1


def test_ece_by_hand():
    """Two bins: (0.6, 0.667] holds 2 answers at 0.65, one right; (0.933, 1] holds 2 at 0.95,
    both right. ECE = ½·|0.5 − 0.65| + ½·|1 − 0.95| = 0.1."""
    p = np.array([[0.65, 0.35], [0.65, 0.35], [0.95, 0.05], [0.95, 0.05]])
    labels = np.array([0, 1, 0, 0])
    bins = reliability(p, labels)
    assert [(b.count, b.confidence, b.accuracy) for b in bins] == [(2, 0.65, 0.5), (2, 0.95, 1.0)]
    assert expected_calibration_error(p, labels) == pytest.approx(0.1)


def _scores(*rows) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


def test_the_rules_in_order():
    calibration = Calibration(temperature=1.0, not_a_digit_threshold=0.5)
    confident = [0.0] * 10
    confident[7] = 12.0
    torn = [0.0] * 10
    torn[3], torn[8] = 2.0, 1.9
    scores = _scores(confident + [0.0], torn + [0.0], confident + [20.0], confident + [0.0])
    extents = np.array([0.5, 0.5, 0.5, MIN_EXTENT / 2])
    readings = read(scores, extents, calibration, unsure_threshold=0.6)
    assert readings.verdicts == ["digit", "unsure", "not_a_digit", "not_a_digit"]
    assert readings.too_small.tolist() == [False, False, False, True]
    assert readings.not_a_digit[2] > 0.99 and readings.not_a_digit[0] < 0.01
    # the digit probabilities ignore the eleventh output, and always sum to 1
    np.testing.assert_allclose(readings.probabilities.sum(axis=1), 1.0)
    assert readings.probabilities[2].argmax() == 7 and readings.probabilities[2].max() > 0.99


def test_pixels_have_no_size_and_a_ten_output_model_has_no_not_a_digit():
    scores = _scores([0.0] * 3 + [9.0] + [0.0] * 6)
    readings = read(scores, np.array([math.nan]), Calibration(), 0.6)
    assert readings.verdicts == ["digit"] and readings.not_a_digit is None
    assert not readings.too_small[0]


def test_the_temperature_softens_the_digits_and_keeps_their_order():
    scores = _scores([0.0, 1.0, 3.0] + [0.0] * 7)
    cold = read(scores, np.array([1.0]), Calibration(temperature=1.0), 0.0).probabilities[0]
    warm = read(scores, np.array([1.0]), Calibration(temperature=2.0), 0.0).probabilities[0]
    assert warm.max() < cold.max() and np.argsort(warm).tolist() == np.argsort(cold).tolist()
    assert Calibration.of({"calibration": {"temperature": 1.7}}) == Calibration(1.7, 0.5)
    assert Calibration.of({}) == Calibration()


def test_in_a_number_a_mark_is_too_small_beside_the_digits_or_on_the_canvas():
    from model.verdict import MIN_SHARE, too_small_in_number

    shares = np.array([1.0, MIN_SHARE - 0.01, 0.8])
    extents = np.array([0.5, 0.5, MIN_EXTENT - 0.01])
    too_small = too_small_in_number(extents, shares)
    assert too_small.tolist() == [False, True, True]
    scores = np.zeros((3, 10))
    scores[:, 3] = 10.0
    readings = read(scores, extents, Calibration(), 0.6, too_small)
    assert readings.verdicts == ["digit", "not_a_digit", "not_a_digit"]
