"""The generated part of a training split, kept on disk (model/generated.py): made once, then
read back the same, bit for bit; small sets never written; a few files kept at most."""

import numpy as np
import pytest

from model import generated, marks, real_marks, synth


@pytest.fixture
def counted(monkeypatch):
    """Count how often the sets are actually made, and make them small enough to be cached."""
    calls = []
    make = generated._make
    monkeypatch.setattr(generated, "MIN_CACHED", 100)
    monkeypatch.setattr(generated, "_make", lambda *a: calls.append(a) or make(*a))
    return calls


def _same(a: generated.Generated, b: generated.Generated) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(vars(a).values(), vars(b).values()))


def test_a_set_is_made_once_then_read_back_bit_for_bit(counted, tmp_path):
    first = generated.made(0, 60, 30, 20, cache=tmp_path)
    again = generated.made(0, 60, 30, 20, cache=tmp_path)
    assert len(counted) == 1 and _same(first, again)
    for made in (first, again):
        assert [a.dtype for a in vars(made).values()] == [np.uint8] * 4
        assert [a.shape[0] for a in vars(made).values()] == [60, 60, 30, 20]
    assert first.digits.shape == (60, 28, 28) and first.digit_labels.tolist()[:3] == [0, 1, 2]
    assert first.marks.shape == (30, 28, 28) and first.real_marks.shape == (20, 28, 28)
    digits, labels = synth.synthetic_set(60, 0)  # what the makers make afresh
    assert np.array_equal(first.digits, digits) and np.array_equal(first.digit_labels, labels)
    assert np.array_equal(first.marks, marks.marks(30, 0))
    assert np.array_equal(first.real_marks, real_marks.sample(20, 0))
    generated.made(1, 60, 30, 20, cache=tmp_path)  # another seed is another set
    generated.made(0, 60, 30, 21, cache=tmp_path)  # and so are other counts
    assert len(counted) == 3


def test_small_sets_are_never_written(counted, tmp_path):
    generated.made(0, 10, 10, 10, cache=tmp_path)
    generated.made(0, 10, 10, 10, cache=tmp_path)
    assert len(counted) == 2 and not list(tmp_path.glob("*"))


def test_only_the_most_recently_used_files_stay(counted, tmp_path):
    for seed in range(generated.KEEP + 2):
        generated.made(seed, 100, 0, 0, cache=tmp_path)
    assert len(list(tmp_path.glob("generated-*.npz"))) == generated.KEEP
    generated.made(generated.KEEP + 1, 100, 0, 0, cache=tmp_path)  # the newest: still there
    assert len(counted) == generated.KEEP + 2
    generated.made(0, 100, 0, 0, cache=tmp_path)  # the oldest went: made again
    assert len(counted) == generated.KEEP + 3


def test_an_unreadable_file_is_made_again_and_an_unwritable_cache_is_no_error(counted, tmp_path):
    generated.made(0, 100, 0, 0, cache=tmp_path)
    (path,) = tmp_path.glob("generated-*.npz")
    path.write_bytes(b"not a zip file")
    again = generated.made(0, 100, 0, 0, cache=tmp_path)
    assert len(counted) == 2 and again.digits.shape == (100, 28, 28)
    blocked = tmp_path / "a-file"
    blocked.write_text("a cache folder cannot be made under a file")
    assert generated.made(0, 100, 0, 0, cache=blocked / "cache").digits.shape == (100, 28, 28)
