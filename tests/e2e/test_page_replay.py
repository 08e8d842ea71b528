"""Real handwriting replayed through the page: pen trajectories from 30 writers (UCI pen digits).

Each trajectory is drawn with the mouse into the central part of the canvas, exactly as a person
would draw it, and the settled prediction is read from the page. This measures the whole
pipeline (canvas → PNG → preprocessing → network) on digits that people really drew.
"""

from __future__ import annotations

from collections import Counter

import pytest
from e2e_support import DrawingPage, pick_pen_digits

from model import pendigits

pytestmark = pytest.mark.e2e

PER_DIGIT = 4
MIN_ACCURACY = 0.90


@pytest.mark.skipif(
    not pendigits.PEN_DIGITS.exists(), reason=f"{pendigits.PEN_DIGITS} is not available"
)
def test_replayed_pen_digits_are_recognised(drawing: DrawingPage, capsys):
    samples = pick_pen_digits(pendigits.load(), per_digit=PER_DIGIT)
    assert len(samples) == 10 * PER_DIGIT
    assert len({s.writer for s in samples}) >= 10

    misses = []
    per_writer_total, per_writer_right = Counter(), Counter()
    clear = drawing.page.get_by_test_id("clear")
    for sample in samples:
        # One mouse move per pen sample: the tablet's 10 samples per second are what a browser
        # would see from a slow pointer, and each move costs a frame (~16 ms) in headless Chromium.
        got = drawing.draw_and_read(sample.strokes, steps=1)
        per_writer_total[sample.writer] += 1
        if got == str(sample.label):
            per_writer_right[sample.writer] += 1
        else:
            misses.append(f"{sample.id} ({sample.writer}): {sample.label} read as {got}")
        clear.click()

    accuracy = 1 - len(misses) / len(samples)
    with capsys.disabled():
        print(
            f"\npen-digit replay through the page: {len(samples) - len(misses)}/{len(samples)}"
            f" = {accuracy:.1%} recognised ({len(per_writer_total)} writers)"
        )
        for writer in sorted(per_writer_total):
            print(f"  {writer}: {per_writer_right[writer]}/{per_writer_total[writer]}")
        for miss in misses:
            print(f"  miss: {miss}")
    assert accuracy >= MIN_ACCURACY, f"{accuracy:.1%} < {MIN_ACCURACY:.0%}; misses: {misses}"
    drawing.assert_clean()
