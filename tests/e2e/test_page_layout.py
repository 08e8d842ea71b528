"""Where things are on the drawing page: on a 1366×768 laptop the feedback question and every
answer to it are in view with the prediction, without scrolling (in practice mode too); on a
360 px phone nothing is wider than the screen; in a short window the pad fits in it whole."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_support import SEVEN, DrawingPage

pytestmark = pytest.mark.e2e

ANSWERS = ["feedback-right", *(f"feedback-digit-{d}" for d in range(10)), "feedback-not-a-digit"]


@pytest.fixture
def laptop(browser, server_url) -> Iterator[DrawingPage]:
    page = DrawingPage.open(browser, server_url, viewport={"width": 1366, "height": 768})
    try:
        yield page
    finally:
        page.close()


def _outside_the_viewport(drawing: DrawingPage, testids: list[str]) -> list[str]:
    """The elements (by test id) not wholly inside the viewport as it is now."""
    return drawing.page.evaluate(
        """(ids) => ids.filter((id) => {
          const r = document.querySelector(`[data-testid=${id}]`).getBoundingClientRect();
          return r.width === 0 || r.left < 0 || r.top < 0
            || r.right > innerWidth || r.bottom > innerHeight;
        })""",
        testids,
    )


def test_the_question_and_its_answers_are_in_view_on_a_laptop(laptop: DrawingPage):
    page = laptop.page
    laptop.draw_and_read(SEVEN)
    assert page.evaluate("() => scrollY") == 0
    assert _outside_the_viewport(laptop, ["results", "feedback", *ANSWERS]) == []
    question = page.locator("[data-role=feedback-question]").text_content()
    assert question == "Is it a 7?"

    # Practice mode asks for a digit above the pad, and says what it read against what it asked.
    page.get_by_test_id("clear").click()
    page.get_by_test_id("practice-toggle").click()
    laptop.draw_and_read(SEVEN)
    asked = page.get_by_test_id("practice-prompt").get_attribute("data-digit")
    question = page.locator("[data-role=feedback-question]").text_content()
    article = "an" if asked == "8" else "a"
    assert f"asked for {article} {asked}." in question or question == "It read your 7. Save it?"
    assert page.evaluate("() => scrollY") == 0
    assert _outside_the_viewport(laptop, ["practice-prompt", "feedback", *ANSWERS]) == []
    with page.expect_response("**/api/feedback"):
        page.get_by_test_id("feedback-right").click()
    page.get_by_test_id("feedback-done").wait_for(state="visible")
    assert _outside_the_viewport(laptop, ["feedback-done"]) == []
    laptop.assert_clean()


def test_nothing_is_wider_than_a_360_px_phone(browser, server_url):
    phone = DrawingPage.open(
        browser,
        server_url,
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = phone.page
        page.get_by_test_id("inside-toggle").click()
        page.get_by_test_id("practice-toggle").click()
        phone.draw_with_touch(SEVEN)
        phone.wait_settled(1)
        too_wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                 .filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5
                   && !e.closest('.flow, .visually-hidden'))
                 .map((e) => e.className || e.tagName)"""
        )
        assert too_wide == []  # (the data's path scrolls sideways inside its panel, by design)
        assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 360
        phone.assert_clean()
    finally:
        phone.close()


def test_in_a_short_window_the_whole_pad_is_in_view_and_draws(browser, server_url):
    """A 1366×768 laptop at 200 % zoom is 683×384 CSS pixels: the pad was 444 px tall, so part
    of it was always off screen."""
    short = DrawingPage.open(browser, server_url, viewport={"width": 683, "height": 384})
    try:
        short.page.get_by_test_id("canvas").scroll_into_view_if_needed()
        box = short.canvas_box()
        assert 200 <= box["height"] <= 384 - 100 and box["width"] == box["height"]
        assert _outside_the_viewport(short, ["canvas"]) == []
        assert short.draw_and_read(SEVEN) == "7"
        short.assert_clean()
    finally:
        short.close()


@pytest.mark.parametrize("width", [412, 600, 760])
def test_the_first_answer_does_not_move_the_pad_on_a_narrow_screen(browser, server_url, width):
    """Below 761 px the answer is also shown as a chip above the pad. Between 500 and 760 px the
    chip used to take a row of its own when it arrived and push the pad down 37 px under the
    finger drawing on it; its place is now held from the start."""
    narrow = DrawingPage.open(browser, server_url, viewport={"width": width, "height": 844})
    chip = narrow.page.locator("[data-role=chip]")
    try:
        before = narrow.canvas_box()
        assert not chip.is_visible()
        assert narrow.draw_and_read(SEVEN) == "7"
        assert chip.is_visible() and chip.text_content().startswith("7")
        assert narrow.canvas_box() == before
        narrow.page.get_by_test_id("clear").click()
        assert not chip.is_visible() and narrow.canvas_box() == before
        narrow.assert_clean()
    finally:
        narrow.close()


@pytest.mark.parametrize("width", [761, 999])
def test_number_mode_puts_the_number_under_the_pad_where_it_cannot_sit_beside(
    browser, server_url, width
):
    """Beside a 600 px pad, the number's card was 89 px wide at 761 px, its buttons sticking
    out of it and the page scrolling sideways. Below 1000 px it goes under the pad."""
    drawing = DrawingPage.open(browser, server_url, viewport={"width": width, "height": 840})
    page = drawing.page
    try:
        page.get_by_test_id("mode-number").click()
        card = page.locator(".card-number").bounding_box()
        pad = drawing.canvas_box()
        assert card["width"] >= 0.9 * (width - 48) and card["y"] > pad["y"] + pad["height"]
        assert page.evaluate("() => document.scrollingElement.scrollWidth") <= width
        drawing.assert_clean()
    finally:
        drawing.close()
