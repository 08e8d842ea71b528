"""Shared machinery for the drawing-page tests: the real server, Debian Chromium, and a small
driver that draws on the canvas and reads the results the way a person would see them.

Used by conftest.py and by screenshots.py (which makes the README's images).
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from app.live_server import LiveServer
from model.pendigits import PenDigit

ROOT = Path(__file__).resolve().parents[2]

SETTLE_TIMEOUT_MS = 10_000
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# The central part of the canvas a digit is drawn into: a margin of 18% on every side, as a
# person leaves some room around their digit.
DRAW_AREA = (0.18, 0.64)

Point = tuple[float, float]
Strokes = Sequence[Sequence[Point]]


# ---- server and browser ------------------------------------------------------------------------


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for the block (a server started in it inherits them)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def running_server(home: Path, log_path: Path) -> Iterator[str]:
    """The real app (one uvicorn process, DIGITS_HOME=home, its output in log_path) on a free
    loopback port; yields its base URL. A fresh data home registers the shipped model."""
    with LiveServer(home, log=log_path) as server:
        yield server.url


def chromium_path() -> str | None:
    """Debian's Chromium (``playwright install`` cannot download browsers here)."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def launch_chromium(playwright):
    """Launch the system Chromium headless with the flags this sandbox needs."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


# ---- the page driver --------------------------------------------------------------------------

# Installed before any page script runs (init scripts are not subject to the page's CSP).
_RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""


# The WCAG contrast ratio of each element's text against its own background, as Chromium
# computed them (rgb() for plain colours, color(srgb …) for color-mix() shades): the page's
# elements matching the selector → [[class name, ratio], …]. WCAG asks 4.5:1 of text.
TEXT_CONTRASTS = """(selector) => {
  const channels = (css) => {
    const rgb = css.match(/^rgba?\\(([^)]*)\\)/);
    if (rgb) return rgb[1].split(/[ ,]+/).slice(0, 3).map((v) => Number(v) / 255);
    return css.match(/^color\\(srgb ([^)]*)\\)/)[1].split(" ").slice(0, 3).map(Number);
  };
  const luminance = (css) => {
    const [r, g, b] = channels(css).map((c) =>
      c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  return [...document.querySelectorAll(selector)]
    .filter((element) => element.textContent.trim() !== "")
    .map((element) => {
      const style = getComputedStyle(element);
      const [a, b] = [luminance(style.color), luminance(style.backgroundColor)];
      return [element.className, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
    });
}"""


@dataclass
class DrawingPage:
    """A page of the app in its own browser context, plus everything it logged and requested."""

    page: object  # playwright.sync_api.Page
    base_url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    response: object = None  # the navigation response for "/" (its headers carry the CSP)

    @classmethod
    def open(cls, browser, base_url: str, **context_options) -> DrawingPage:
        """A new context (default 1200×800) with recorders attached, on the drawing page."""
        context_options.setdefault("viewport", {"width": 1200, "height": 800})
        context = browser.new_context(**context_options)
        page = context.new_page()
        page.set_default_timeout(SETTLE_TIMEOUT_MS)
        driver = cls(page=page, base_url=base_url)
        page.on("console", lambda m: m.type == "error" and driver.console_errors.append(m.text))
        page.on("pageerror", lambda e: driver.page_errors.append(str(e)))
        page.on("request", lambda r: driver.requests.append(r.url))
        page.add_init_script(_RECORD_CSP_VIOLATIONS)
        driver.response = page.goto(base_url + "/")
        page.wait_for_selector("html.js-ready")
        return driver

    def close(self) -> None:
        self.page.context.close()

    # -- reading the page --

    def canvas_box(self) -> dict:
        """The canvas's CSS box in viewport pixels: x, y, width, height."""
        return self.page.get_by_test_id("canvas").bounding_box()

    def top_digit(self) -> str:
        return self.page.get_by_test_id("top-digit").text_content().strip()

    def probabilities(self) -> list[str]:
        """The ten bar labels as shown, e.g. ["<0.1%", …, "98.1%", …]."""
        return [self.page.get_by_test_id(f"prob-{d}").text_content().strip() for d in range(10)]

    def state(self) -> tuple[str, int, int]:
        """(results state, strokes the shown result is for, strokes on the canvas)."""
        return self.page.evaluate(
            """() => {
              const r = document.querySelector('[data-testid=results]');
              const c = document.querySelector('[data-testid=canvas]');
              return [r.dataset.state, Number(r.dataset.strokes), Number(c.dataset.strokes)];
            }"""
        )

    def alpha_sum(self, testid: str) -> int:
        """Sum of the alpha channel over a canvas's backing store: 0 means nothing is painted."""
        return self.page.evaluate(
            """(id) => {
              const c = document.querySelector(`[data-testid=${id}]`);
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              let s = 0;
              for (let i = 3; i < d.length; i += 4) s += d[i];
              return s;
            }""",
            testid,
        )

    def csp_violations(self) -> list[str]:
        return self.page.evaluate("() => window.__cspViolations || []")

    def foreign_requests(self) -> list[str]:
        """Requests to any origin other than the app's own (data: and blob: URLs are local)."""
        own = urlsplit(self.base_url).netloc
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != own
        ]

    def assert_clean(self) -> None:
        """No console errors, no uncaught exceptions, no CSP violations, no foreign requests."""
        assert self.page_errors == [], f"uncaught errors: {self.page_errors}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"
        assert self.csp_violations() == [], f"CSP violations: {self.csp_violations()}"
        assert self.foreign_requests() == [], f"foreign requests: {self.foreign_requests()}"

    def faded(self, selector: str) -> int:
        """How many of the elements matching ``selector`` are drawn through an opacity under 1
        (their own or an ancestor's): text faded that way falls under a 4.5 : 1 contrast."""
        return self.page.evaluate(
            """(selector) => [...document.querySelectorAll(selector)].filter((e) => {
              for (let n = e; n; n = n.parentElement) {
                if (Number(getComputedStyle(n).opacity) < 1) return true;
              }
              return false;
            }).length""",
            selector,
        )

    # -- acting on the page --

    def to_viewport(
        self, point: Point, area: tuple[float, float] = DRAW_AREA, box: dict | None = None
    ) -> Point:
        """A point in the digit's 0..1 box → viewport pixels inside the canvas's central area.
        Pass the canvas `box` when mapping many points: each lookup is a round trip."""
        box = box or self.canvas_box()
        offset, span = area
        return (
            box["x"] + box["width"] * (offset + span * point[0]),
            box["y"] + box["height"] * (offset + span * point[1]),
        )

    def draw_with_mouse(
        self, strokes: Strokes, steps: int = 3, canvas: tuple[float, float] | None = None
    ) -> None:
        """Draw each stroke as a press, moves through every point (with interpolated steps) and a
        release, as a person with a mouse would. Points are in a digit's 0..1 box, or, with
        ``canvas`` (width, height), in pixels of a canvas of that size laid over the pad."""
        mouse = self.page.mouse
        box = self.canvas_box()
        for stroke in strokes:
            points = [self._point(p, box, canvas) for p in stroke]
            mouse.move(*points[0])
            mouse.down()
            for x, y in points[1:]:
                mouse.move(x, y, steps=steps)
            mouse.up()

    def draw_with_touch(
        self, strokes: Strokes, steps: int = 3, canvas: tuple[float, float] | None = None
    ) -> None:
        """Draw with real touch input through CDP (the browser makes touch pointer events);
        ``canvas`` as for draw_with_mouse."""
        cdp = self.page.context.new_cdp_session(self.page)
        box = self.canvas_box()
        try:
            for stroke in strokes:
                points = [self._point(p, box, canvas) for p in stroke]
                path = [points[0]]
                for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
                    path += [
                        (x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps)
                        for k in range(1, steps + 1)
                    ]
                for i, (x, y) in enumerate(path):
                    cdp.send(
                        "Input.dispatchTouchEvent",
                        {
                            "type": "touchStart" if i == 0 else "touchMove",
                            "touchPoints": [{"x": x, "y": y, "id": 1, "radiusX": 4, "radiusY": 4}],
                        },
                    )
                cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        finally:
            cdp.detach()

    def tap(self, testid: str, hold: float = 0.05) -> None:
        """A finger's tap on the middle of an element, through CDP like draw_with_touch."""
        box = self.page.get_by_test_id(testid).bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        cdp = self.page.context.new_cdp_session(self.page)
        try:
            finger = {"x": x, "y": y, "id": 9, "radiusX": 4, "radiusY": 4}
            cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [finger]})
            time.sleep(hold)
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        finally:
            cdp.detach()

    def _point(self, point: Point, box: dict, canvas: tuple[float, float] | None) -> Point:
        if canvas is None:
            return self.to_viewport(point, box=box)
        return (
            box["x"] + box["width"] * point[0] / canvas[0],
            box["y"] + box["height"] * point[1] / canvas[1],
        )

    # -- Number mode --

    def number_mode(self) -> None:
        """Switch to Number mode and wait for the wide pad."""
        self.page.get_by_test_id("mode-number").click()
        self.page.wait_for_function(
            """() => { const c = document.querySelector('[data-testid=canvas]');
                       const r = c.getBoundingClientRect();
                       return Math.abs(r.width / r.height - 2.5) < 0.05; }"""
        )

    def number(self) -> str:
        return self.page.get_by_test_id("number").text_content().strip()

    def wait_number_settled(self, strokes: int, timeout: float = SETTLE_TIMEOUT_MS) -> None:
        """Wait until the number read from exactly `strokes` strokes is on screen."""
        self.page.wait_for_function(
            """(n) => {
              const r = document.querySelector('[data-testid=number-results]');
              const c = document.querySelector('[data-testid=canvas]');
              return r.dataset.state === 'ready' && r.dataset.strokes === String(n)
                && c.dataset.strokes === String(n);
            }""",
            arg=strokes,
            timeout=timeout,
        )

    def wait_settled(self, strokes: int, timeout: float = SETTLE_TIMEOUT_MS) -> None:
        """Wait until the final prediction for exactly `strokes` strokes is on screen."""
        self.page.wait_for_function(
            """(n) => {
              const r = document.querySelector('[data-testid=results]');
              const c = document.querySelector('[data-testid=canvas]');
              return r.dataset.state === 'ready' && r.dataset.strokes === String(n)
                && c.dataset.strokes === String(n);
            }""",
            arg=strokes,
            timeout=timeout,
        )

    def draw_and_read(self, strokes: Strokes, steps: int = 3) -> str:
        """Draw with the mouse, wait for the settled prediction and return the top digit."""
        self.draw_with_mouse(strokes, steps=steps)
        self.wait_settled(len(strokes))
        return self.top_digit()


