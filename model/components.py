"""The connected pieces of ink in a mask: each one's pixels and box, in NumPy alone.

Two ink pixels belong to one component when a path of ink pixels joins them, each step to one of
the 8 neighbours. The mask is read as horizontal runs (a row's consecutive ink pixels), so the
work grows with the number of runs, a few per row for a drawing, not with the pixels:

1. runs: row r, columns [start, stop), found with one ``np.diff`` over the padded mask;
2. edges: a run touches a run of the next row when their columns overlap once each is widened by
   one pixel (8-connectivity), found for all runs at once with ``np.searchsorted``;
3. labels: the edges are joined by vectorised union-find: every edge hooks the larger of its two
   roots under the smaller (``np.minimum.at``), then pointer jumping (parent ← parent[parent])
   flattens the trees; repeated until no edge joins two roots, a few rounds for a drawing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Components:
    """The components of an (h, w) mask, numbered 0..count-1 by their first run (top to bottom,
    then left to right)."""

    labels: np.ndarray  # int32 (h, w): the component of each pixel, -1 where there is no ink
    boxes: np.ndarray  # int64 (count, 4): x0, y0, x1, y1 of each, ends exclusive
    areas: np.ndarray  # int64 (count,): pixels in each

    @property
    def count(self) -> int:
        return len(self.areas)


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A bool mask (h, w) → its horizontal runs as (rows, starts, stops), each (n,) int64, in
    row-major order; a run covers columns starts[i] ≤ x < stops[i] of row rows[i]."""
    h, w = mask.shape
    span = w + 2
    padded = np.zeros((h, span), dtype=bool)  # a blank column each side: no run spans two rows
    padded[:, 1:-1] = mask
    flat = padded.reshape(-1)
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1  # alternately a run's start and its stop
    starts, stops = edges[0::2], edges[1::2]
    rows = starts // span
    return rows, starts - rows * span - 1, stops - rows * span - 1


def _touching(rows, starts, stops, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a, b) of runs where b, in the row below a, touches a (8-connectivity)."""
    span = width + 2  # a key row*span + column orders runs as the mask does
    start_keys = rows * span + starts
    stop_keys = rows * span + stops
    below = (rows + 1) * span
    # b touches a iff start_b ≤ stop_a and stop_b ≥ start_a (stops are exclusive, so this is the
    # overlap of the two runs once each is widened by one pixel). Runs in a row are sorted and
    # disjoint, so both bounds are sorted too.
    first = np.searchsorted(stop_keys, below + starts, side="left")
    last = np.searchsorted(start_keys, below + stops, side="right")
    counts = np.maximum(last - first, 0)
    a = np.repeat(np.arange(len(rows)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    b = np.repeat(first, counts) + offsets
    return a, b


def _union(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Nodes 0..n-1 and edges (a, b) → each node's root: the smallest node of its component."""
    parent = np.arange(n)
    while True:
        ra, rb = parent[a], parent[b]
        apart = ra != rb
        if not apart.any():
            return parent
        low, high = np.minimum(ra[apart], rb[apart]), np.maximum(ra[apart], rb[apart])
        np.minimum.at(parent, high, low)
        while True:  # pointer jumping: every node straight to its root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand


def components(mask: np.ndarray) -> Components:
    """A bool mask (h, w) → its 8-connected components."""
    h, w = mask.shape
    rows, starts, stops = runs(mask)
    root = _union(len(rows), *_touching(rows, starts, stops, w))
    roots, run_label = np.unique(root, return_inverse=True)  # roots ascend: first-run order
    count = len(roots)
    lengths = stops - starts
    labels = np.full((h, w), -1, dtype=np.int32)
    # Every ink pixel's flat index, run by run, and the label of its run.
    pixel_run = np.repeat(np.arange(len(rows)), lengths)
    within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    labels.reshape(-1)[rows[pixel_run] * w + starts[pixel_run] + within] = run_label[pixel_run]

    boxes = np.empty((count, 4), dtype=np.int64)
    boxes[:, 0] = boxes[:, 1] = np.iinfo(np.int64).max
    boxes[:, 2] = boxes[:, 3] = -1
    np.minimum.at(boxes[:, 0], run_label, starts)
    np.minimum.at(boxes[:, 1], run_label, rows)
    np.maximum.at(boxes[:, 2], run_label, stops)
    np.maximum.at(boxes[:, 3], run_label, rows + 1)
    areas = np.bincount(run_label, weights=lengths, minlength=count).astype(np.int64)
    return Components(labels, boxes, areas)
