"""Real pen marks (model/real_marks.py): only the fit writers', drawn as the page draws, and they
join a run that learns marks."""

import gzip
import json

import numpy as np
import pytest

from model import pendigits, real_marks, trust
from model.train import NOT_A_DIGIT, TrainConfig, training_set, training_set_size


def _copy() -> list[dict]:
    with gzip.open(real_marks.MARKS, "rt") as f:
        return json.load(f)


def test_the_copy_holds_letters_and_symbols_in_the_pen_data_format():
    marks = _copy()
    assert len(marks) == 951
    assert all(set(m) >= {"id", "label", "writer", "strokes"} for m in marks)
    assert not any(m["label"].isdigit() for m in marks)
    assert len({m["writer"] for m in marks}) == 23


@pytest.mark.skipif(
    not (pendigits.PEN_MARKS.is_file() and pendigits.PEN_DIGITS.is_file()),
    reason="needs ../shared's pen data",
)
def test_the_copy_is_exactly_the_fit_writers_marks_so_the_held_out_writers_stay_unseen():
    digit_writers = [d.writer for d in pendigits.load(pendigits.PEN_DIGITS)]
    shared = pendigits.load(pendigits.PEN_MARKS)
    fitting = trust.fit_writers(digit_writers, [m.writer for m in shared])
    copied = {m["id"] for m in _copy()}
    assert copied == {m.id for m in shared if m.writer in fitting}
    held_out = {m.writer for m in shared} - fitting
    assert held_out and not held_out & {m["writer"] for m in _copy()}


def test_a_sample_takes_every_mark_as_often_as_it_can_then_a_seeded_choice():
    total = len(_copy())
    few = real_marks.sample(40, seed=0)
    assert few.shape == (40, 28, 28) and few.dtype == np.uint8
    pendigits._cache.clear()  # drawn again, not read back from memory: the same images
    assert np.array_equal(few, real_marks.sample(40, seed=0))
    assert not np.array_equal(few, real_marks.sample(40, seed=1))
    every = real_marks.sample(total, seed=0)
    assert len({image.tobytes() for image in every}) == total  # each mark once
    chosen = np.sort(np.random.default_rng(0).permutation(total)[:5])  # pendigits' seeded choice
    many = real_marks.sample(2 * total + 5, seed=0)
    assert np.array_equal(many[:total], every) and np.array_equal(many[total : 2 * total], every)
    assert np.array_equal(many[2 * total :], every[chosen])
    assert np.array_equal(few, every[np.sort(np.random.default_rng(0).permutation(total)[:40])])
    assert real_marks.sample(0, seed=0).shape == (0, 28, 28)
    for image in few:  # MNIST form: the ink fills the 20 px box along its longer side
        rows = np.flatnonzero(image.max(axis=1) > 25)
        cols = np.flatnonzero(image.max(axis=0) > 25)
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (19, 20, 21)


def test_real_marks_join_only_a_run_that_learns_marks(mnist_small):
    images, labels = mnist_small
    config = TrainConfig(max_train_samples=1000, synthetic_share=0, mark_share=0.1)
    data = training_set(config, images, labels)
    # 1,000 MNIST images, 100 synthetic marks and 100 real ones
    assert len(data.labels) == 1200 == training_set_size(config, len(labels))
    assert (data.labels == NOT_A_DIGIT).sum() == 200
    assert np.array_equal(data.images[-100:], real_marks.sample(100, config.seed))
    without = TrainConfig(max_train_samples=1000, synthetic_share=0, mark_share=0)
    assert len(training_set(without, images, labels).labels) == 1000
    assert training_set_size(without, len(labels)) == 1000
