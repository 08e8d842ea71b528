"""Reading a whole number: hand-made drawings split into their digits, by the shipped network.

Each case is pen strokes on the page's Number canvas (700 × 280, a 21 px brush), read twice:
from the strokes, as the page sends them, and from the pixels of the same drawing rendered as
the canvas renders it, as an uploaded image would be.
"""

from __future__ import annotations

import numpy as np
import pytest

from model import pen_numbers, pendigits, pieces, verdict
from model.modelfile import load_model
from model.preprocess import BlankImageError, prepare
from model.registry import SHIPPED_MODEL
from model.segment import MAX_PIECES, TooManyDigitsError, check_pieces, segment

CANVAS = (700, 280)
BRUSH = 21.0
TOP, BOTTOM = 65.0, 215.0  # where the digits start and end: 150 px tall


def line(*points, steps=6):
    out = []
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        out += [(x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps) for k in range(steps)]
    return out + [points[-1]]


def arc(cx, cy, rx, ry, start, end, steps=16):
    t = np.deg2rad(np.linspace(start, end, steps))
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))


def one(x):
    return [line((x + 12, TOP), (x, BOTTOM))]


def seven(x, crossbar=False):
    strokes = [line((x, TOP), (x + 90, TOP), (x + 30, BOTTOM))]
    return strokes + ([line((x + 25, 142), (x + 85, 142))] if crossbar else [])


def four(x):
    """An open 4 in two strokes: an L, then the stem, which starts at the top and reaches the
    baseline that the L does not."""
    return [line((x + 8, TOP), (x, 165), (x + 95, 165)), line((x + 70, TOP + 10), (x + 68, BOTTOM))]


def five(x):
    """A 5 whose top bar is a stroke of its own, drawn last."""
    body = line((x + 12, TOP), (x + 6, 135)) + arc(x + 45, 172, 42, 42, -130, 140)[1:]
    return [body, line((x + 12, TOP), (x + 88, TOP - 3))]


def zero(x):
    return [arc(x + 40, 140, 40, 75, -90, 270, 24)]


def two(x):
    return [
        arc(x + 42, 108, 40, 42, 195, 360, 10)
        + line((x + 82, 108), (x + 2, BOTTOM), (x + 90, BOTTOM))[1:]
    ]


@pytest.fixture(scope="module")
def score():
    network = load_model(SHIPPED_MODEL).network
    return lambda x: network.layer_outputs(x, output="scores")[-1]


def read(strokes, score, form):
    """The digits read from strokes, as text, and their boxes."""
    if form == "strokes":
        found = pieces.from_strokes(strokes, *CANVAS, BRUSH)
    else:
        found = pieces.from_image(pendigits.render(strokes, CANVAS))
    digits = segment(found, score, max_digits=12)
    return "".join(str(int(np.argmax(d.scores[:10]))) for d in digits), [d.box for d in digits]


CASES = {
    "a single digit": ("7", seven(300)),
    "a 1 next to a 7 whose bar reaches over it": ("71", seven(200) + one(300)),
    "a 1 before a 7": ("17", one(200) + seven(250)),
    "a two-stroke 4 between two digits": ("142", one(150) + four(220) + two(350)),
    "a 5 with a detached bar": ("57", five(200) + seven(320)),
    "7s with crossbars": ("77", seven(200, crossbar=True) + seven(330, crossbar=True)),
    "a wide gap": ("10", one(100) + zero(550)),
    "a year": ("2020", two(100) + zero(220) + two(330) + zero(450)),
    "a 4 and a 5, both in two strokes": ("45", four(200) + five(320)),
}


@pytest.mark.parametrize("form", ["strokes", "image"])
@pytest.mark.parametrize("case", CASES)
def test_hand_made_numbers_are_read_digit_by_digit(case, form, score):
    text, strokes = CASES[case]
    read_text, boxes = read(strokes, score, form)
    assert read_text == text
    lefts = [box[0] for box in boxes]
    assert lefts == sorted(lefts)  # left to right
    for x0, y0, x1, y1 in boxes:  # in the input's pixels, inside the canvas
        assert 0 <= x0 < x1 <= CANVAS[0] and 0 <= y0 < y1 <= CANVAS[1]
        assert y1 - y0 == pytest.approx(BOTTOM - TOP + BRUSH, abs=8)  # the digit's own height


@pytest.mark.parametrize("overlap", [0, 10, 20])
def test_touching_zeros_in_an_image_are_cut_apart(overlap, score):
    """Two 0s whose ink runs together are one component of ink: they are cut at the notch
    between them, and each side reads as a 0."""
    drawing = zero(200) + zero(290 - overlap)
    found = pieces.from_image(pendigits.render(drawing, CANVAS))
    assert len(found.items) > 1  # the one component was cut
    text, boxes = read(drawing, score, "image")
    assert text == "00"
    assert boxes[0][2] == pytest.approx(boxes[1][0], abs=12)  # cut where they touch


def test_one_digit_in_an_image_is_read_exactly_as_a_prediction_reads_it(score):
    """The pixels of a one-digit drawing are /api/predict's, bit for bit."""
    image = pendigits.render(two(300), CANVAS)
    (digit,) = segment(pieces.from_image(image), score, max_digits=12)
    np.testing.assert_array_equal(digit.pixels, prepare(image).pixels)
    assert digit.share == 1.0


