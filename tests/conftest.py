"""Fixtures shared across the suite: the cached MNIST (fetched by the test command)."""

from pathlib import Path

import pytest

from model.data import load_mnist, to_float

ROOT = Path(__file__).resolve().parents[1]
DATA_HOME = ROOT / "var"


@pytest.fixture(scope="session")
def mnist():
    return load_mnist(DATA_HOME)


@pytest.fixture(scope="session")
def mnist_small(mnist):
    """The first 20,000 training images (uint8 (n, 28, 28)) and labels."""
    return mnist.train_x[:20_000], mnist.train_y[:20_000]


@pytest.fixture(scope="session")
def mnist_test(mnist):
    """The MNIST test set as float32 (10000, 784) and labels (10000,)."""
    return to_float(mnist.test_x), mnist.test_y
