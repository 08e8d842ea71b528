"""What the active model gets wrong: its MNIST test confusion matrix and most confident mistakes.

A model with a "not a digit" output gets an eleventh column: the test digits it flagged, which
count as mistakes (a real digit refused is an answer the person did not want).

Computed once per model version and kept (a forward pass over 10,000 test images takes a few
hundred milliseconds); the MNIST test set is read on first use (``load``: from the data home, or
through the shared database when it is not there yet).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable

import numpy as np

from model.data import Mnist, to_float
from model.modelfile import LoadedModel
from model.train import confusion_matrix

WRONG_SHOWN = 24  # the most confidently wrong test digits returned


class Insights:
    def __init__(self, load: Callable[[], Mnist]):
        self.load = load
        self._test: tuple[np.ndarray, np.ndarray] | None = None
        self._cache: dict[str, dict] = {}
        self._lock = threading.Lock()

    def _test_set(self) -> tuple[np.ndarray, np.ndarray]:
        if self._test is None:
            mnist = self.load()  # raises DataError when there is no cache
            self._test = (mnist.test_x.copy(), mnist.test_y.copy())
        return self._test

    def for_model(self, model: LoadedModel) -> dict:
        with self._lock:  # one computation at a time; later callers get the cached result
            cached = self._cache.get(model.version)
            if cached is None:
                cached = self._compute(model)
                self._cache = {model.version: cached}  # only the served model is worth keeping
            return cached

    def _compute(self, model: LoadedModel) -> dict:
        images, labels = self._test_set()
        x = to_float(images)
        probs = np.concatenate(
            [model.network.predict(x[i : i + 2000]) for i in range(0, len(x), 2000)]
        )
        predicted = probs.argmax(axis=1)
        confusion = confusion_matrix(labels, predicted, classes=probs.shape[1])
        wrong = np.flatnonzero(predicted != labels)
        confidence = probs[wrong, predicted[wrong]]
        worst = wrong[np.argsort(-confidence, kind="stable")[:WRONG_SHOWN]]
        return {
            "version": model.version,
            "accuracy": float(confusion.trace() / len(labels)),
            "digit_accuracy": float(np.mean(probs[:, :10].argmax(axis=1) == labels)),
            "test_size": int(len(labels)),
            "errors": int(len(wrong)),
            "confusion": confusion.tolist(),
            "most_confident_mistakes": [
                {
                    "index": int(i),
                    "label": int(labels[i]),
                    "predicted": int(predicted[i]),
                    "confidence": round(float(probs[i, predicted[i]]), 6),
                    "probability_of_label": round(float(probs[i, labels[i]]), 6),
                    # 784 bytes, row-major, 0-255 with ink = 255 (MNIST's own form)
                    "pixels_base64": base64.b64encode(images[i].tobytes()).decode(),
                }
                for i in worst
            ],
        }
