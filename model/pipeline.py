"""Train, evaluate, describe: the steps shared by ``digits train`` and the admin's retrain jobs.

``train_and_evaluate`` trains a network on MNIST (and, when asked, on user-labelled drawings,
oversampled), measures it on the MNIST test set and on the held-back drawings, calibrates it on
drawn digits when the pen data is there (``model.trust``), and builds the metadata a registry
version stores (config, data fingerprint, calibration, metrics, per-epoch history).
Nothing here writes to disk; the caller decides whether and where the model goes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from model import trust
from model.data import Mnist, to_float
from model.feedback_data import DEFAULT_WEIGHT, FeedbackSplit
from model.network import MLP
from model.train import Callback, TrainConfig, TrainResult, evaluate, train
from model.verdict import Calibration


@dataclass
class Trained:
    network: MLP
    meta: dict  # ready for Registry.add: config, data_fingerprint, metrics, history
    result: TrainResult
    test: dict  # evaluate(): accuracy, per_class (10,), confusion (10, 10)
    held_back: dict | None = None  # the same on the held-back feedback (+ size), if any


def evaluate_held_back(network: MLP, feedback: FeedbackSplit | None) -> dict | None:
    """Accuracy on the held-back feedback drawings, or None when there are none."""
    if feedback is None or len(feedback.held_y) == 0:
        return None
    result = evaluate(network, to_float(feedback.held_x), feedback.held_y)
    return {**result, "size": int(len(feedback.held_y))}


def build_meta(
    config: TrainConfig,
    mnist: Mnist,
    result: TrainResult,
    test: dict,
    held_back: dict | None = None,
    feedback: dict | None = None,
    calibration: Calibration | None = None,
    drawn: dict | None = None,
) -> dict:
    """The metadata of a freshly trained model: how it was made and what it measured. ``drawn``:
    the figures of ``trust.measure``, when the calibration was fitted on drawn digits."""
    held = held_back or {}
    return {
        "config": config.to_dict(),
        "data_fingerprint": mnist.fingerprint,
        "calibration": {
            **asdict(calibration or Calibration()),
            "fitted_on": trust.FITTED_ON if drawn else None,
        },
        "metrics": {
            "mnist_test_accuracy": test["accuracy"],  # the argmax over every output
            # a model with a "not a digit" output: the digit it names, and how often it says
            # "not a digit" (at its calibrated threshold) to a digit
            "mnist_test_digit_accuracy": test.get("digit_accuracy", test["accuracy"]),
            "mnist_test_flagged": test.get("flagged", 0.0),
            "mnist_test_per_class": test["per_class"],
            "mnist_test_confusion": test["confusion"],
            "validation_accuracy": result.validation_accuracy,
            "best_epoch": result.best_epoch,
            "train_seconds": round(result.seconds, 1),
            "feedback_accuracy": held.get("accuracy"),
            "feedback_size": held.get("size", 0),
            "feedback_per_class": held.get("per_class"),
            "drawn": drawn,
        },
        "feedback": feedback,
        "history": result.history,
    }


def train_and_evaluate(
    config: TrainConfig,
    mnist: Mnist,
    callback: Callback | None = None,
    feedback: FeedbackSplit | None = None,
    train_on_feedback: bool = False,
    feedback_weight: int = DEFAULT_WEIGHT,
    drawn: trust.Drawn | None = None,
) -> Trained:
    """Train on MNIST's training images, evaluate on its test set, and describe the result.

    With ``feedback``, the model is also scored on its held-back part; with ``train_on_feedback``
    its training part joins the training split (never the validation split), each sample
    repeated ``feedback_weight`` times an epoch. ``config.max_train_samples`` picks the same MNIST
    subset either way, so runs with and without feedback differ only by the feedback. With
    ``drawn`` (``trust.load()``), the model's temperature and "not a digit" threshold are fitted
    on drawn digits and measured there.
    """
    mixing = train_on_feedback and feedback is not None and len(feedback.train_y) > 0
    extra = None
    if mixing:
        extra = (*feedback.trainable(config.classes), feedback_weight)
    result = train(config, mnist.train_x, mnist.train_y, callback=callback, extra=extra)
    test = evaluate(result.network, to_float(mnist.test_x), mnist.test_y)
    held = evaluate_held_back(result.network, feedback)
    calibration, drawn_figures = trust.calibrate(result.network, drawn)
    reading = trust.digit_reading(result.network, calibration, to_float(mnist.test_x), mnist.test_y)
    described = None
    if feedback is not None:
        described = {
            "trained_on": mixing,
            "weight": feedback_weight if mixing else 0,
            "train_samples": int(len(feedback.train_y)) if mixing else 0,
            "held_back": int(len(feedback.held_y)),
            "fingerprint": feedback.fingerprint,
        }
    test = {**test, **reading}
    meta = build_meta(config, mnist, result, test, held, described, calibration, drawn_figures)
    return Trained(result.network, meta, result, test, held)
