"""Fitting and measuring how far a model's answers can be trusted, on drawings made by people.

The drawings are the shared pen data, rendered as the page's canvas renders them and brought to
MNIST form by the server's own preprocessing (``model.pendigits``): 7,494 digits by 30 writers,
and 1,481 letters and symbols by 36 writers at five institutions. The digits never train a
network, and the marks only those of the fit writers (``model.real_marks``, a copy in the
repository); they fit two numbers per model and then measure it, each on its own writers:

- **fit**: 20 of the 30 digit writers, and two thirds of the mark writers of each institution
  (seeded, fixed): the temperature that minimises the digits' NLL, and the "not a digit"
  threshold, the lowest at which at most ``MAX_FALSE_FLAGS`` of the fit writers' digits are
  called not a digit.
- **held out**: the other 10 digit writers and third of the mark writers, where every figure of
  ``measure`` is taken.

Rendering takes about 40 s on two cores, so ``load`` keeps the result in the user's cache folder
(``$XDG_CACHE_HOME/digits``, shared by every data home: it depends on nothing in one) and renders
again only when the pen data or the code that renders it changes.
Without the pen data (a machine that has only the repository) there is nothing to fit on: a
model then keeps the default calibration (temperature 1, threshold ½), and says so.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from model import pendigits, preprocess
from model.atomic import atomic_write
from model.calibrate import (
    expected_calibration_error,
    fit_temperature,
    reliability,
    softmax,
)
from model.network import MLP
from model.verdict import Calibration

FIT_WRITERS = 20  # of the 30 digit writers
# Digits of the fit writers the threshold may call "not a digit": 0.5 %, so that on writers it
# has never seen it stays under 1 %. Writers it has not seen are flagged more often than the fit
# writers (0.64–1.36 % of the held-out ten at 0.75 %, for networks that learnt real marks).
MAX_FALSE_FLAGS = 0.005
SPLIT_SEED = 20261129
TOP_BIN = 14 / 15  # the top of the 15 calibration bins: answers above it are the sure ones
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "digits"
FITTED_ON = "pen data: 20 of 30 digit writers, two thirds of the mark writers"


@dataclass(frozen=True)
class Drawn:
    """Rendered pen data: x (n, 784), labels (n,) digits, or -1 for a mark; fit (n,) bool."""

    x: np.ndarray
    labels: np.ndarray
    fit: np.ndarray

    @property
    def digits(self) -> np.ndarray:
        return self.labels >= 0


def drawn(processes: int = 2) -> Drawn:
    """The pen digits and pen marks, rendered (about 40 s on two cores), split fit/held out."""
    digits = pendigits.mnist_form(seed=0, processes=processes)
    marks = pendigits.mnist_form(seed=0, processes=processes, path=pendigits.PEN_MARKS)
    fitting = fit_writers(digits.writers, marks.writers)
    return Drawn(
        x=np.concatenate([digits.x, marks.x]),
        labels=np.concatenate([digits.labels, np.full(len(marks.labels), -1)]),
        fit=np.array([w in fitting for w in digits.writers + marks.writers]),
    )


def fit_writers(digit_writers, mark_writers) -> set[str]:
    """The writers whose drawings fit the calibration (seeded, fixed): ``FIT_WRITERS`` of the
    digit writers, and two thirds of each institution's mark writers. Everyone else is held out.
    """
    rng = np.random.default_rng(SPLIT_SEED)
    chosen = set(rng.permutation(sorted(set(digit_writers)))[:FIT_WRITERS].tolist())
    by_institution: dict[str, list[str]] = {}
    for writer in sorted(set(mark_writers)):
        by_institution.setdefault(writer.split("/")[0], []).append(writer)
    for writers in by_institution.values():
        chosen |= set(rng.permutation(writers)[: round(len(writers) * 2 / 3)].tolist())
    return chosen


def load(cache: Path = CACHE, processes: int = 2) -> Drawn | None:
    """The rendered pen data, from the cache folder when it is current (else rendered and
    cached); None when the pen data is missing."""
    sources = (pendigits.PEN_DIGITS, pendigits.PEN_MARKS)
    if not all(path.is_file() for path in sources):
        return None
    key = _fingerprint(*sources, Path(pendigits.__file__), Path(preprocess.__file__))
    path = cache / f"drawn-{key[:16]}.npz"
    if path.is_file():
        with np.load(path) as stored:
            return Drawn(x=stored["x"], labels=stored["labels"], fit=stored["fit"])
    data = drawn(processes)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=data.x, labels=data.labels, fit=data.fit)
    atomic_write(path, lambda f: f.write(buffer.getvalue()))
    for stale in cache.glob("drawn-*.npz"):
        if stale != path:
            stale.unlink(missing_ok=True)
    return data


def _fingerprint(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def calibrate(network: MLP, data: Drawn | None) -> tuple[Calibration, dict | None]:
    """Fit a model's calibration and measure it on the held-out writers, for its metadata:
    (the calibration, the figures), or the defaults and None without pen data."""
    if data is None:
        return Calibration(), None
    calibration = fit(network, data)
    return calibration, measure(network, calibration, data)


def scores(network: MLP, x: np.ndarray) -> np.ndarray:
    """x (n, 784) → the network's scores before softmax (n, 10 or 11), float64."""
    return network.layer_outputs(x, output="scores")[-1].astype(np.float64)


