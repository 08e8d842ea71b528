"""The API docs page (/docs) in Chromium: Swagger UI from this server, readable (WCAG 1.4.3:
its own colours put white on light method badges at 1.6 : 1), inside a main landmark."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

# The lowest contrast among visible texts matching each selector, over what is behind them
# (semi-transparent backgrounds composited over the page's white).
LOWEST_CONTRAST = """(selector) => {
  const channel = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const rgba = (css) => {
    const v = css.match(/[\\d.]+/g).map(Number);
    return [v[0], v[1], v[2], v[3] ?? 1];
  };
  const behind = (e) => {
    const layers = [];
    for (let n = e; n; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] === 1) break;
    }
    const over = (out, [r, g, b, a]) => [0, 1, 2].map((i) => [r, g, b][i] * a + out[i] * (1 - a));
    return layers.reverse().reduce(over, [255, 255, 255]);
  };
  const ratio = (e) => {
    const [a, b] = [luminance(rgba(getComputedStyle(e).color)), luminance(behind(e))];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  };
  const texts = [...document.querySelectorAll(selector)].filter((e) => e.textContent.trim());
  return texts.length ? Math.min(...texts.map(ratio)) : null;
}"""


def test_the_docs_are_readable_and_in_a_main_landmark(browser, server_url):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    try:
        page.goto(f"{server_url}/docs")
        page.wait_for_selector(".opblock-summary-method")
        assert page.locator("main #swagger-ui").count() == 1
        assert page.locator("main #errors").count() == 1
        for selector in (
            ".opblock-summary-method",  # GET, POST, PATCH, DELETE badges
            ".swagger-ui a",
            ".btn.authorize",
            ".opblock-summary-path",
            ".docs-errors td",
        ):
            lowest = page.evaluate(LOWEST_CONTRAST, selector)
            assert lowest is not None and lowest >= 4.5, (selector, lowest)
        assert errors == []
    finally:
        page.close()
