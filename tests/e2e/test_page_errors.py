"""When a drawing cannot be read: the page says why where the verdict goes (the server's own
message when it sent one) and sends the drawing again by itself, or at once with "Retry now".

The failures are made in the browser (Playwright routes), in front of the real server."""

from __future__ import annotations

import pytest
from e2e_support import SEVEN, DrawingPage

pytestmark = pytest.mark.e2e

PREDICT = "**/api/predict*"
BUSY = (
    "the server is busy: 32 drawings are being read (predictions and feedback) in this "
    "process, its limit; retry in a second"
)


def _text(drawing: DrawingPage, selector: str) -> str:
    return drawing.page.locator(selector).text_content().strip()


def test_an_unreachable_server_is_said_and_the_drawing_is_read_once_it_is_back(
    drawing: DrawingPage,
):
    page = drawing.page
    refused = []
    page.route(PREDICT, lambda route: refused.append(route) or route.abort("connectionrefused"))
    # Every change to the status line, which screen readers read out (role="status").
    page.evaluate(
        """() => {
          window.statusWrites = 0;
          new MutationObserver((records) => { window.statusWrites += records.length; })
            .observe(document.querySelector('[data-role=status]'),
                     { childList: true, characterData: true, subtree: true });
        }"""
    )
    drawing.draw_with_mouse(SEVEN, steps=12)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=results]').dataset.state === 'error'"
    )
    # Each stroke's failed live requests said it once, and its end cleared it for the headline
    # (the same words written again at every request were read out again: 18 in one stroke).
    assert len(refused) > 2 * len(SEVEN)
    assert page.evaluate("window.statusWrites") <= 2 * len(SEVEN)
    assert _text(drawing, "[data-role=headline]") == "Can't reach the server"
    assert "sent again by itself" in _text(drawing, "[data-role=detail]")
    assert page.get_by_test_id("retry").is_visible()
    assert _text(drawing, "[data-role=retry-text]").startswith("Trying again in ")
    # The server is back: the next automatic try (2 s after the first failure) reads it, with
    # nobody touching the page.
    page.unroute(PREDICT)
    drawing.wait_settled(1, timeout=8_000)
    assert drawing.top_digit() == "7"
    assert _text(drawing, "[data-role=headline]") == "Looks like a 7"
    assert not page.get_by_test_id("retry-row").is_visible()


def test_a_busy_server_is_quoted_and_retry_now_asks_at_once(drawing: DrawingPage):
    page = drawing.page
    page.route(
        PREDICT,
        lambda route: route.fulfill(
            status=503,
            headers={"Retry-After": "60"},  # the automatic try would wait a minute
            json={"error": {"code": "overloaded", "message": BUSY}},
        ),
    )
    drawing.draw_with_mouse(SEVEN)
    page.get_by_text("The server is busy", exact=True).wait_for()
    detail = _text(drawing, "[data-role=detail]")
    assert detail.startswith("The server is busy: 32 drawings are being read"), detail
    assert _text(drawing, "[data-role=retry-text]") == "Trying again in 60 s"
    assert drawing.top_digit() == ""  # no stale digit posing as the answer
    # The older drawing's bars step back; the words stay readable (WCAG 1.4.3).
    assert drawing.faded(".bar-track") == 10
    assert drawing.faded(".bar-label, .bar-value, .preview figcaption, .verdict") == 0
    # Failing again says nothing new, so a screen reader is not told it again at every retry.
    page.evaluate(
        """() => { window.__said = 0;
          new MutationObserver((m) => { window.__said += m.length; }).observe(
            document.querySelector('[data-role=announcer]'), { childList: true, subtree: true,
            characterData: true }); }"""
    )
    with page.expect_response(PREDICT):
        page.get_by_test_id("retry").click()
    page.get_by_text("Trying again in 60 s").wait_for()
    assert page.evaluate("() => window.__said") == 0
    page.unroute(PREDICT)
    page.get_by_test_id("retry").focus()  # by keyboard: the button goes away with the answer
    page.keyboard.press("Enter")
    drawing.wait_settled(1, timeout=3_000)  # not the minute the server asked for
    assert drawing.top_digit() == "7"
    assert not page.get_by_test_id("retry").is_visible()
    assert page.evaluate("() => document.activeElement.dataset.testid") == "canvas"  # not lost


def test_a_refused_drawing_is_not_retried(drawing: DrawingPage):
    page = drawing.page
    page.route(
        PREDICT,
        lambda route: route.fulfill(
            status=413,
            json={"error": {"code": "body_too_large", "message": "the body is over 2000000 bytes"}},
        ),
    )
    drawing.draw_with_mouse(SEVEN)
    page.get_by_text("The drawing was refused", exact=True).wait_for()
    assert _text(drawing, "[data-role=detail]") == "The body is over 2000000 bytes."
    assert not page.get_by_test_id("retry-row").is_visible()  # asking again would not help
    page.get_by_test_id("clear").click()
    assert _text(drawing, "[data-role=headline]") == "Draw a digit from 0 to 9"


def test_the_retry_waits_grow_and_honour_retry_after(drawing: DrawingPage):
    """static/js/retry.js with timers the test controls: 2, 4, 8, then every 15 s; a longer
    Retry-After wins; reset() starts again; now() runs the action once."""
    waits, runs, armed = drawing.page.evaluate(
        """async () => {
          const { RetryTimer } = await import('/static/js/retry.js');
          const waits = [];
          let runs = 0;
          const timers = {
            setTimeout: (f, ms) => { waits.push(ms); return waits.length; },
            clearTimeout() {}, setInterval: () => 1, clearInterval() {},
          };
          const timer = new RetryTimer({ action: () => runs++, timers });
          for (let i = 0; i < 5; i++) timer.schedule();
          timer.schedule(30000);
          timer.now();
          timer.now();  // not armed any more: nothing
          const armed = timer.armed;
          timer.reset();
          timer.schedule(1000);  // shorter than the first wait: the wait stands
          return [waits, runs, armed];
        }"""
    )
    assert waits == [2000, 4000, 8000, 15000, 15000, 30000, 2000]
    assert runs == 1 and armed is False
