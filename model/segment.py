"""A drawing of a whole number → one crop per digit, left to right, each in MNIST form.

The pieces of ink (``model.pieces``: components or strokes, touching digits already cut apart
where they might be) come in left-to-right order by their centres. A digit is a run of at most
``MAX_PIECES`` consecutive pieces, and which runs is decided with the network's help: every run
that could be a digit is brought to MNIST form (``model.preprocess.normalise_ink``) and scored
in one forward pass, and the reading is the split of the pieces into runs g₁ … gₙ with the least

    C = Σₖ [ −log p(gₖ) + shape(gₖ) + BESIDE · beside(gₖ) ] + Σ boundary(between gₖ and gₖ₊₁)

- p(g): the network's calibrated probability of its top digit for the run's ink (times
  1 − p(not a digit) for a model with that output). A 5's body without its bar, or a 7 and a 1
  read as one, read worse than the right split.
- shape(g), in units of the line height L (``model.pieces.line_height``), from how digits are
  written. A digit is rarely wider than it is tall (ASPECT × how far width ÷ height goes over
  ASPECT_FREE); rarely much smaller than the line (SMALL × how far its longer side falls under
  SMALL_FREE); holds no empty gap of columns (GAP × how far the widest goes over GAP_FREE); and
  reaches from the line's top to its bottom, the line being where the tall pieces within 2 L
  of it start and end (REACH × how far short it stops, over REACH_FREE). The last keeps the
  two strokes of a 4 together: the first, a short "L", does not reach the baseline.
- beside(g): for each two neighbouring pieces in the run, the share of the narrower one's
  columns they do not share, × the shorter one's height ÷ L (up to 1). Strokes of one digit
  are stacked or crossed (a 5's bar on its body, a 7's crossbar); two tall pieces side by side
  are two digits.
- boundary: splitting two pieces costs OVERLAP × the share of the narrower one's columns they
  share; splitting a component at a cut costs CUT for each stroke the cut crosses after the
  first (a cut across both sides of a 0 is unlikely to be right).
- A mark: for a model with a "not a digit" output, a run may instead be read as a mark, at
  −log p(not a digit) + MARK and no shape price (a mark has any shape), whichever costs less.
  A letter is then one mark, which the number leaves out, rather than a 1 made of its first
  stroke and a mark of the rest (on real pen letters alone, 75 % read as no number, against
  63 % without this; the numbers of digits read the same).

The least C comes from dynamic programming over the pieces, best[j] = min over runs i..j of
best[i] + cost(i..j) + boundary(j), in one pass. Runs of several pieces that cannot be one digit
(wider than MAX_WIDTH × L, or with a gap over MAX_GAP × L) are never scored.

A drawing read as one digit is exactly what ``/api/predict`` reads: its pixels are those of the
whole image, by the same preprocessing. The prices in ``Costs`` were chosen on numbers written
with the pen digits of half of the writers (``benchmarks/read_numbers.py``, writers w01–w15) and
are measured there on the other half.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from model.calibrate import softmax
from model.pieces import Piece, Pieces, line_height
from model.preprocess import normalise_ink

MAX_PIECES = 4  # pieces one digit may be made of
MAX_WIDTH = 1.6  # a run of pieces wider than this × L is not one digit
MAX_GAP = 0.3  # nor one with a gap wider than this × L between its pieces (in pen digits: < 0.1)

Scorer = Callable[[np.ndarray], np.ndarray]  # x (m, 784) → scores (m, 10 or 11) before softmax


@dataclass(frozen=True)
class Costs:
    """The prices in C above, in nats like −log p."""

    aspect: float = 2.0
    aspect_free: float = 1.0
    small: float = 4.0
    small_free: float = 0.45
    gap: float = 4.0
    gap_free: float = 0.15
    reach: float = 4.0
    reach_free: float = 0.1
    beside: float = 2.0
    overlap: float = 1.0
    cut: float = 0.5
    mark: float = 2.0  # chosen on w01–w15's numbers (1.0 and 1.5 lost some) and the dev pen marks


class TooManyDigitsError(ValueError):
    """The drawing holds more digits than the limit: ``found`` of them, or (refused before they
    were counted) ``pieces`` pieces, more than ``limit`` digits can be made of."""

    def __init__(self, found: int | None, limit: int, pieces: int | None = None):
        what = (
            f"{found} digits"
            if found is not None
            else f"{pieces} strokes or pieces of ink, more than {limit} digits of at most "
            f"{MAX_PIECES} each"
        )
        super().__init__(f"the drawing holds {what}; at most {limit} digits are read in one number")
        self.found, self.limit, self.pieces = found, limit, pieces


@dataclass(frozen=True)
class Digit:
    """One digit found in a number."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1 of its ink in the input's pixels
    pixels: np.ndarray  # float32 (784,) in MNIST form
    scores: np.ndarray  # (10 or 11,) the network's scores before softmax
    share: float  # its ink's longer side ÷ the tallest digit's height in the number
    extent: float  # its ink's longer side ÷ the input's shorter side


