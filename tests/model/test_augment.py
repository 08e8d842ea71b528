"""Augmentation keeps digits recognisable, in range, and is reproducible from its seed."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from model.augment import Distortion, distort

ROOT = Path(__file__).resolve().parents[2]


def test_distort_shapes_range_and_reproducibility(mnist_small):
    images = mnist_small[0][:500]
    a = distort(images, np.random.default_rng(3))
    b = distort(images, np.random.default_rng(3))
    assert a.shape == (500, 784) and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 1
    assert np.array_equal(a, b)
    assert not np.array_equal(a, distort(images, np.random.default_rng(4)))


def test_zero_distortion_is_the_identity(mnist_small):
    images = mnist_small[0][:50]
    none = Distortion(
        rotate_degrees=0,
        scale=(1, 1),
        aspect=0,
        shear=0,
        shift=0,
        elastic=0,
        thickness_probability=0,
    )
    out = distort(images, np.random.default_rng(0), none)
    np.testing.assert_allclose(out, images.reshape(50, -1) / 255, atol=1e-5)


def test_distortions_move_ink_but_keep_most_of_it(mnist_small):
    images = mnist_small[0][:1000]
    out = distort(images, np.random.default_rng(0))
    before = images.reshape(1000, -1).sum(axis=1) / 255
    after = out.sum(axis=1)
    ratio = np.median(after / before)
    assert 0.7 < ratio < 1.4, ratio
    assert np.abs(out - images.reshape(1000, -1) / 255).mean() > 0.02


_TRAINER = """
import sys
import numpy as np
from model.train import TrainConfig, train
rng = np.random.default_rng(0)
images = rng.integers(0, 255, (20000, 28, 28), dtype=np.uint8)
labels = rng.integers(0, 10, 20000)
print("training", flush=True)
# No generated digits or marks: the trainer's only child is then the augmentation worker.
config = TrainConfig(hidden=(8,), epochs=1000, synthetic_share=0, mark_share=0, augment=True)
train(config, images, labels)
"""


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"  # a zombie is dead, only not yet reaped
    except OSError:
        return False


def test_the_augmentation_worker_dies_with_its_trainer():
    """After SIGKILL of a trainer, its forked worker finished its epoch and then blocked for
    ever, holding 238 MB (a child of PID 1 by then)."""
    trainer = subprocess.Popen(
        [sys.executable, "-c", _TRAINER], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    worker = None
    try:
        assert trainer.stdout.readline().strip() == "training"
        deadline = time.monotonic() + 30
        while not _children(trainer.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        (worker,) = _children(trainer.pid)
        os.kill(trainer.pid, signal.SIGKILL)
        trainer.wait(10)
        deadline = time.monotonic() + 5
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(worker)
    finally:
        trainer.kill()
        if worker is not None and _alive(worker):
            os.kill(worker, signal.SIGKILL)  # the failure this test is about: clean it up
