"""The training images of each epoch: as they are, or distorted afresh by a worker process.

With augmentation, a forked worker distorts epoch e + 1 while the trainer runs epoch e, so an
epoch costs max(distort, train) rather than their sum. The worker gets the images once, at fork,
and sends back uint8 epochs (4× smaller than float32). Each epoch's distortions come from its
own seeded generator, so the result does not depend on timing.

The worker dies with the trainer: it asks the kernel for SIGKILL when its parent ends (Linux's
PR_SET_PDEATHSIG), however the parent ends. Otherwise a worker whose trainer was killed finishes
its epoch and then blocks for ever on the result pipe, holding its memory (it holds the pipe's
other end itself, from the fork).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from concurrent.futures import Future, ProcessPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from model.augment import distort

_worker_images: np.ndarray | None = None  # the worker's copy, set once at fork
_PR_SET_PDEATHSIG = 1  # prctl(2): a signal the kernel sends this process when its parent dies


class Epochs:
    """``images`` (n, 28, 28) uint8 → each epoch's images (n, 784) uint8, in the same order.

    Use as a context manager: the worker (if any) is stopped on leaving it.
    """

    def __init__(self, images: np.ndarray, augment: bool, seed: int, epochs: int):
        self.plain = images.reshape(len(images), -1)
        self.seed, self.epochs = seed, epochs
        self._pool: ProcessPoolExecutor | None = None
        self._next: Future | None = None
        if augment:
            self._pool = ProcessPoolExecutor(
                1,
                multiprocessing.get_context("fork"),
                initializer=_init_worker,
                initargs=(images, os.getpid()),
            )
            self._next = self._pool.submit(_augmented_epoch, seed, 0)

    def __enter__(self) -> Epochs:
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def get(self, epoch: int) -> np.ndarray:
        """Epoch ``epoch``'s images; asks the worker for the next one before returning."""
        if self._pool is None:
            return self.plain
        images = self._next.result()
        if epoch + 1 < self.epochs:
            self._next = self._pool.submit(_augmented_epoch, self.seed, epoch + 1)
        return images


def _init_worker(images: np.ndarray, parent: int) -> None:
    global _worker_images
    _worker_images = images
    _die_with(parent)


def _die_with(parent: int) -> None:
    """Have the kernel kill this worker when its parent ends (Linux; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)


def _augmented_epoch(seed: int, epoch: int) -> np.ndarray:
    rng = np.random.default_rng([seed, 2, epoch])
    with threadpool_limits(1):
        x = distort(_worker_images, rng)
    return np.round(x * 255).astype(np.uint8)