@dataclass(frozen=True)
class _Run:
    first: int  # pieces first..last-1
    last: int
    box: tuple[int, int, int, int]
    ink: np.ndarray
    beside: float  # beside(g) of the docstring
    gap: float  # the widest gap between its pieces' columns ÷ L


def segment(
    pieces: Pieces,
    score: Scorer,
    max_digits: int,
    temperature: float = 1.0,
    costs: Costs = Costs(),
) -> list[Digit]:
    """The digits of a drawing, left to right (TooManyDigitsError past ``max_digits``)."""
    items = pieces.items
    n = len(items)
    check_pieces(n, max_digits)
    height = line_height(items)
    runs = [run for i in range(n) for run in _runs_from(items, i, height)]
    x = np.stack([normalise_ink(run.ink) for run in runs])
    scores = np.asarray(score(x), dtype=np.float64)
    cost = _run_costs(runs, scores, height, temperature, costs, _line(items, height))

    chosen = _best_path(n, runs, cost, _boundaries(items, costs))
    if len(chosen) > max_digits:
        raise TooManyDigitsError(len(chosen), max_digits)

    pixels, digit_scores = x[chosen], scores[chosen]
    if len(chosen) == 1 and pieces.whole is not None:
        # One digit: read it exactly as /api/predict reads the image (specks and all).
        pixels = normalise_ink(pieces.whole)[np.newaxis]
        digit_scores = np.asarray(score(pixels), dtype=np.float64)
    tallest = max(runs[k].box[3] - runs[k].box[1] for k in chosen)
    digits = []
    for row, k in enumerate(chosen):
        x0, y0, x1, y1 = box = pieces.to_input(runs[k].box)
        longer = max(_width(runs[k].box), _height(runs[k].box))
        extent = max(x1 - x0, y1 - y0) / min(pieces.size)
        digits.append(Digit(box, pixels[row], digit_scores[row], longer / tallest, extent))
    return digits


def check_pieces(count: int, max_digits: int) -> None:
    """Refuse a drawing of more pieces than ``max_digits`` digits can be made of, before any
    work on them (TooManyDigitsError)."""
    if count > MAX_PIECES * max_digits:
        raise TooManyDigitsError(None, max_digits, pieces=count)


def _boundaries(items: list[Piece], costs: Costs) -> np.ndarray:
    """(n + 1,): the price of a boundary just before piece j (0 at both ends)."""
    prices = np.zeros(len(items) + 1)
    for j in range(1, len(items)):
        a, b = items[j - 1], items[j]
        if _same_component(a, b):
            prices[j] = costs.cut * max(0, b.crossed - 1)
        else:
            prices[j] = costs.overlap * _overlap(a, b)
    return prices


def _best_path(n: int, runs: list[_Run], cost: np.ndarray, boundary: np.ndarray) -> list[int]:
    """The runs (indices) that cover pieces 0..n-1 at the least total cost."""
    best = np.full(n + 1, np.inf)
    best[0] = 0.0
    came = np.zeros(n + 1, dtype=np.int64)  # the last run on the best path to j
    for k, run in enumerate(runs):  # runs come ordered by their first piece
        total = best[run.first] + cost[k] + boundary[run.last]
        if total < best[run.last]:
            best[run.last], came[run.last] = total, k
    chosen, j = [], n
    while j > 0:
        chosen.append(int(came[j]))
        j = runs[chosen[-1]].first
    return chosen[::-1]