# ---- digits to draw ------------------------------------------------------------------------------


def _line(a: Point, b: Point, n: int = 8) -> list[Point]:
    return [(a[0] + (b[0] - a[0]) * k / n, a[1] + (b[1] - a[1]) * k / n) for k in range(n + 1)]


# Hand-made digits in their own 0..1 box (y down), drawn the way people usually draw them.
ONE: Strokes = [_line((0.56, 0.0), (0.46, 1.0))]
ZERO: Strokes = [
    [
        (0.5 + 0.34 * math.sin(t), 0.5 - 0.5 * math.cos(t))
        for t in (-2 * math.pi * k / 40 for k in range(41))  # counter-clockwise from the top
    ]
]
SEVEN: Strokes = [_line((0.08, 0.02), (0.92, 0.02)) + _line((0.92, 0.02), (0.38, 1.0))[1:]]
BAR: Strokes = [_line((0.0, 0.45), (1.0, 0.45))]


def pick_pen_digits(
    samples: list[PenDigit], per_digit: int = 4, seed: int = 20240603
) -> list[PenDigit]:
    """`per_digit` samples of each digit, each from a different writer, chosen with a fixed seed
    (the samples are model.pendigits.load()'s)."""
    rng = random.Random(seed)
    chosen = []
    for label in range(10):
        by_writer: dict[str, list[PenDigit]] = {}
        for s in samples:
            if s.label == label:
                by_writer.setdefault(s.writer, []).append(s)
        writers = sorted(by_writer)
        rng.shuffle(writers)
        chosen += [rng.choice(by_writer[w]) for w in writers[:per_digit]]
    return chosen
