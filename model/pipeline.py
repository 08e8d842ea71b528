"""Train, evaluate, describe: the steps shared by ``digits train`` and the admin's retrain jobs.

``train_and_evaluate`` trains a network on MNIST, measures it on the MNIST test set, and builds
the metadata a registry version stores (config, data fingerprint, metrics, per-epoch history).
Nothing here writes to disk; the caller decides whether and where the model goes.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.data import Mnist, to_float
from model.network import MLP
from model.train import Callback, TrainConfig, TrainResult, evaluate, train


@dataclass
class Trained:
    network: MLP
    meta: dict  # ready for Registry.add: config, data_fingerprint, metrics, history
    result: TrainResult
    test: dict  # evaluate(): accuracy, per_class (10,), confusion (10, 10)


def build_meta(config: TrainConfig, mnist: Mnist, result: TrainResult, test: dict) -> dict:
    """The metadata of a freshly trained model: how it was made and what it measured."""
    return {
        "config": config.to_dict(),
        "data_fingerprint": mnist.fingerprint,
        "metrics": {
            "mnist_test_accuracy": test["accuracy"],
            "mnist_test_per_class": test["per_class"],
            "mnist_test_confusion": test["confusion"],
            "validation_accuracy": result.validation_accuracy,
            "best_epoch": result.best_epoch,
            "train_seconds": round(result.seconds, 1),
        },
        "history": result.history,
    }


def train_and_evaluate(
    config: TrainConfig, mnist: Mnist, callback: Callback | None = None
) -> Trained:
    """Train on MNIST's training images, evaluate on its test set, and describe the result."""
    result = train(config, mnist.train_x, mnist.train_y, callback=callback)
    test = evaluate(result.network, to_float(mnist.test_x), mnist.test_y)
    return Trained(result.network, build_meta(config, mnist, result, test), result, test)
