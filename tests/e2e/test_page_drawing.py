"""Drawing with the mouse: predictions appear, and Clear, Undo and the shortcuts behave."""

from __future__ import annotations

import pytest
from e2e_support import BAR, ONE, SEVEN, ZERO, DrawingPage

pytestmark = pytest.mark.e2e


def percentages(drawing: DrawingPage) -> list[float]:
    """The bars' values; ">99.9%" and "<0.1%" read as 100 and 0 (what they round to)."""
    value = {">99.9%": 100.0, "<0.1%": 0.0}
    return [value[t] if t in value else float(t.rstrip("%")) for t in drawing.probabilities()]


def test_the_empty_page_invites_a_drawing(drawing: DrawingPage):
    assert drawing.state() == ["empty", 0, 0]
    assert drawing.top_digit() == ""
    assert drawing.probabilities() == ["–"] * 10  # no answer: a dash, not 0.0%
    assert drawing.page.get_by_text("Draw a digit from 0 to 9").is_visible()
    assert drawing.alpha_sum("preview") == 0
    # The preview says what will appear there, rather than showing an empty black square.
    empty = drawing.page.get_by_test_id("preview-empty")
    assert empty.is_visible() and "28" in empty.text_content()
    drawing.draw_and_read(ONE)
    assert not empty.is_visible()
    drawing.page.get_by_test_id("clear").click()
    assert empty.is_visible()
    drawing.assert_clean()


@pytest.mark.parametrize(
    ("strokes", "digit"), [(ONE, "1"), (ZERO, "0"), (SEVEN, "7")], ids=["one", "zero", "seven"]
)
def test_a_clearly_drawn_digit_is_recognised(drawing: DrawingPage, strokes, digit):
    assert drawing.draw_and_read(strokes) == digit
    shown = percentages(drawing)
    assert sum(shown) == pytest.approx(100, abs=0.6)  # ten rounded shares of one whole
    assert max(shown) == shown[int(digit)]
    assert drawing.alpha_sum("preview") > 0  # what the network saw is painted
    assert drawing.alpha_sum("canvas") > 0
    drawing.assert_clean()


def test_every_confidence_is_written_by_one_rule(drawing: DrawingPage):
    """static/js/words.js percent(): one decimal, and never a softmax output written as 100.0%
    or 0.0%; the bar, the headline's detail, the phone's chip and what screen readers hear
    agree."""
    written = drawing.page.evaluate(
        """async () => {
          const { percent } = await import('/static/js/words.js');
          return [0.9812, 0.99996, 1, 0.9994, 0.00002, 0.0005, 0].map(percent);
        }"""
    )
    # an exact 0 or 1 is the server's rounding to 6 decimals, never a softmax output
    assert written == ["98.1%", ">99.9%", ">99.9%", "99.9%", "<0.1%", "0.1%", "<0.1%"]
    digit = drawing.draw_and_read(SEVEN)
    top = drawing.page.get_by_test_id(f"prob-{digit}").text_content().strip()
    detail = drawing.page.locator("[data-role=detail]").text_content().strip()
    assert detail == f"{top} confident"
    assert drawing.page.locator(".pad-chip-text").text_content() == top
    announced = drawing.page.locator("[data-role=announcer]").text_content()
    assert announced.endswith(f", {top}"), (announced, top)  # not a rounded "100%"
    assert "100.0%" not in drawing.probabilities() and "0.0%" not in drawing.probabilities()
    drawing.page.get_by_test_id("clear").click()  # no answer: empty bars, not tiny probabilities
    drawing.page.wait_for_function(
        "() => document.querySelector('[data-testid=results]').dataset.state === 'empty'"
    )
    assert drawing.probabilities() == ["–"] * 10
    meter = drawing.page.locator("[data-testid=results] [role=meter]").first
    assert meter.get_attribute("aria-valuetext") == "no answer yet"