def _runs_from(items: list[Piece], first: int, height: float) -> list[_Run]:
    """The runs that start at piece ``first`` and could be one digit."""
    result = []
    beside = 0.0
    for last in range(first + 1, min(first + MAX_PIECES, len(items)) + 1):
        if last - first > 1:
            a, b = items[last - 2], items[last - 1]
            if not _same_component(a, b):
                beside += (1 - _overlap(a, b)) * min(1.0, min(a.height, b.height) / height)
        group = items[first:last]
        box = _union_box(group)
        gap = _widest_gap(group) / height
        if len(group) > 1 and (_width(box) > MAX_WIDTH * height or gap > MAX_GAP):
            break  # adding pieces only makes both worse
        ink = np.zeros((_height(box), _width(box)), dtype=np.float32)
        for p in group:
            x0, y0, x1, y1 = p.box
            view = ink[y0 - box[1] : y1 - box[1], x0 - box[0] : x1 - box[0]]
            np.maximum(view, p.ink, out=view)
        result.append(_Run(first, last, box, ink, beside, gap))
    return result


def _line(items: list[Piece], height: float) -> np.ndarray:
    """(3, m): the centre, top and bottom of each of the m tall pieces (at least half as tall as
    the tallest): where the line of writing runs, which may slope or wave."""
    tallest = max(p.height for p in items)
    tall = [p for p in items if p.height >= tallest / 2]
    return np.array([[p.centre, p.box[1], p.box[3]] for p in tall], dtype=np.float64).T


def _run_costs(
    runs: list[_Run],
    scores: np.ndarray,
    height: float,
    temperature: float,
    costs: Costs,
    line: np.ndarray,
) -> np.ndarray:
    """Each run's cost: −log p + shape + BESIDE · beside, or, for a model with a "not a digit"
    output, as a mark if that is less (see the module's docstring)."""
    p = softmax(scores[:, :10], temperature).max(axis=1)
    cost = -np.log(np.maximum(p, 1e-12))
    mark = np.full(len(runs), np.inf)
    if scores.shape[1] > 10:
        not_a_digit = softmax(scores)[:, 10]
        cost -= np.log(np.maximum(1.0 - not_a_digit, 1e-12))
        mark = -np.log(np.maximum(not_a_digit, 1e-12)) + costs.mark
    for k, run in enumerate(runs):
        w, h = _width(run.box), _height(run.box)
        cost[k] += costs.beside * run.beside
        cost[k] += costs.aspect * max(0.0, w / max(h, 1) - costs.aspect_free)
        cost[k] += costs.small * max(0.0, costs.small_free - max(w, h) / height)
        cost[k] += costs.gap * max(0.0, run.gap - costs.gap_free)
        # The line here: the tall pieces within 2 L of the run's centre (the run's own included).
        centre = (run.box[0] + run.box[2]) / 2
        near = np.abs(line[0] - centre) <= 2 * height
        if near.any():
            top, bottom = np.median(line[1, near]), np.median(line[2, near])
            short = max(0.0, run.box[1] - top) + max(0.0, bottom - run.box[3])
            cost[k] += costs.reach * max(0.0, short / height - costs.reach_free)
    return np.minimum(cost, mark)


def _union_box(group: list[Piece]) -> tuple[int, int, int, int]:
    boxes = np.array([p.box for p in group])
    return (*boxes[:, :2].min(axis=0).tolist(), *boxes[:, 2:].max(axis=0).tolist())


def _widest_gap(group: list[Piece]) -> float:
    """The widest horizontal gap between the column spans of pieces in a group, in pixels."""
    spans = sorted((p.box[0], p.box[2]) for p in group)
    reach, widest = spans[0][1], 0
    for start, stop in spans[1:]:
        widest = max(widest, start - reach)
        reach = max(reach, stop)
    return float(widest)


def _same_component(a: Piece, b: Piece) -> bool:
    return a.whole >= 0 and a.whole == b.whole


def _overlap(a: Piece, b: Piece) -> float:
    """The share of the narrower piece's columns that the two pieces share."""
    shared = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
    return max(0.0, shared) / max(1, min(a.width, b.width))


def _width(box) -> int:
    return box[2] - box[0]


def _height(box) -> int:
    return box[3] - box[1]
