"""Number mode: a whole number written from pen trajectories is read back, each digit boxed on the
drawing with its 28×28 and ten bars; Undo, Clear and the feedback "Is it …?" work; on a desktop
with a mouse and on a phone with real touch."""

from __future__ import annotations

import json

import pytest
from e2e_support import SEVEN, DrawingPage

from model import pen_numbers, pendigits

pytestmark = pytest.mark.e2e

# Numbers of held-out writers (w16–w30), 3 digits each, composed with a fixed seed; these two have
# digits drawn in several strokes: a 5 with its bar apart and a two-stroke 4; a two-stroke 4 and
# two 7s with crossbars.
SEED = 15
DESKTOP_INDEX, PHONE_INDEX = 5, 10


def held_out_numbers(count: int, length: int) -> list[pen_numbers.PenNumber]:
    if not pendigits.PEN_DIGITS.exists():  # as the other tests of pen data: skipped without it
        pytest.skip(f"{pendigits.PEN_DIGITS} is not available")
    samples = pendigits.load()
    writers = sorted({s.writer for s in samples})[15:]
    return pen_numbers.numbers(samples, count, SEED, writers, lengths=(length, length))


@pytest.fixture(scope="module")
def numbers() -> list[pen_numbers.PenNumber]:
    return held_out_numbers(12, 3)


def boxes(drawing: DrawingPage) -> int:
    return int(drawing.page.get_by_test_id("number-boxes").get_attribute("data-boxes"))


def write_and_press_enter(drawing: DrawingPage, number: pen_numbers.PenNumber, thanks: str):
    """Write the number, press Enter once it is read, and wait for thanks starting ``thanks``."""
    drawing.draw_with_mouse(number.strokes, steps=2, canvas=number.size)
    drawing.wait_number_settled(len(number.strokes))
    drawing.page.keyboard.press("Enter")
    drawing.page.wait_for_function(
        "(text) => document.querySelector('[data-testid=number-feedback-done]')"
        ".textContent.startsWith(text)",
        arg=thanks,
    )


def digit_items(drawing: DrawingPage) -> list[dict]:
    return drawing.page.evaluate(
        """() => [...document.querySelectorAll('[data-testid=number-digit]')].map((li) => {
             const c = li.querySelector('canvas');
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             let ink = 0;
             for (let i = 3; i < d.length; i += 4) ink += d[i];
             return { digit: li.dataset.digit, verdict: li.dataset.verdict, ink,
                      bars: li.querySelectorAll('.mini-bar').length,
                      label: li.getAttribute('aria-label') };
           })"""
    )


def test_a_number_is_read_back_with_each_digit_boxed(drawing: DrawingPage, numbers):
    number = numbers[DESKTOP_INDEX]
    page = drawing.page
    drawing.number_mode()
    assert page.evaluate("() => location.hash") == "#number"
    for hidden in ("results", "inside", "practice-toggle"):
        assert not page.get_by_test_id(hidden).is_visible()
    posts = []
    page.on("request", lambda r: r.method == "POST" and posts.append((r.url, r.post_data)))

    drawing.draw_with_mouse(number.strokes, steps=2, canvas=number.size)
    drawing.wait_number_settled(len(number.strokes))
    assert drawing.number() == number.text
    assert boxes(drawing) == len(number.text)
    items = digit_items(drawing)
    assert [i["digit"] for i in items] == list(number.text)
    assert all(i["ink"] > 0 and i["bars"] == 10 for i in items)
    assert items[0]["label"].startswith(f"The first digit: a {number.text[0]}")
    # What was sent: the strokes in pixels of the 700 × 280 canvas, not an image.
    reads = [json.loads(body) for url, body in posts if "/api/read" in url]
    assert reads and set(reads[-1]) == {"strokes", "width", "height"}
    assert (reads[-1]["width"], reads[-1]["height"]) == (700, 280)
    assert len(reads[-1]["strokes"]) == len(number.strokes)

    # Undo the last stroke: the number is read again without it; Clear empties everything.
    page.get_by_test_id("undo").click()
    drawing.wait_number_settled(len(number.strokes) - 1)
    assert drawing.number() != number.text
    page.get_by_test_id("clear").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=number-results]').dataset.state === 'empty'"
    )
    assert drawing.number() == "" and boxes(drawing) == 0 and digit_items(drawing) == []
    assert drawing.alpha_sum("canvas") == 0
    # Written again after a mouse click on Clear: Enter answers "Right", it does not press Clear.
    write_and_press_enter(drawing, number, f"Thanks! Saved as {number.text}")
    drawing.assert_clean()