def test_a_prediction_appears_while_drawing(drawing: DrawingPage):
    """Live predictions arrive before the pointer is lifted."""
    page = drawing.page
    points = [drawing.to_viewport(p) for p in ZERO[0]]
    page.mouse.move(*points[0])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x, y, steps=2)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=top-digit]').textContent !== ''"
    )
    assert drawing.state()[0] == "drawing"
    page.mouse.up()
    drawing.wait_settled(1)
    assert drawing.top_digit() == "0"
    drawing.assert_clean()


def test_clear_resets_bars_preview_and_digit(drawing: DrawingPage):
    drawing.draw_and_read(SEVEN)
    drawing.page.get_by_test_id("clear").click()
    assert drawing.state() == ["empty", 0, 0]
    assert drawing.top_digit() == ""
    assert drawing.probabilities() == ["–"] * 10  # no answer: a dash, not 0.0%
    assert drawing.alpha_sum("preview") == 0
    # The canvas repaints on the next animation frame.
    drawing.page.wait_for_function(
        """() => { const c = document.querySelector('[data-testid=canvas]');
                   return !c.getContext('2d').getImageData(0, 0, c.width, c.height).data
                     .some((v, i) => i % 4 === 3 && v !== 0); }"""
    )
    drawing.assert_clean()


def test_undo_removes_the_last_stroke(drawing: DrawingPage):
    assert drawing.draw_and_read(ONE) == "1"
    one_only = drawing.probabilities()
    drawing.draw_with_mouse(BAR)
    drawing.wait_settled(2)
    assert drawing.probabilities() != one_only

    drawing.page.get_by_test_id("undo").click()
    drawing.wait_settled(1)
    assert drawing.state() == ["ready", 1, 1]
    # The same strokes give the same image, so the same answer, to the last digit.
    assert drawing.probabilities() == one_only
    assert drawing.top_digit() == "1"

    drawing.page.get_by_test_id("undo").click()
    assert drawing.state() == ["empty", 0, 0]
    assert drawing.top_digit() == ""
    # said, as Clear says it (the last stroke's undo once left a screen reader in silence)
    assert drawing.page.locator("[data-role=announcer]").text_content() == "Canvas cleared"
    drawing.assert_clean()


def test_keyboard_shortcuts_undo_and_clear(drawing: DrawingPage):
    page = drawing.page
    drawing.draw_and_read(ONE)
    one_only = drawing.probabilities()
    drawing.draw_with_mouse(BAR)
    drawing.wait_settled(2)

    page.keyboard.press("Control+z")
    drawing.wait_settled(1)
    assert drawing.probabilities() == one_only

    drawing.draw_with_mouse(BAR)
    drawing.wait_settled(2)
    page.keyboard.press("Meta+z")
    drawing.wait_settled(1)

    page.keyboard.press("Escape")
    assert drawing.state() == ["empty", 0, 0]
    assert drawing.probabilities() == ["–"] * 10  # no answer: a dash, not 0.0%
    drawing.assert_clean()


def test_buttons_are_reachable_with_tab_and_show_focus(drawing: DrawingPage):
    page = drawing.page
    drawing.draw_with_mouse(ONE)
    drawing.wait_settled(1)
    drawing.draw_with_mouse(BAR)
    drawing.wait_settled(2)

    reached = {}
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    for _ in range(15):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
              const el = document.activeElement;
              const style = getComputedStyle(el);
              const ring = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
              return [el.dataset.testid || el.tagName, ring];
            }"""
        )
        if focused[0] == "undo" and "undo" not in reached:
            page.keyboard.press("Enter")  # a focused button works from the keyboard
            drawing.wait_settled(1)
        reached[focused[0]] = focused[1]
    assert reached.get("undo") is True, f"Undo not reached with a visible focus ring: {reached}"
    assert reached.get("clear") is True, f"Clear not reached with a visible focus ring: {reached}"

    page.get_by_test_id("clear").focus()
    page.keyboard.press("Space")
    assert drawing.state() == ["empty", 0, 0]
    drawing.assert_clean()