def fit(network: MLP, data: Drawn) -> Calibration:
    """The temperature and the not-a-digit threshold, fitted on the fit writers only."""
    z = scores(network, data.x[data.fit])
    labels = data.labels[data.fit]
    digits = labels >= 0
    temperature = fit_temperature(z[digits][:, :10], labels[digits])
    threshold = Calibration.not_a_digit_threshold
    if z.shape[1] > 10:
        p_not = softmax(z)[digits, 10]
        threshold = float(np.quantile(p_not, 1 - MAX_FALSE_FLAGS))
    return Calibration(temperature=round(temperature, 4), not_a_digit_threshold=threshold)


def measure(network: MLP, calibration: Calibration, data: Drawn) -> dict:
    """On the held-out writers: digit accuracy, calibration before and after (ECE, the answers
    below the top bin, the reliability table), and how many marks and digits are called not a
    digit."""
    held = ~data.fit
    z = scores(network, data.x[held])
    labels = data.labels[held]
    digits = labels >= 0
    before = softmax(z[digits][:, :10], 1.0)
    after = softmax(z[digits][:, :10], calibration.temperature)
    truth = labels[digits]
    figures = {
        "digits": int(digits.sum()),
        "marks": int((~digits).sum()),
        "accuracy": float((after.argmax(axis=1) == truth).mean()),
        "ece_before": expected_calibration_error(before, truth),
        "ece_after": expected_calibration_error(after, truth),
        "below_top_bin_before": _below_top_bin(before, truth),
        "below_top_bin_after": _below_top_bin(after, truth),
        "reliability_after": [asdict(b) for b in reliability(after, truth)],
        "reliability_before": [asdict(b) for b in reliability(before, truth)],
    }
    if z.shape[1] > 10:
        p_not = softmax(z)[:, 10]
        flagged = p_not >= calibration.not_a_digit_threshold
        figures["marks_detected"] = float(flagged[~digits].mean())
        figures["digits_flagged"] = float(flagged[digits].mean())
    return figures


def digit_reading(network: MLP, calibration: Calibration, x: np.ndarray, y: np.ndarray) -> dict:
    """On digits x (n, 784), y (n,): how often the digit the API names is right (the ten digit
    outputs' argmax, whatever the verdict), and how many the verdict calls not a digit."""
    z = scores(network, x)
    flagged = 0.0
    if z.shape[1] > 10:
        flagged = float((softmax(z)[:, 10] >= calibration.not_a_digit_threshold).mean())
    return {"digit_accuracy": float((z[:, :10].argmax(axis=1) == y).mean()), "flagged": flagged}


def _below_top_bin(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """The answers under the top calibration bin: how many, how sure, how often right."""
    confidence = probabilities.max(axis=1)
    under = confidence <= TOP_BIN
    correct = probabilities.argmax(axis=1) == labels
    return {
        "count": int(under.sum()),
        "confidence": float(confidence[under].mean()) if under.any() else None,
        "accuracy": float(correct[under].mean()) if under.any() else None,
    }


def describe(figures: dict, calibration: dict) -> str:
    """``measure``'s figures in a few lines, as the CLI and the benchmark print them."""
    lines = [
        f"drawn digits of held-out writers: {figures['accuracy']:.2%} of {figures['digits']:,} "
        f"right; ECE {figures['ece_before']:.2%} before, {figures['ece_after']:.2%} after "
        f"calibration (temperature {calibration['temperature']:.3g})",
    ]
    for when in ("before", "after"):
        below = figures[f"below_top_bin_{when}"]
        if below["count"]:
            lines.append(
                f"  under {TOP_BIN:.1%} confidence, {when}: {below['count']} answers claim "
                f"{below['confidence']:.1%} on average and are right {below['accuracy']:.1%}"
            )
    if "marks_detected" in figures:
        lines.append(
            f"not a digit: {figures['marks_detected']:.1%} of {figures['marks']:,} held-out marks, "
            f"{figures['digits_flagged']:.2%} of the digits (threshold "
            f"{calibration['not_a_digit_threshold']:.3g})"
        )
    return "\n".join(lines)
