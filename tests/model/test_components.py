"""Connected components of ink, checked against a plain flood fill."""

from __future__ import annotations

import numpy as np

from model.components import components, runs


def flood_fill(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """The reference: 8-connected labels by depth-first search, pixel by pixel."""
    h, w = mask.shape
    labels = np.full((h, w), -1)
    count = 0
    for y in range(h):
        for x in range(w):
            if not mask[y, x] or labels[y, x] >= 0:
                continue
            labels[y, x], stack = count, [(y, x)]
            while stack:
                cy, cx = stack.pop()
                for ny in range(max(cy - 1, 0), min(cy + 2, h)):
                    for nx in range(max(cx - 1, 0), min(cx + 2, w)):
                        if mask[ny, nx] and labels[ny, nx] < 0:
                            labels[ny, nx] = count
                            stack.append((ny, nx))
            count += 1
    return labels, count


def test_components_match_a_flood_fill_on_random_masks():
    rng = np.random.default_rng(0)
    for _ in range(150):
        shape = tuple(rng.integers(1, 25, 2))
        mask = rng.random(shape) < rng.uniform(0.05, 0.7)
        found = components(mask)
        labels, count = flood_fill(mask)
        assert found.count == count
        assert (found.labels >= 0).tolist() == mask.tolist()
        # the same partition: each reference label maps to exactly one found label, and back
        pairs = set(zip(labels[mask].tolist(), found.labels[mask].tolist()))
        assert len(pairs) == count
        for label in range(found.count):
            ys, xs = np.nonzero(found.labels == label)
            assert found.boxes[label].tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
            assert found.areas[label] == len(ys)


def test_diagonal_neighbours_are_connected_and_numbering_follows_the_first_run():
    mask = np.zeros((4, 6), dtype=bool)
    mask[0, 4:6] = True  # found first: its run starts the mask
    mask[1, 0] = mask[2, 1] = mask[3, 2] = True  # a diagonal line: one component
    found = components(mask)
    assert found.count == 2
    assert found.labels[0, 4] == 0 and found.labels[3, 2] == 1
    assert found.boxes.tolist() == [[4, 0, 6, 1], [0, 1, 3, 4]]


def test_runs_of_a_mask():
    mask = np.array([[1, 1, 0, 1], [0, 0, 0, 0], [1, 1, 1, 1]], dtype=bool)
    rows, starts, stops = runs(mask)
    assert rows.tolist() == [0, 0, 2]
    assert starts.tolist() == [0, 3, 0]
    assert stops.tolist() == [2, 4, 4]
    assert components(np.zeros((3, 3), dtype=bool)).count == 0
