"""Augmentation keeps digits recognisable, in range, and is reproducible from its seed."""

import numpy as np

from model.augment import Distortion, distort


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
    none = Distortion(rotate_degrees=0, scale=(1, 1), aspect=0, shear=0, shift=0, elastic=0,
                      thickness_probability=0)  # fmt: skip
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
