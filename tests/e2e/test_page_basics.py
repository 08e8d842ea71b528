"""The page as a whole: self-contained, CSP-clean, labelled, responsive and calm about errors."""

from __future__ import annotations

import httpx2
import pytest
from e2e_support import ONE, SEVEN, DrawingPage

pytestmark = pytest.mark.e2e


def test_page_uses_only_its_own_origin_and_obeys_the_csp(drawing: DrawingPage):
    csp = drawing.response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in csp, "the page should be served with the CSP"
    drawing.draw_and_read(SEVEN)
    drawing.page.get_by_test_id("undo").click()
    drawing.page.reload()
    drawing.page.wait_for_selector("html.js-ready")
    assert any(url.endswith("/api/predict?include_input=true") for url in drawing.requests)
    drawing.assert_clean()


def test_model_version_is_shown(drawing: DrawingPage, server_url: str):
    expected = httpx2.get(f"{server_url}/api/model", timeout=5).json()["version"]
    version = drawing.page.get_by_test_id("model-version")
    drawing.page.wait_for_function(
        "(v) => document.querySelector('[data-testid=model-version]').textContent === v",
        arg=expected,
    )
    drawing.draw_and_read(ONE)
    assert version.text_content() == expected
    drawing.assert_clean()


def test_bars_and_canvas_are_labelled_for_assistive_technology(drawing: DrawingPage):
    page = drawing.page
    assert "draw" in (page.get_by_test_id("canvas").get_attribute("aria-label") or "").lower()
    meters = page.get_by_role("meter")
    assert meters.count() == 10
    drawing.draw_and_read(ONE)
    meter_one = page.get_by_role("meter", name="Digit 1")
    assert float(meter_one.get_attribute("aria-valuenow")) > 50
    assert meter_one.get_attribute("aria-valuetext") == drawing.probabilities()[1]
    announcer = page.locator("[data-role=announcer]")
    assert announcer.get_attribute("aria-live") == "polite"
    assert announcer.text_content().startswith("Looks like a 1")
    drawing.assert_clean()


def test_side_by_side_on_desktop_and_stacked_on_a_phone(drawing: DrawingPage):
    def boxes():
        return (
            drawing.page.locator(".card-draw").bounding_box(),
            drawing.page.locator(".card-result").bounding_box(),
        )

    draw, result = boxes()
    assert result["x"] >= draw["x"] + draw["width"]  # results to the right of the canvas

    drawing.draw_and_read(ONE)
    drawing.page.set_viewport_size({"width": 360, "height": 740})
    draw, result = boxes()
    assert result["y"] >= draw["y"] + draw["height"]  # results below the canvas
    # Resizing keeps the drawing: the strokes are redrawn at the new size.
    drawing.page.wait_for_timeout(100)
    assert drawing.state() == ["ready", 1, 1]
    assert drawing.alpha_sum("canvas") > 0
    drawing.assert_clean()


def test_server_errors_are_reported_calmly(drawing: DrawingPage):
    page = drawing.page
    page.route(
        "**/api/predict*",
        lambda route: route.fulfill(
            status=503,
            json={"error": {"code": "unavailable", "message": "the model is reloading"}},
        ),
    )
    drawing.draw_with_mouse(ONE)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=results]').dataset.state === 'error'"
    )
    # The headline says what happened, and the detail is the server's own message.
    headline = page.locator("[data-role=headline]")
    assert headline.text_content() == "The server had a problem"
    assert page.locator("[data-role=detail]").text_content().startswith("The model is reloading.")
    assert page.get_by_test_id("retry-row").is_visible()

    page.unroute("**/api/predict*")
    drawing.draw_with_mouse(ONE)
    drawing.wait_settled(2)
    assert headline.text_content().startswith("Looks like")
    assert not page.get_by_test_id("retry-row").is_visible()
    assert not page.locator("[data-role=status]").is_visible()
    assert drawing.page_errors == []
    # The browser itself logs the failed responses; nothing else may reach the console.
    assert [e for e in drawing.console_errors if "status of 503" not in e] == []


def test_offline_keeps_the_drawing_and_recovers(drawing: DrawingPage):
    page = drawing.page
    page.context.set_offline(True)
    drawing.draw_with_mouse(ONE)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=results]').dataset.state === 'error'"
    )
    assert page.locator("[data-role=headline]").text_content() == "You're offline"
    assert drawing.state()[2] == 1

    page.context.set_offline(False)  # the page's "online" handler asks again
    drawing.wait_settled(1)
    assert drawing.top_digit() == "1"
    drawing.assert_clean()