def test_boxes_are_in_the_strokes_pixels_whatever_the_work_scale(score):
    """Strokes on a large canvas are drawn smaller to work on; the boxes come back in the
    canvas's own pixels."""
    big = [[(x * 4, y * 4) for x, y in s] for s in one(100) + zero(300)]
    found = pieces.from_strokes(big, CANVAS[0] * 4, CANVAS[1] * 4, BRUSH * 4)
    assert found.scale < 1
    digits = segment(found, score, max_digits=12)
    x0, y0, x1, y1 = digits[1].box
    assert (x0, y0) == pytest.approx((300 * 4 - BRUSH * 2, TOP * 4 - BRUSH * 2), abs=8)
    assert (x1, y1) == pytest.approx((380 * 4 + BRUSH * 2, BOTTOM * 4 + BRUSH * 2), abs=8)


def test_a_dot_apart_from_the_digits_is_a_small_mark_of_its_own(score):
    """A dot with room around it (over 0.3 of the line's height, more than any gap between the
    strokes of one pen digit) is not part of a digit, and far smaller than the digits."""
    drawing = one(80) + [[(190.0, BOTTOM - 5)]] + seven(300)
    digits = segment(pieces.from_strokes(drawing, *CANVAS, BRUSH), score, max_digits=12)
    assert len(digits) == 3
    assert digits[1].share < 0.3 < min(digits[0].share, digits[2].share)


def test_too_many_digits_are_refused(score):
    ones = [stroke for k in range(13) for stroke in one(20 + 50 * k)]
    with pytest.raises(TooManyDigitsError) as refused:
        segment(pieces.from_strokes(ones, *CANVAS, BRUSH), score, max_digits=12)
    assert (refused.value.found, refused.value.limit) == (13, 12)
    digits = segment(pieces.from_strokes(ones, *CANVAS, BRUSH), score, max_digits=13)
    assert len(digits) == 13


def test_more_pieces_than_the_limit_allows_are_refused_before_any_work():
    check_pieces(MAX_PIECES * 12, 12)
    with pytest.raises(TooManyDigitsError) as refused:
        check_pieces(MAX_PIECES * 12 + 1, 12)
    assert refused.value.found is None and refused.value.pieces == MAX_PIECES * 12 + 1
    assert str(refused.value) == (
        f"the drawing holds {MAX_PIECES * 12 + 1} strokes or pieces of ink, more than 12 digits "
        f"of at most {MAX_PIECES} each; at most 12 digits are read in one number"
    )


def test_strokes_off_the_canvas_are_cut_off_and_no_ink_is_blank():
    found = pieces.from_strokes([one(300)[0], [(-500.0, -500.0), (-400.0, -450.0)]], *CANVAS, BRUSH)
    assert len(found.items) == 1
    with pytest.raises(BlankImageError):
        pieces.from_strokes([[(-500.0, -500.0)]], *CANVAS, BRUSH)
    with pytest.raises(BlankImageError):
        pieces.from_strokes([[]], *CANVAS, BRUSH)


def test_each_marks_extent_is_measured_against_the_canvass_shorter_side(score):
    """A number 81 px tall (brush included) fills 29 % of a 280 px tall canvas's height, a fine
    digit though it is only 12 % of the canvas's width; a dot fills 7.5 %."""
    small = [[(x, y * 0.4 + 80) for x, y in s] for s in one(300) + one(400)]
    dot = [[(600.0, 150.0)]]
    digits = segment(pieces.from_strokes(small + dot, *CANVAS, BRUSH), score, max_digits=12)
    assert [d.extent for d in digits] == pytest.approx(
        [(0.4 * (BOTTOM - TOP) + BRUSH) / CANVAS[1]] * 2 + [BRUSH / CANVAS[1]], abs=0.02
    )


@pytest.mark.skipif(
    not (pendigits.PEN_DIGITS.exists() and pendigits.PEN_MARKS.exists()),
    reason="../shared's pen data is not available",
)
def test_a_letter_or_symbol_in_a_number_is_one_mark_left_out_not_digits_made_of_its_strokes():
    """Real pen marks (../shared/pen-marks: letters and symbols) on the Number canvas, alone and
    between two pen digits of one writer. A run of strokes may be read as a mark, at its cost
    −log p(not a digit) + MARK, so a letter is one mark rather than a 1 from its first stroke
    and a mark of the rest. Measured on 300 marks: alone, 63 % read as no number before this
    and 75 % after; between digits, the two digits alone 49–51 % before, 57–63 % after (the
    numbers of digits alone read the same)."""
    model = load_model(SHIPPED_MODEL)
    calibration = verdict.Calibration.of(model.meta)
    digits_by_writer = pen_numbers.by_writer(pendigits.load())
    writers = sorted(digits_by_writer)
    marks = pendigits.load(pendigits.PEN_MARKS)
    rng = np.random.default_rng(5)

    def number(drawing) -> str:
        found = pieces.from_strokes(drawing.strokes, *drawing.size, BRUSH)
        digits = segment(
            found,
            lambda x: model.network.layer_outputs(x, output="scores")[-1],
            12,
            calibration.temperature,
        )
        scores = np.stack([d.scores for d in digits])
        extents = np.array([d.extent for d in digits])
        shares = np.array([d.share for d in digits])
        readings = verdict.read(
            scores, extents, calibration, 0.7, verdict.too_small_in_number(extents, shares)
        )
        best = readings.probabilities.argmax(axis=1)
        return "".join(str(b) for b, v in zip(best, readings.verdicts) if v != verdict.NOT_A_DIGIT)

    alone = between = 0
    for k in rng.choice(len(marks), 200, replace=False):
        alone += number(pen_numbers.compose([marks[k]], rng, CANVAS)) == ""
        table = digits_by_writer[writers[rng.integers(len(writers))]]
        a, b = (table[int(d)][rng.integers(len(table[int(d)]))] for d in rng.integers(0, 10, 2))
        between += (
            number(pen_numbers.compose([a, marks[k], b], rng, CANVAS)) == f"{a.label}{b.label}"
        )
    assert alone / 200 >= 0.70 and between / 200 >= 0.55, (alone, between)