def test_a_long_number_keeps_its_question_in_view_on_a_laptop(drawing: DrawingPage):
    """Six digit cards take two rows beside the pad: the question, once under them, went below
    the bottom of a 1366 × 768 screen. It sits under the number now."""
    (number,) = held_out_numbers(1, 6)
    drawing.page.set_viewport_size({"width": 1366, "height": 768})
    drawing.number_mode()
    drawing.draw_with_mouse(number.strokes, steps=2, canvas=number.size)
    drawing.wait_number_settled(len(number.strokes))
    assert len(digit_items(drawing)) >= 5
    for part in ("number-right", "number-fix", "number-save"):
        box = drawing.page.get_by_test_id(part).bounding_box()
        assert box["y"] + box["height"] <= 768, part
    drawing.assert_clean()


def test_the_feedback_saves_one_drawing_per_digit(drawing: DrawingPage, numbers):
    number = numbers[DESKTOP_INDEX]
    page = drawing.page
    drawing.number_mode()
    feedback = []
    page.on(
        "request",
        lambda r: r.method == "POST" and "/api/feedback" in r.url and feedback.append(r.post_data),
    )
    drawing.draw_with_mouse(number.strokes, steps=2, canvas=number.size)
    drawing.wait_number_settled(len(number.strokes))
    question = page.locator("[data-role=number-question]")
    assert question.text_content() == f"Is it {number.text}?"
    # Escape and Ctrl+Z typed in the correction field are the field's, not "clear" and "undo".
    page.get_by_test_id("number-fix").fill("1")
    page.keyboard.press("Escape")
    page.keyboard.press("Control+z")
    assert drawing.state()[2] == len(number.strokes)

    # A correction of the wrong length is refused with what to do; the right length is saved.
    page.get_by_test_id("number-fix").fill("12")
    page.get_by_test_id("number-save").click()
    done = page.get_by_test_id("number-feedback-done")
    assert "Type 3 digits" in done.text_content()
    corrected = "".join(str((int(c) + 1) % 10) for c in number.text)
    # Typed as a person may, a space between digits: the field has room for them.
    page.get_by_test_id("number-fix").fill("")
    page.get_by_test_id("number-fix").press_sequentially(" ".join(corrected))
    page.get_by_test_id("number-save").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=number-feedback-done]').dataset.tone === 'ok'"
    )
    assert f"Saved as {corrected}" in done.text_content()
    posted = [json.loads(body) for body in feedback]
    assert [p["label"] for p in posted] == [int(c) for c in corrected]
    assert [p["predicted"] for p in posted] == [int(c) for c in number.text]
    assert all(len(p["pixels"]) == 28 and "image" not in p for p in posted)
    # Saved: the pad is cleared for the next number, and no focus is left on the strip's
    # hidden buttons (Enter must answer the next question, not press them).
    assert drawing.state()[2] == 0 and drawing.number() == ""
    assert page.evaluate("() => document.activeElement.dataset.testid") == "canvas"

    # "Right" by keyboard (Enter) saves the reading as it is.
    thanks = f"Thanks! Saved as {number.text} ({len(number.text)} digits)"
    write_and_press_enter(drawing, number, thanks)
    assert len(feedback) == 2 * len(number.text)
    drawing.assert_clean()


@pytest.mark.parametrize("answer", ["right", "corrected"])
def test_answering_again_after_a_failed_save_saves_each_digit_once(
    drawing: DrawingPage, numbers, answer
):
    """The second digit's post is refused (429): the strip says how many were saved, and the
    answer given again sends only the digits not yet saved. A correction that changes a digit
    already saved does not save it again under the new label (a retrain would learn both): the
    thanks says so."""
    number = numbers[DESKTOP_INDEX]
    page = drawing.page
    drawing.number_mode()
    posted, refused = [], []

    def second_refused_once(route):
        posted.append(json.loads(route.request.post_data))
        if len(posted) == 2 and not refused:
            refused.append(posted[-1])
            error = {"code": "rate_limited", "message": "at most 60 feedback posts a minute"}
            route.fulfill(
                status=429,
                content_type="application/json",
                headers={"Retry-After": "1"},
                body=json.dumps({"error": error}),
            )
        else:
            route.continue_()

    page.route("**/api/feedback", lambda route: second_refused_once(route))
    drawing.draw_with_mouse(number.strokes, steps=2, canvas=number.size)
    drawing.wait_number_settled(len(number.strokes))
    done = page.get_by_test_id("number-feedback-done")
    page.get_by_test_id("number-right").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=number-feedback-done]').dataset.tone "
        "=== 'error'"
    )
    assert f"(1 of {len(number.text)} digits were saved)" in done.text_content()
    digits = [int(c) for c in number.text]
    if answer == "right":
        page.get_by_test_id("number-right").click()
        labels = digits
    else:  # every digit one more, the first (already saved) included
        labels = [(d + 1) % 10 for d in digits]
        page.get_by_test_id("number-fix").fill("".join(map(str, labels)))
        page.get_by_test_id("number-save").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=number-feedback-done]').dataset.tone === 'ok'"
    )
    stored = [digits[0], *labels[1:]]
    assert f"Saved as {''.join(map(str, stored))}" in done.text_content()
    # Digit 1 twice (refused, then saved); every other digit exactly once, the first with the
    # label it was saved with.
    assert [p["label"] for p in posted] == [digits[0], digits[1], *labels[1:]]
    if answer == "corrected":
        assert f"saved before your correction, as {digits[0]}" in done.text_content()
    assert [e for e in drawing.console_errors if "status of 429" not in e] == []
    assert drawing.page_errors == []


