"""The "Inside the network" panel in Chromium: opened and remembered, laid out from the model's
own sizes, a unit opened by pointer and by keyboard, the evidence maps, a model switch followed,
a phone, and no jank while drawing."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx2
import pytest
from e2e_support import ONE, SEVEN, DrawingPage, environment, running_server

from model.network import MLP
from model.registry import Registry

pytestmark = pytest.mark.e2e

TOKEN = "e2e-inside-token-0123456789"


@pytest.fixture(scope="module")
def inside_server(tmp_path_factory) -> Iterator[tuple[str, object]]:
    """A server of its own (an admin token, to switch models), and its data home."""
    home = tmp_path_factory.mktemp("inside-home")
    log = tmp_path_factory.mktemp("inside-log") / "server.log"
    with environment(DIGITS_ADMIN_TOKEN=TOKEN), running_server(home, log) as url:
        yield url, home


@pytest.fixture
def page(browser, inside_server) -> Iterator[DrawingPage]:
    driver = DrawingPage.open(browser, inside_server[0], viewport={"width": 1366, "height": 768})
    try:
        yield driver
    finally:
        driver.close()


def _open(drawing: DrawingPage) -> None:
    toggle = drawing.page.get_by_test_id("inside-toggle")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    drawing.page.get_by_test_id("canvas").scroll_into_view_if_needed()


def _layer_titles(drawing: DrawingPage) -> list[str]:
    return drawing.page.locator(".stage-layer .stage-title").all_text_contents()


def _painted(drawing: DrawingPage, testid: str) -> int:
    return drawing.page.evaluate(
        """(id) => {
          const c = document.querySelector(`[data-testid=${id}]`);
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) n += d[i] > 0 ? 1 : 0;
          return n;
        }""",
        testid,
    )


def test_at_rest_it_shows_what_the_first_layer_looks_for_and_is_remembered(page):
    assert page.page.get_by_test_id("inside-body").is_hidden()
    _open(page)
    atlas = page.page.get_by_test_id("atlas")
    page.page.wait_for_function("() => document.querySelectorAll('.atlas canvas').length === 64")
    assert atlas.locator("canvas").first.get_attribute("aria-label").startswith("Unit ")
    page.page.reload()
    page.page.wait_for_selector("html.js-ready")
    assert page.page.get_by_test_id("inside-toggle").get_attribute("aria-expanded") == "true"
    assert page.page.get_by_test_id("inside-body").is_visible()
    page.assert_clean()


def test_draw_a_seven_and_see_the_layers_scores_units_and_evidence(page):
    _open(page)
    assert page.draw_and_read(SEVEN) == "7"
    assert any(url.endswith("/api/explain") for url in page.requests)
    assert _layer_titles(page) == ["Layer 1: 512 units, ReLU", "Layer 2: 256 units, ReLU"]
    assert _painted(page, "layer-1") > 0 and _painted(page, "inside-input") > 0
    assert _painted(page, "evidence") > 20 and _painted(page, "contrast") > 20
    assert page.page.locator("[data-role=why-digit]").text_content() == "7"
    method = page.page.locator("[data-role=method]").text_content()
    assert "gradient × input" in method and "adds up exactly" in method
    # The sum holds as written, to the hundredth (rounded apart, one drawing in three missed).
    written = re.search(r"map's (\S+) plus the biases' (\S+) is z₇ = (\S+)\.", method)
    parts = [float(v.replace("−", "-")) for v in written.groups()]
    assert round(parts[0] + parts[1], 2) == parts[2]
    split = page.page.evaluate(
        "async () => { const { scoreParts } = await import('/static/js/inside.js');"
        " return [scoreParts(7.3349, 8.9498), scoreParts(13.094, 15.335),"
        " scoreParts(-0.004, 1.1)]; }"
    )
    assert split == [["7.33", "1.62", "8.95"], ["13.09", "2.25", "15.34"], ["0.00", "1.10", "1.10"]]
    # The softmax's T is written out, the model's own: a learner can work p out from z.
    model = httpx2.get(f"{page.base_url}/api/model", timeout=10).json()
    temperature = model["calibration"]["temperature"]
    caption = page.page.locator("[data-role=temperature]").text_content()
    assert caption == f"\u00a0=\u00a0{temperature:.2f}" and temperature != 1
    # A score's bar is coloured by its sign, as the maps colour ink that raises or lowers z.
    colours = page.page.evaluate(
        """() => {
          const colour = (e) => getComputedStyle(e).backgroundColor;
          const legend = (kind) => colour(document.querySelector(`.swatch-${kind}`));
          return [...document.querySelectorAll('[data-testid=scores] li')].map((row) => {
            const score = Number(row.querySelector('.score-value').textContent.replace('−', '-'));
            const kind = score > 0 ? 'positive' : 'negative';
            return colour(row.querySelector(`.score-${kind}`)) === legend(kind);
          });
        }"""
    )
    assert len(colours) >= 10 and all(colours)
    # Every score is also text: the table a screen reader reads.
    rows = page.page.locator("[data-testid=inside-table] tbody tr")
    assert rows.nth(7).locator("td").first.text_content() != ""
    # Pointing at a cell of layer 1 opens that unit: its value, and its 784 weights as an image.
    layer = page.page.get_by_test_id("layer-1")
    layer.scroll_into_view_if_needed()
    box = layer.bounding_box()
    page.page.mouse.move(box["x"] + 3, box["y"] + 3)
    page.page.wait_for_function(
        "() => document.querySelector('[data-testid=unit-weights]').dataset.unit === '0'"
    )
    assert page.page.get_by_test_id("unit-text").text_content().startswith("Layer 1, unit 0 of 512")
    # What the pointer sweeps over is shown, not read out (31 lines a second, swept).
    assert page.page.get_by_test_id("unit-said").text_content() == ""
    assert _painted(page, "unit-weights") > 300
    page.assert_clean()


def test_keyboard_only(page):
    keyboard = page.page.keyboard
    page.page.get_by_test_id("inside-toggle").focus()
    keyboard.press("Enter")
    assert page.page.get_by_test_id("inside-body").is_visible()
    page.page.get_by_test_id("canvas").scroll_into_view_if_needed()
    page.draw_and_read(ONE)
    page.page.get_by_test_id("inside-toggle").focus()
    keyboard.press("Tab")  # the first layer, after the toggle in tab order
    focused = page.page.evaluate("() => document.activeElement.dataset.testid")
    assert focused == "layer-1"
    keyboard.press("Home")
    keyboard.press("ArrowRight")
    keyboard.press("ArrowRight")
    text = page.page.get_by_test_id("unit-text")
    assert text.text_content().startswith("Layer 1, unit 2 of 512: a = ")
    said = page.page.get_by_test_id("unit-said")  # read out: a choice made with the keys
    assert said.text_content() == text.text_content()
    page.page.wait_for_function(
        "() => document.querySelector('[data-testid=unit-weights]').dataset.unit === '2'"
    )
    keyboard.press("Tab")
    assert page.page.evaluate("() => document.activeElement.dataset.testid") == "layer-2"
    keyboard.press("End")
    assert text.text_content().startswith("Layer 2, unit 255 of 256")
    # The first unit's outline is whole: its top and left edges are the canvas's, where a line
    # drawn around the cell was half cut off (only its bottom and right sides showed).
    keyboard.press("Home")
    edges = page.page.evaluate(
        """async () => {
          const { coloursOf } = await import('/static/js/heatmap.js');
          const canvas = document.querySelector('[data-testid=layer-2]');
          const [r, g, b] = coloursOf(canvas).mark;
          const { width, height } = canvas;
          const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
          const marked = (x, y) => {
            const i = 4 * (y * width + x);
            return data[i] === r && data[i + 1] === g && data[i + 2] === b;
          };
          const count = (n, at) => Array.from({ length: n }, (_, k) => at(k)).filter(Boolean)
            .length;
          return [count(width, (x) => marked(x, 0)), count(height, (y) => marked(0, y))];
        }"""
    )
    assert min(edges) >= 5, edges  # the top row and the left column along the first cell
    assert "not pixels" in page.page.locator("[data-role=unit-weights-caption]").text_content()
    # A new stroke's live answers change the line many times a second: shown, not read out.
    before = said.text_content()
    page.page.get_by_test_id("canvas").scroll_into_view_if_needed()
    page.draw_with_mouse(SEVEN)
    page.wait_settled(len(ONE) + len(SEVEN))  # over the one
    assert said.text_content() == before != text.text_content()
    # Escape clears the drawing, and with it the layers: the focus goes to the pad, and no
    # unit's value is left over.
    page.page.get_by_test_id("layer-2").focus()
    keyboard.press("Escape")
    assert page.page.evaluate("() => document.activeElement.dataset.testid") == "canvas"
    assert text.text_content() == text.get_attribute("data-rest")
    page.assert_clean()


def test_a_phone_sees_the_whole_path_wrapped_and_the_details_stacked(browser, inside_server):
    """On a phone the path of the data wraps, stage after stage, instead of scrolling sideways
    with the scores and the answer out of sight (a teacher's QA pass: "512 uni", "Bright")."""
    phone = DrawingPage.open(
        browser,
        inside_server[0],
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        _open(phone)
        phone.draw_with_touch(SEVEN)
        phone.wait_settled(1)
        sizes = phone.page.evaluate(
            """() => {
              const flow = document.querySelector('[data-testid=flow]');
              const box = flow.getBoundingClientRect();
              const stages = [...flow.children].map((s) => s.getBoundingClientRect());
              return [document.documentElement.scrollWidth, flow.scrollWidth, flow.clientWidth,
                      stages.every((s) => s.left >= box.left - 1 && s.right <= box.right + 1),
                      new Set(stages.map((s) => Math.round(s.top))).size];
            }"""
        )
        page_width, flow_width, flow_visible, inside, rows = sizes
        assert page_width <= 390  # nothing overflows the viewport
        assert flow_width <= flow_visible and inside  # every stage in view, none to the right
        assert rows >= 2  # wrapped
        details = phone.page.locator(".inside-details > section")
        first, second = details.nth(0).bounding_box(), details.nth(1).bounding_box()
        assert second["y"] >= first["y"] + first["height"]  # stacked
        # A tap opens the unit tapped (it opened unit 0: a tap makes no pointermove, and the
        # focus it gives chose the first unit). Layer 2's 256 units are a 16 × 16 grid.
        phone.page.get_by_test_id("layer-2").scroll_into_view_if_needed()
        phone.tap("layer-2")
        phone.page.wait_for_function(
            "() => document.querySelector('[data-testid=unit-text]').textContent"
            ".startsWith('Layer 2,')"
        )
        said = phone.page.get_by_test_id("unit-text").text_content()
        unit = int(re.match(r"Layer 2, unit (\d+) of 256", said).group(1))
        assert unit in {8 * 16 + 8, 8 * 16 + 7, 7 * 16 + 8, 7 * 16 + 7}, said  # the middle
        phone.assert_clean()
    finally:
        phone.close()


def test_no_long_tasks_and_at_most_ten_requests_a_second_while_drawing(page):
    _open(page)
    page.page.evaluate(
        """() => {
          window.__long = [];
          new PerformanceObserver((list) => {
            for (const e of list.getEntries()) window.__long.push(e.duration);
          }).observe({ type: 'longtask', buffered: false });
        }"""
    )
    # The observer sees a long task when there is one: a deliberate 80 ms of busy work.
    busy = "() => { const t = performance.now(); while (performance.now() - t < 80); }"
    page.page.evaluate(f"() => setTimeout({busy})")
    page.page.wait_for_function("() => window.__long.length === 1")
    # A second stroke only when the first saw nothing over 100 ms: on a shared, busy machine (the
    # server reads every drawing on the same two cores) a task can overrun 50 ms by chance, and a
    # second clean stroke says it was the machine. Work of the page's own that takes 100 ms once,
    # or over 50 ms every time, fails.
    long_tasks = []
    for _attempt in range(2):
        page.page.evaluate("() => { window.__long = []; }")
        before = len(page.requests)
        started = page.page.evaluate("() => performance.now()")
        # A slow stroke: 16 segments × 10 moves, each a frame in headless Chromium (2-3 s).
        page.draw_with_mouse(SEVEN, steps=10)
        page.wait_settled(1)
        seconds = (page.page.evaluate("() => performance.now()") - started) / 1000
        explains = [u for u in page.requests[before:] if u.endswith("/api/explain")]
        assert len(explains) <= 10 * seconds + 2, (len(explains), seconds)
        long_tasks.append(page.page.evaluate("() => window.__long"))
        if not long_tasks[-1] or max(long_tasks[-1]) >= 100:
            break
        page.page.get_by_test_id("clear").click()
    assert long_tasks[-1] == [], long_tasks  # no task over 50 ms
    page.assert_clean()


def test_the_panel_follows_a_switch_to_a_sigmoid_model(page, inside_server):
    url, home = inside_server
    registry = Registry(home)
    version = registry.add(MLP([784, 64, 10], "sigmoid", seed=0), {"metrics": {}})
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        r = httpx2.post(f"{url}/api/admin/models/{version}/activate", headers=auth, timeout=10)
        assert r.status_code == 200, r.text
        _open(page)
        page.draw_with_mouse(SEVEN)
        page.wait_settled(1)
        page.page.wait_for_function(
            "() => document.querySelector('.stage-layer .stage-title')?.textContent"
            ".includes('64 units')"
        )
        assert _layer_titles(page) == ["Layer 1: 64 units, sigmoid"]
        assert page.page.get_by_test_id("model-version").text_content() == version
        assert "first-order" in page.page.locator("[data-role=method]").text_content()
        page.page.get_by_test_id("clear").click()
        page.page.wait_for_function("() => document.querySelectorAll('.atlas canvas').length > 0")
        labels = page.page.locator(".atlas canvas").evaluate_all(
            "(tiles) => tiles.map((t) => Number(t.dataset.unit))"
        )
        assert len(labels) == 64 and max(labels) < 64  # the new model's 64 units
        page.assert_clean()
    finally:
        shipped = registry.metas()[-1]["version"]
        httpx2.post(f"{url}/api/admin/models/{shipped}/activate", headers=auth, timeout=10)


def test_the_page_follows_an_activation_within_seconds(page, inside_server):
    """After an admin activates (or rolls back to) another version, the header's badge names it
    within a few seconds, and the drawing on the canvas is read again by it, with nobody
    drawing."""
    url, home = inside_server
    registry = Registry(home)
    shipped = page.page.get_by_test_id("model-version").text_content()
    version = registry.add(MLP([784, 32, 10], "relu", seed=1), {"metrics": {}})
    auth = {"Authorization": f"Bearer {TOKEN}"}
    page.draw_with_mouse(SEVEN)
    page.wait_settled(1)
    try:
        # The page checks every 5 s, and the server swaps models within a second.
        with page.page.expect_response("**/api/predict*", timeout=8_000) as reread:
            r = httpx2.post(f"{url}/api/admin/models/{version}/activate", headers=auth, timeout=10)
            assert r.status_code == 200, r.text
        assert reread.value.json()["model"]["version"] == version
        assert page.page.get_by_test_id("model-version").text_content() == version
        page.wait_settled(1)
        page.assert_clean()
    finally:
        httpx2.post(f"{url}/api/admin/models/{shipped}/activate", headers=auth, timeout=10)


def test_not_a_digit_marks_the_cross_row_and_the_maps_explain_the_best_guess(page):
    """The explanation of a drawing answered "not a digit": ✕ is the answer's row, and the maps
    still explain the best-guess digit, titled as such."""

    def not_a_digit(route):
        response = route.fetch()
        body = response.json()
        body.update(verdict="not_a_digit", not_a_digit=0.91)
        route.fulfill(response=response, json=body)

    page.page.route("**/api/explain*", not_a_digit)
    _open(page)
    page.draw_with_mouse(SEVEN)
    why = page.page.locator("[data-role=why-digit]")
    page.page.wait_for_function(
        "() => document.querySelector('[data-role=why-digit]').textContent.includes('guess')"
    )
    assert why.text_content() == "7, its best guess"
    rows = page.page.locator("[data-testid=scores] li")
    assert rows.count() == 11 and rows.nth(10).is_visible()
    tops = page.page.locator("[data-testid=scores] li.is-top")
    assert tops.count() == 1 and tops.first.locator(".score-digit").text_content() == "✕"
    page.assert_clean()


@pytest.mark.parametrize(("width", "wrapped"), [(800, True), (1024, None), (1366, False)])
def test_a_window_too_narrow_for_the_path_wraps_it_and_a_wide_one_keeps_one_row(
    browser, inside_server, width, wrapped
):
    """Between 761 and 1023 px the path scrolled sideways, its scores cut mid-word and its
    probabilities out of sight (a QA pass): it wraps wherever the panel cannot hold it."""
    drawing = DrawingPage.open(browser, inside_server[0], viewport={"width": width, "height": 900})
    try:
        _open(drawing)
        drawing.draw_with_mouse(SEVEN)
        drawing.wait_settled(1)
        flow_width, flow_visible, rows = drawing.page.evaluate(
            """() => {
              const flow = document.querySelector('[data-testid=flow]');
              const tops = [...flow.children].map((s) => Math.round(s.getBoundingClientRect().top));
              return [flow.scrollWidth, flow.clientWidth, new Set(tops).size];
            }"""
        )
        assert flow_width <= flow_visible  # every stage in view
        if wrapped is not None:  # (at 1024 px the five stages fit the grid's one row)
            assert (rows > 1) == wrapped, rows
        drawing.assert_clean()
    finally:
        drawing.close()


def test_with_a_keyboard_alone_an_example_is_drawn_read_and_opened(page):
    """Drawing needs a pointer: a keyboard user (or a teacher at a projector) gets "Example", a
    digit drawn by the app, read as any drawing, its units open to the arrow keys. The feedback
    strip asks nothing: it is no person's handwriting. (The page picks a digit at random; here
    each answer is a fixed seed's, for a drawing known to be read right: about 1 in 300 is not.)"""
    keyboard = page.page.keyboard
    asked, given = [], [3, 8]

    def fixed(route):
        asked.append(int(route.request.url.rsplit("/", 1)[1]))
        route.fulfill(response=route.fetch(url=f"{page.base_url}/api/examples/{given[0]}?seed=2"))

    page.page.route("**/api/examples/*", fixed)
    page.page.get_by_test_id("inside-toggle").focus()
    keyboard.press("Enter")
    example = page.page.get_by_test_id("example")
    example.focus()
    with page.page.expect_response("**/api/examples/*") as caught:
        keyboard.press("Enter")
    page.wait_settled(len(caught.value.json()["drawing"]["strokes"]))
    assert page.top_digit() == "3"
    assert page.page.locator("[data-role=headline]").text_content() == "Looks like a 3"
    assert page.page.get_by_test_id("feedback").get_attribute("data-state") == "idle"
    assert page.page.evaluate("() => document.activeElement.dataset.testid") == "example"
    assert _painted(page, "layer-1") > 0
    page.page.get_by_test_id("layer-1").focus()
    keyboard.press("Home")
    keyboard.press("ArrowRight")
    assert page.page.get_by_test_id("unit-text").text_content().startswith("Layer 1, unit 1 of ")
    # Through Number mode and back it is still the app's example: still nothing asked.
    page.page.get_by_test_id("mode-number").click()
    page.page.get_by_test_id("mode-digit").click()
    page.wait_settled(len(caught.value.json()["drawing"]["strokes"]))
    assert page.page.get_by_test_id("feedback").get_attribute("data-state") == "idle"
    # Another one: the page asks for another digit, and it replaces the first.
    given.pop(0)
    example.focus()
    with page.page.expect_response("**/api/examples/*") as caught:
        keyboard.press("Enter")
    page.wait_settled(len(caught.value.json()["drawing"]["strokes"]))
    assert page.top_digit() == "8" and asked[0] != asked[1]
    page.page.get_by_test_id("layer-1").focus()
    keyboard.press("Escape")  # clears it like a drawing
    assert page.state()[2] == 0
    # Number mode has no Example (one digit only).
    page.page.get_by_test_id("mode-number").click()
    assert not example.is_visible()
    page.assert_clean()
