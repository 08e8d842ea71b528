"""The verdict on a drawing: a digit, unsure, or not a digit, with probabilities that mean it.

The rules, in order:

1. **Too small**: ink whose longer side is under ``MIN_EXTENT`` of the image's longer side (a
   tap, a dot, a short tick on a canvas) is not a digit. It is measured on the image as it was
   drawn, before anything is scaled: in MNIST form every mark fills the same 20×20 box. Pixels
   sent already in MNIST form carry no such size and skip this rule.

   In a number (``model.segment``) each mark is measured on its own: it is too small when its
   longer side is under ``MIN_EXTENT`` of the image's *shorter* side (for a square image, the
   rule above, so one digit gets the same verdict either way; on the wide canvas of a number,
   its height is what a digit fills), or under ``MIN_SHARE`` of the tallest digit's height (a
   dot, a comma or a short tick between digits of a number written small).
2. **Not a digit**: a model with an eleventh output ("not a digit", learnt from the marks of
   ``model.marks``) says so when that output's probability, a softmax over all eleven scores,
   reaches the model's threshold.
3. **Unsure**: the top digit's calibrated probability is under the unsure threshold.
4. Otherwise a **digit**.

The ten digit probabilities are always a softmax over the ten digit scores alone, divided by the
model's temperature (``model.calibrate``), so they sum to 1 and mean what they say whatever the
verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.calibrate import softmax

DIGIT, UNSURE, NOT_A_DIGIT = "digit", "unsure", "not_a_digit"
VERDICTS = (DIGIT, UNSURE, NOT_A_DIGIT)
# Ink under 17 % of the canvas's side, the brush included (48 of 280 px: a tick up to ~27 px long
# with the page's 21 px brush), is no digit; the smallest digits people draw on purpose are
# about a quarter of the canvas (70 px).
MIN_EXTENT = 0.17
MIN_SHARE = 0.3  # in a number, a mark under this × the tallest digit's height is too small


@dataclass(frozen=True)
class Calibration:
    """A model's fitted numbers: the digits' softmax temperature, and the probability of "not a
    digit" from which its eleventh output decides."""

    temperature: float = 1.0
    not_a_digit_threshold: float = 0.5

    @classmethod
    def of(cls, meta: dict) -> Calibration:
        """The calibration a model's metadata records (the defaults for a model without one)."""
        fitted = meta.get("calibration") or {}
        return cls(
            temperature=float(fitted.get("temperature", cls.temperature)),
            not_a_digit_threshold=float(
                fitted.get("not_a_digit_threshold", cls.not_a_digit_threshold)
            ),
        )


@dataclass(frozen=True)
class Readings:
    """The verdicts on n drawings."""

    probabilities: np.ndarray  # (n, 10) calibrated digit probabilities
    not_a_digit: np.ndarray | None  # (n,) probability of the eleventh output, or None
    too_small: np.ndarray  # (n,) bool
    verdicts: list[str]  # one of VERDICTS each


def too_small_in_number(extents: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """The marks of a number that are too small (rule 1, in a number): each mark's extent (n,)
    (its longer side ÷ the image's shorter side) and share (n,) (its longer side ÷ the tallest
    digit's height) → (n,) bool."""
    extents = np.asarray(extents, dtype=np.float64)
    return (extents < MIN_EXTENT) | (np.asarray(shares, dtype=np.float64) < MIN_SHARE)


def read(
    scores: np.ndarray,
    extents: np.ndarray,
    calibration: Calibration,
    unsure_threshold: float,
    too_small: np.ndarray | None = None,
) -> Readings:
    """scores (n, 10 or 11) before softmax, extents (n,) (NaN: no size known) → the verdicts.
    ``too_small`` (n,) bool, when given, replaces the extents' rule (a number's marks)."""
    scores = np.asarray(scores, dtype=np.float64)
    probabilities = softmax(scores[:, :10], calibration.temperature)
    if too_small is None:
        too_small = np.nan_to_num(np.asarray(extents, dtype=np.float64), nan=1.0) < MIN_EXTENT
    too_small = np.asarray(too_small, dtype=bool)
    not_a_digit = softmax(scores)[:, 10] if scores.shape[1] > 10 else None
    rejected = too_small.copy()
    if not_a_digit is not None:
        rejected |= not_a_digit >= calibration.not_a_digit_threshold
    unsure = probabilities.max(axis=1) < unsure_threshold
    verdicts = [NOT_A_DIGIT if r else UNSURE if u else DIGIT for r, u in zip(rejected, unsure)]
    return Readings(probabilities, not_a_digit, too_small, verdicts)