def test_a_number_on_a_phone_with_touch(phone: DrawingPage, numbers):
    number = numbers[PHONE_INDEX]
    page = phone.page
    phone.number_mode()
    layout = page.evaluate(
        """() => { const r = document.querySelector('[data-testid=canvas]').getBoundingClientRect();
                   return { left: r.left, right: r.right, bottom: r.bottom, width: r.width,
                            scrollWidth: document.scrollingElement.scrollWidth, innerWidth,
                            innerHeight }; }"""
    )
    # The wide pad fits a phone held upright: as wide as the screen allows, no sideways scroll.
    assert layout["left"] >= 0 and layout["right"] <= layout["innerWidth"] == 360
    assert layout["width"] >= 280 and layout["scrollWidth"] <= 360
    assert layout["bottom"] <= layout["innerHeight"]
    phone.draw_with_touch(number.strokes, steps=3, canvas=number.size)
    phone.wait_number_settled(len(number.strokes))
    assert phone.number() == number.text
    assert boxes(phone) == len(number.text)
    assert page.evaluate("() => [window.scrollX, window.scrollY]") == [0, 0]
    phone.assert_clean()


def test_the_mode_is_in_the_address_and_digit_mode_comes_back_whole(browser, server_url):
    drawing = DrawingPage.open(browser, server_url)
    try:
        page = drawing.page
        page.goto(server_url + "/#number")
        page.reload()  # a link to /#number, opened afresh
        page.wait_for_selector("html.js-ready")
        assert page.evaluate("() => document.querySelector('main').dataset.mode") == "number"
        assert page.get_by_test_id("mode-number").get_attribute("aria-pressed") == "true"
        page.get_by_test_id("mode-digit").click()
        assert page.evaluate("() => location.hash") == ""
        # An address changed in place (typed, or a link within the page) switches it too.
        page.evaluate("() => { location.hash = 'number'; }")
        page.wait_for_function("() => document.querySelector('main').dataset.mode === 'number'")
        page.evaluate("() => { location.hash = ''; }")
        page.wait_for_function("() => document.querySelector('main').dataset.mode === 'digit'")
        box = drawing.canvas_box()
        assert box["width"] == pytest.approx(box["height"], abs=1)  # square again
        assert page.get_by_test_id("results").is_visible()
        assert not page.get_by_test_id("number-results").is_visible()
        drawing.assert_clean()
    finally:
        drawing.close()


def test_each_mode_keeps_its_drawing_while_the_other_is_shown(drawing: DrawingPage, numbers):
    """Switching Digit and Number once threw the drawing away, with no Undo to bring it back."""
    number = numbers[DESKTOP_INDEX]
    page = drawing.page
    assert drawing.draw_and_read(SEVEN) == "7"
    drawing.number_mode()
    assert page.get_by_test_id("canvas").get_attribute("data-strokes") == "0"  # its own pad
    drawing.draw_with_mouse(number.strokes, steps=2, canvas=number.size)
    drawing.wait_number_settled(len(number.strokes))
    assert drawing.number() == number.text
    page.get_by_test_id("mode-digit").click()
    drawing.wait_settled(len(SEVEN))  # the seven is back, and read again
    assert drawing.top_digit() == "7"
    drawing.number_mode()
    drawing.wait_number_settled(len(number.strokes))
    assert drawing.number() == number.text and boxes(drawing) == len(number.text)
    drawing.assert_clean()


