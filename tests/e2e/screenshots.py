"""Make the README's screenshots of the drawing page (not a test; run it by hand).

    .venv/bin/python tests/e2e/screenshots.py            # starts the app on a free port
    .venv/bin/python tests/e2e/screenshots.py --url http://127.0.0.1:8000

Writes docs/screenshot.png (desktop, 1200×800) and docs/screenshot-phone.png (360×740, DPR 2),
each after drawing a real handwritten digit from the UCI pen-digits set, and the same with the
"Inside the network" panel open and in view: docs/inside.png (1366×768) and
docs/inside-phone.png (390×844, DPR 2). Then Number mode, a number written with one held-out
writer's pen digits (``model.pen_numbers``): docs/number.png (1366×768) and
docs/number-phone.png (390×844, DPR 2, with touch).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_support import (  # noqa: E402  (the path above makes the sibling module importable)
    ROOT,
    DrawingPage,
    launch_chromium,
    running_server,
)

from model import pen_numbers, pendigits  # noqa: E402

DESKTOP_SAMPLE = "pendigits-train-0159"
PHONE_SAMPLE = "pendigits-train-0008"
NUMBER_SEED, NUMBER_INDEX = 7, 59  # 2904, written by w30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="use a running server instead of starting one")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--desktop-sample", default=DESKTOP_SAMPLE)
    parser.add_argument("--phone-sample", default=PHONE_SAMPLE)
    parser.add_argument("--dark", action="store_true", help="prefers-color-scheme: dark")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    samples = {s.id: s for s in pendigits.load()}
    args.out.mkdir(parents=True, exist_ok=True)
    scheme = "dark" if args.dark else "light"
    with contextlib.ExitStack() as stack:
        if args.url:
            base_url = args.url.rstrip("/")
        else:
            home = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            base_url = stack.enter_context(running_server(home / "home", home / "server.log"))
        playwright = stack.enter_context(sync_playwright())
        browser = launch_chromium(playwright)
        stack.callback(browser.close)

        desktop = {"viewport": {"width": 1200, "height": 800}}
        laptop = {"viewport": {"width": 1366, "height": 768}}
        phone = {"device_scale_factor": 2, "is_mobile": True, "has_touch": True}
        shots = [
            ("screenshot.png", args.desktop_sample, desktop, False),
            (
                "screenshot-phone.png",
                args.phone_sample,
                {"viewport": {"width": 360, "height": 740}, **phone},
                False,
            ),
            ("inside.png", args.desktop_sample, laptop, True),
            (
                "inside-phone.png",
                args.phone_sample,
                {"viewport": {"width": 390, "height": 844}, **phone},
                True,
            ),
        ]
        for name, sample_id, options, inside in shots:
            drawing = DrawingPage.open(browser, base_url, color_scheme=scheme, **options)
            sample = samples[sample_id]
            if inside:
                drawing.page.get_by_test_id("inside-toggle").click()
                drawing.page.get_by_test_id("canvas").scroll_into_view_if_needed()
            if options.get("has_touch"):
                drawing.draw_with_touch(sample.strokes, steps=4)
                drawing.wait_settled(len(sample.strokes))
                digit = drawing.top_digit()
            else:
                digit = drawing.draw_and_read(sample.strokes, steps=4)
            drawing.page.mouse.move(0, 0)  # no hover effects in the picture
            if inside:
                drawing.page.get_by_test_id("inside").evaluate("(e) => e.scrollIntoView()")
            drawing.page.wait_for_timeout(400)  # let the bars finish their transition
            path = args.out / (name if scheme == "light" else name.replace(".png", "-dark.png"))
            drawing.page.screenshot(path=str(path))
            print(f"{path}: drew {sample_id} (a {sample.label}), the page read {digit}")
            drawing.close()

        writers = sorted({s.writer for s in samples.values()})[15:]
        number = pen_numbers.numbers(list(samples.values()), 60, NUMBER_SEED, writers)[NUMBER_INDEX]
        for name, options in [
            ("number.png", laptop),
            ("number-phone.png", {"viewport": {"width": 390, "height": 844}, **phone}),
        ]:
            drawing = DrawingPage.open(browser, base_url, color_scheme=scheme, **options)
            drawing.number_mode()
            draw = drawing.draw_with_touch if options.get("has_touch") else drawing.draw_with_mouse
            draw(number.strokes, steps=3, canvas=number.size)
            drawing.wait_number_settled(len(number.strokes))
            drawing.page.mouse.move(0, 0)
            drawing.page.wait_for_timeout(400)
            path = args.out / (name if scheme == "light" else name.replace(".png", "-dark.png"))
            drawing.page.screenshot(path=str(path))
            print(f"{path}: wrote {number.text}, the page read {drawing.number()}")
            drawing.close()


if __name__ == "__main__":
    main()