def test_the_words_of_a_reading(drawing: DrawingPage):
    """number-view.js's describe(): the headline and its detail, for the verdicts it can meet."""
    said = drawing.page.evaluate(
        """async () => {
          const { describe } = await import('/static/js/number-view.js');
          const d = (digit, verdict = 'digit', extra = {}) =>
            ({ digit, verdict, runner_up: 7, confidence: 0.9, ...extra });
          return [
            describe({ number: '2026', digits: [d(2), d(0), d(2), d(6)] }),
            describe({ number: '21', digits: [d(2), d(1, 'unsure')] }),
            describe({ number: '31', digits: [d(3), d(0, 'not_a_digit'), d(1)] }),
            describe({ number: '', digits: [d(0, 'not_a_digit', { too_small: true })] }),
            describe({ number: '', digits: [d(0, 'not_a_digit')] }),
            describe({ number: '7', digits: [d(7)] }),
            describe({ number: '31', digits: [d(0, 'not_a_digit'), d(3), d(1, 'unsure')] }),
            describe({ number: '10', digits: [d(1, 'digit', { box: [10, 100, 30, 180] }),
                                              d(0, 'digit', { box: [40, 100, 90, 180] })] }, 280),
            describe({ number: '10', digits: [d(1, 'digit', { box: [10, 60, 30, 180] }),
                                              d(0, 'digit', { box: [40, 60, 90, 180] })] }, 280),
            describe({ number: '180', digits: [d(1, 'unsure'), d(8, 'unsure'), d(0, 'unsure')] }),
          ];
        }"""
    )
    assert said[0] == {"headline": "Reads 2026", "detail": "4 digits, each read on its own"}
    assert said[5] == {"headline": "Reads 7", "detail": "1 digit"}  # not "each read on its own"
    assert said[1]["headline"] == "Not sure: 21?"
    assert said[1]["detail"] == "Unsure of the second digit: 1 or 7?"
    assert said[2]["detail"].endswith("; 1 mark that is no digit is left out")
    assert said[3]["headline"] == "Too small to read: write bigger"
    assert said[4]["headline"] == "That doesn't look like a number"
    # A place is counted in the number read, not among the marks found: a dot before 31 does
    # not make its 1 "the third digit".
    assert said[6]["detail"].startswith("Unsure of the second digit: 1 or 7?")
    # Digits 80 px tall on the 280 px pad, under five widths of its 21 px pen, fill in; 120 do not.
    assert said[7]["detail"].endswith(
        "; written small for the pen: write about half as tall as the box"
    )
    assert said[8]["detail"] == "2 digits, each read on its own"
    # Several unsure digits are one list ("1 or 7?, the second digit: …" read badly).
    assert said[9]["detail"] == (
        "Unsure of the first digit (1 or 7), the second digit (8 or 7) and the third digit (0 or 7)"
    )


def test_a_failed_reading_is_said_and_sent_again_as_in_digit_mode(drawing: DrawingPage, numbers):
    """The merge with issue 19's retry: a busy server is quoted where the number goes, the
    countdown and "Retry now" show, and "Retry now" reads the number at once."""
    number = numbers[DESKTOP_INDEX]
    page = drawing.page
    drawing.number_mode()
    busy = "the server is busy: 32 drawings are being read in this process; retry in a second"
    page.route(
        "**/api/read*",
        lambda route: route.fulfill(
            status=503,
            headers={"Retry-After": "60"},  # the automatic try would wait a minute
            json={"error": {"code": "overloaded", "message": busy}},
        ),
    )
    drawing.draw_with_mouse(number.strokes, steps=2, canvas=number.size)
    # Each stroke's end asks again; after the last one, the state is "waiting" until it fails.
    page.wait_for_function(
        "() => document.querySelector('[data-testid=number-results]').dataset.state === 'error'"
    )
    assert page.locator("[data-role=number-headline]").text_content() == "The server is busy"
    detail = page.locator("[data-role=number-detail]").text_content()
    assert detail.startswith("The server is busy: 32 drawings"), detail
    assert drawing.number() == ""  # no stale number posing as the answer
    overlay = page.get_by_test_id("number-boxes")
    assert "is-stale" in overlay.get_attribute("class")  # nor boxes of an older reading
    assert page.locator("[data-role=number-retry-text]").text_content() == "Trying again in 60 s"
    assert not page.get_by_test_id("number-feedback").is_visible()
    page.unroute("**/api/read*")
    page.get_by_test_id("number-retry").click()
    drawing.wait_number_settled(len(number.strokes), timeout=3_000)
    assert drawing.number() == number.text
    assert "is-stale" not in overlay.get_attribute("class")
    assert not page.get_by_test_id("number-retry-row").is_visible()
