"""Correcting the app in the browser: Right / Wrong-it-is-a-N, by mouse and keyboard, and
practice mode. Each answer must reach POST /api/feedback with the drawing and its label."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import httpx2
import numpy as np
import pytest
from e2e_support import ONE, ROOT, SEVEN, DrawingPage, running_server

from app.examples import SEVEN_ROWS

pytestmark = pytest.mark.e2e


def _answer(drawing: DrawingPage, act) -> dict:
    """Run act() and return the JSON body of the POST /api/feedback it causes (after its 201)."""
    with drawing.page.expect_response("**/api/feedback") as caught:
        act()
    response = caught.value
    assert response.status == 201, response.text()
    assert isinstance(response.json()["id"], int)
    return json.loads(response.request.post_data)


def _a(digit: int) -> str:
    return f"an {digit}" if digit == 8 else f"a {digit}"


def _done(drawing: DrawingPage) -> str:
    done = drawing.page.get_by_test_id("feedback-done")
    done.wait_for(state="visible")
    return done.text_content()


def test_the_buttons_appear_only_after_a_prediction(drawing: DrawingPage):
    page = drawing.page
    assert not page.get_by_test_id("feedback-right").is_visible()
    drawing.draw_and_read(SEVEN)
    assert page.get_by_test_id("feedback-right").is_visible()
    for d in range(10):
        assert page.get_by_test_id(f"feedback-digit-{d}").is_visible()
    drawing.assert_clean()


def test_a_notice_shows_its_tone_for_six_seconds_and_a_newer_one_restarts_the_wait(
    drawing: DrawingPage,
):
    """static/js/notice.js, which both feedback strips use, with timers the test controls."""
    steps = drawing.page.evaluate(
        """async () => {
          const { Notice, NOTICE_MS } = await import('/static/js/notice.js');
          const element = document.createElement('p');
          element.hidden = true;
          const pending = new Map();
          let next = 0;
          const timers = {
            setTimeout: (f, ms) => { pending.set(++next, [f, ms]); return next; },
            clearTimeout: (id) => pending.delete(id),
          };
          const seen = () => [element.hidden, element.textContent, element.dataset.tone];
          const notice = new Notice(element, { timers });
          notice.say('Saved as a 7', 'ok');
          const first = seen();
          notice.say('Not saved: offline', 'error');
          const waits = [...pending.values()].map(([, ms]) => ms);
          const second = seen();
          for (const [f] of pending.values()) f();
          const after = seen();
          notice.say('Saved as a 1', 'ok');
          notice.clear();
          return { first, second, waits, after, cleared: [seen()[0], pending.size], ms: NOTICE_MS };
        }"""
    )
    assert steps["first"] == [False, "Saved as a 7", "ok"]
    assert steps["second"] == [False, "Not saved: offline", "error"]
    assert steps["waits"] == [6000] == [steps["ms"]]  # the first wait was cleared, not stacked
    assert steps["after"][0] is True
    assert steps["cleared"] == [True, 0]  # hidden at once, and its wait cancelled


def test_wrong_it_is_a_n_posts_the_drawing_confirms_and_clears(drawing: DrawingPage):
    predicted = drawing.draw_and_read(SEVEN)
    label = 3 if predicted != "3" else 5
    body = _answer(drawing, lambda: drawing.page.get_by_test_id(f"feedback-digit-{label}").click())
    assert body["label"] == label and body["predicted"] == int(predicted)
    assert body["image"].startswith("data:image/png;base64,") and body["model_version"]
    assert f"Saved as {_a(label)}" in _done(drawing)
    drawing.page.wait_for_function(
        "() => document.querySelector('[data-testid=canvas]').dataset.strokes === '0'"
    )
    assert drawing.state() == ["empty", 0, 0] and drawing.alpha_sum("canvas") == 0
    assert not drawing.page.get_by_test_id("feedback-right").is_visible()
    # The next drawing's question comes without the last one's thanks (it stays only until then).
    assert drawing.page.get_by_test_id("feedback-done").is_visible()
    drawing.draw_and_read(ONE)
    assert drawing.page.get_by_test_id("feedback-right").is_visible()
    assert drawing.page.get_by_test_id("feedback-done").is_hidden()
    drawing.assert_clean()


def test_right_by_keyboard_only(drawing: DrawingPage):
    page = drawing.page
    predicted = drawing.draw_and_read(ONE)
    # Tab reaches the Right button, and Enter presses it.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement?.dataset.testid") == "feedback-right":
            break
    else:
        raise AssertionError("Tab never reached the Right button")
    body = _answer(drawing, lambda: page.keyboard.press("Enter"))
    assert body["label"] == body["predicted"] == int(predicted)
    assert f"Saved as {_a(int(predicted))}" in _done(drawing)
    # The strip's buttons went away with the question; the focus is on the pad, not lost.
    assert page.evaluate("() => document.activeElement.dataset.testid") == "canvas"
    # and a digit key says what it really is
    drawing.draw_and_read(SEVEN)
    body = _answer(drawing, lambda: page.keyboard.press("4"))
    assert body["label"] == 4
    # The same seven again is said again, though in the same words as the last answer.
    page.evaluate(
        """() => { window.__said = 0; new MutationObserver((m) => { window.__said += m.length; })
          .observe(document.querySelector('[data-role=announcer]'),
                   { childList: true, subtree: true, characterData: true }); }"""
    )
    said_before = page.locator("[data-role=announcer]").text_content()
    # ...but only from the pad or the strip: elsewhere a stray 3 or N saves nothing (WCAG 2.1.4)
    drawing.draw_and_read(SEVEN)
    assert page.locator("[data-role=announcer]").text_content() == said_before
    assert page.evaluate("() => window.__said") >= 1
    page.get_by_test_id("inside-toggle").focus()
    saves = []
    page.on("request", lambda r: saves.append(r) if r.url.endswith("/api/feedback") else None)
    for key in ("3", "n", "N"):
        page.keyboard.press(key)
    page.wait_for_timeout(300)
    assert saves == [] and page.get_by_test_id("feedback-right").is_visible()
    page.get_by_test_id("feedback-digit-0").focus()  # in the strip
    body = _answer(drawing, lambda: page.keyboard.press("3"))
    assert body["label"] == 3
    drawing.assert_clean()


def test_enter_answers_right_after_a_mouse_click_on_a_button(drawing: DrawingPage):
    """A click leaves the focus on its button; drawing used to leave it there, so Enter after
    clicking Clear cleared the next drawing instead of saving it."""
    page = drawing.page
    drawing.draw_and_read(ONE)
    page.get_by_test_id("clear").click()
    predicted = drawing.draw_and_read(SEVEN)
    assert page.evaluate("() => document.activeElement.dataset.testid") == "canvas"
    body = _answer(drawing, lambda: page.keyboard.press("Enter"))
    assert body["label"] == body["predicted"] == int(predicted)
    drawing.assert_clean()


def test_a_slow_save_does_not_touch_the_next_drawing_or_its_question(drawing: DrawingPage):
    """ "Right" on a 7 is slow to be saved; meanwhile the person clears and draws a 1 (one stroke,
    as the 7 was) and is asked about it. The 7's 201 then only says thanks: the 1 stays on the
    pad with its question. And the same drawing read again while its answer is in flight (the
    Inside panel opened) keeps the buttons held: one tap, one post."""
    page = drawing.page
    held, posts = [], []
    page.route("**/api/feedback", lambda route: held.append(route))
    page.on("request", lambda r: "/api/feedback" in r.url and posts.append(r.url))
    drawing.draw_and_read(SEVEN)
    page.get_by_test_id("feedback-right").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=feedback]').dataset.state === 'sending'"
    )
    page.get_by_test_id("inside-toggle").click()  # the same drawing, read again
    page.wait_for_timeout(600)
    assert page.get_by_test_id("feedback").get_attribute("data-state") == "sending"
    page.get_by_test_id("feedback-right").click(force=True)  # held: no second post
    page.keyboard.press("Escape")
    assert drawing.draw_and_read(ONE) == "1"
    assert len(held) == 1 and len(posts) == 1
    state = page.get_by_test_id("feedback")
    assert state.get_attribute("data-state") == "asking"  # the 1's own question
    page.get_by_test_id("feedback-right").click()  # the 1's answer: held too
    page.wait_for_function(
        "() => document.querySelector('[data-testid=feedback]').dataset.state === 'sending'"
    )
    held[0].continue_()  # the 7's 201 comes first
    assert _done(drawing) == "Your last answer was saved as a 7."
    assert drawing.state()[2] == 1  # the 1 is still on the pad
    assert page.locator("[data-role=feedback-question]").text_content() == "Is it a 1?"
    assert state.get_attribute("data-state") == "sending"  # the 1's answer is still on its way
    page.get_by_test_id("feedback-right").click(force=True)  # held: no second post of the 1
    assert len(held) == 2 and len(posts) == 2
    held[1].continue_()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=feedback-done]').textContent"
        " === 'Thanks! Saved as a 1.'"
    )
    assert drawing.state()[2] == 0 and state.get_attribute("data-state") == "idle"
    assert len(posts) == 2
    drawing.assert_clean()


def test_practice_mode_asks_for_a_digit_and_saves_it_with_that_label(drawing: DrawingPage):
    page = drawing.page
    page.get_by_test_id("practice-toggle").click()
    prompt = page.get_by_test_id("practice-prompt")
    assert prompt.is_visible() and prompt.text_content().strip().startswith("Draw a")
    asked = int(prompt.get_attribute("data-digit"))
    drawing.draw_and_read(SEVEN)
    assert page.get_by_test_id("feedback-right").text_content().strip() == f"Save as {_a(asked)}"
    body = _answer(drawing, lambda: page.get_by_test_id("feedback-right").click())
    assert body["label"] == asked
    assert f"Saved as {_a(asked)}" in _done(drawing)
    page.wait_for_function(
        "(d) => document.querySelector('[data-testid=practice-prompt]').dataset.digit !== d",
        arg=str(asked),
    )  # the next digit is asked for (a shuffled round: never the same twice in a row)
    page.get_by_test_id("practice-toggle").click()
    assert not prompt.is_visible()
    drawing.assert_clean()


# ---- the admin's review grid -------------------------------------------------------------------

ADMIN_TOKEN = "e2e-feedback-admin-token-0123456789"


@pytest.fixture(scope="module")
def review_server(tmp_path_factory) -> Iterator[str]:
    """A server of its own with an admin token, holding a few labelled drawings."""
    home = tmp_path_factory.mktemp("review-home")
    (home / "mnist.npz").symlink_to(ROOT / "var" / "mnist.npz")  # the page's insights need it
    log = tmp_path_factory.mktemp("review-log") / "server.log"
    saved = os.environ.get("DIGITS_ADMIN_TOKEN")
    os.environ["DIGITS_ADMIN_TOKEN"] = ADMIN_TOKEN
    try:
        with running_server(home, log) as url:
            yield url
    finally:
        if saved is None:
            os.environ.pop("DIGITS_ADMIN_TOKEN", None)
        else:
            os.environ["DIGITS_ADMIN_TOKEN"] = saved


def _seven(marker: int) -> list[list[float]]:
    rows = [list(row) for row in SEVEN_ROWS]
    rows[1 + marker // 26][1 + marker % 26] = 1.0  # a distinct drawing each time
    return rows


def _open_admin(browser, url: str, **options):
    """The admin page in a new 1280×1000 context, before sign-in: (context, page, problems),
    where problems collects console errors and page errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(url + "/admin")
    page.wait_for_selector("html.js-ready")
    return context, page, problems


def test_an_admin_reviews_relabels_deletes_exports_and_imports(browser, review_server, tmp_path):
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx2.Client(base_url=review_server, timeout=10) as api:
        for i, (label, predicted) in enumerate([(7, 7), (7, 1), (4, 9), (2, 2)]):
            body = {"pixels": _seven(i), "label": label, "predicted": predicted}
            r = api.post("/api/feedback", json=body)
            assert r.status_code == 201
    context, page, problems = _open_admin(browser, review_server, accept_downloads=True)
    try:
        page.get_by_test_id("token").fill(ADMIN_TOKEN)
        page.get_by_test_id("unlock").click()
        grid = page.get_by_test_id("feedback-grid")
        items = grid.get_by_test_id("feedback-item")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=feedback-grid]').dataset.count === '4'"
        )
        # thumbnails, labels, predictions, and the wrong ones highlighted
        assert items.locator("img").count() == 4
        assert items.locator("img").first.get_attribute("src").startswith("data:image/png")
        wrong = grid.locator("[data-wrong=true]")
        assert wrong.count() == 2 and grid.locator(".is-wrong").count() == 2
        counts = page.get_by_test_id("feedback-counts").locator("[data-digit]")
        assert [counts.nth(d).get_attribute("data-count") for d in range(10)] == [
            "0",
            "0",
            "1",
            "0",
            "1",
            "0",
            "0",
            "2",
            "0",
            "0",
        ]
        assert page.locator("[data-testid=include-feedback]").is_enabled()

        # relabel the 7 read as 1: it is a 1 after all
        mistaken = grid.locator("[data-label='7'][data-wrong=true]")
        mistaken.get_by_test_id("feedback-relabel").select_option("1")
        page.wait_for_function(
            "() => document.querySelectorAll('[data-testid=feedback-grid] .is-wrong').length === 1"
        )
        listed = httpx2.get(f"{review_server}/api/admin/feedback?label=1", headers=auth).json()
        assert listed["total"] == 1 and listed["items"][0]["predicted"] == 1

        # By keyboard a closed select changes at every arrow key: only where it comes to rest
        # is saved (2 → 5 passes 3 and 4; each was saved, and each said "Relabelled").
        patches = []
        page.on("request", lambda r: r.method == "PATCH" and patches.append(r.post_data_json))
        two = grid.locator("[data-label='2']").get_by_test_id("feedback-relabel")
        two = page.get_by_label(two.get_attribute("aria-label"))  # its item's label will change
        two.focus()
        for _ in range(3):
            page.keyboard.press("ArrowDown")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=feedback-grid] [data-label=\"5\"]')"
        )
        page.wait_for_timeout(800)  # past the pause a later step would have been saved after
        assert patches == [{"label": 5}], patches
        assert two.input_value() == "5"
        assert page.locator("[data-role=review-message]").text_content().count("Relabelled") == 1
        two.select_option("2")  # and back, by mouse: saved once it settles
        page.wait_for_function(
            "() => !document.querySelector('[data-testid=feedback-grid] [data-label=\"5\"]')"
        )
        assert patches == [{"label": 5}, {"label": 2}], patches
        # Back to where it is stored while a change is on its way: the later choice is sent,
        # and it is what stays (it was dropped as "no change", and the 5 came back).
        held = []
        item_url = f"**/api/admin/feedback/{two.get_attribute('aria-label').split('#')[1]}"
        page.route(item_url, lambda route: held.append(route) if not held else route.continue_())
        two.select_option("5")
        _until_held(page, held)
        two.select_option("2")
        page.wait_for_timeout(800)  # settled, and queued behind the 5
        held[0].continue_()
        for _ in range(250):  # the 2 goes once the 5 is answered
            if len(patches) == 4:
                break
            page.wait_for_timeout(20)
        page.wait_for_function(  # and its answer is shown
            "(n) => document.querySelector(`[aria-label='${n}']`).closest('li')"
            ".dataset.label === '2'",
            arg=two.get_attribute("aria-label"),
        )
        page.wait_for_timeout(300)
        page.unroute(item_url)
        assert patches[-2:] == [{"label": 5}, {"label": 2}], patches
        assert two.input_value() == "2"

        # filter to the wrong ones (the line's "Relabelled" was of the last selection: gone),
        # then delete it
        assert page.locator("[data-role=review-message]").is_visible()
        page.get_by_test_id("feedback-filter-wrong").check()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=feedback-grid]').dataset.count === '1'"
        )
        assert not page.locator("[data-role=review-message]").is_visible()
        grid.get_by_test_id("feedback-delete").click()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=feedback-grid]').dataset.count === '0'"
        )
        page.get_by_test_id("feedback-filter-wrong").uncheck()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=feedback-grid]').dataset.count === '3'"
        )

        # export: a real download of the .npz
        with page.expect_download() as caught:
            page.get_by_test_id("feedback-export").click()
        path = tmp_path / caught.value.suggested_filename
        caught.value.save_as(path)
        assert path.suffix == ".npz"
        with np.load(path) as npz:
            assert npz["x"].shape == (3, 28, 28) and sorted(npz["y"].tolist()) == [1, 2, 7]

        # import it back: nothing new; after deleting one, importing restores it
        page.get_by_test_id("feedback-import").set_input_files(str(path))
        page.get_by_text("0 new, 3 already here").wait_for()
        first_id = items.first.get_attribute("data-id")
        assert (
            httpx2.delete(
                f"{review_server}/api/admin/feedback/{first_id}", headers=auth
            ).status_code
            == 204
        )
        page.get_by_test_id("feedback-import").set_input_files(str(path))
        page.get_by_text("1 new, 2 already here").wait_for()
        # a file that is no export is said so in plain words, and nothing is added
        photo = tmp_path / "photo.png"
        photo.write_bytes(b"\x89PNG\r\n\x1a\n not an export")
        page.get_by_test_id("feedback-import").set_input_files(str(photo))
        said = page.locator("[data-role=review-message][data-tone=error]")
        said.wait_for()
        assert said.inner_text() == (
            "photo.png was not imported: it is not a file that Export .npz made (the body is not"
            " an .npz file). Nothing was added."
        )
        assert httpx2.get(f"{review_server}/api/admin/feedback", headers=auth).json()["total"] == 3
        problems.remove(  # Chromium logs the refusal; the page said it
            "Failed to load resource: the server responded with a status of 422 (Unprocessable"
            " Entity)"
        )
        page.wait_for_function(
            "() => document.querySelector('[data-testid=feedback-grid]').dataset.count === '3'"
        )
        # the model list has the held-back column
        assert page.get_by_test_id("models").get_by_text("Held-back drawings").is_visible()
        assert not problems, problems
    finally:
        context.close()


def test_the_review_offers_not_a_digit_in_its_filter_counts_and_relabel(browser, review_server):
    """A drawing can be labelled "not a digit" (the API's label "not_a_digit"): the review
    grid counts those drawings, filters by them, and can relabel a drawing to and from it."""
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx2.Client(base_url=review_server, timeout=10) as api:
        mark = api.post(
            "/api/feedback", json={"pixels": _seven(20), "label": "not_a_digit", "predicted": 7}
        ).json()["id"]
        digit = api.post("/api/feedback", json={"pixels": _seven(21), "label": 4}).json()["id"]
        counts = api.get("/api/admin/feedback", headers=auth).json()["counts"]
    context, page, problems = _open_admin(browser, review_server)
    try:
        page.get_by_test_id("token").fill(ADMIN_TOKEN)
        page.get_by_test_id("unlock").click()
        none = page.get_by_test_id("feedback-counts").locator("[data-digit=not_a_digit]")
        none.wait_for()
        assert none.get_attribute("data-count") == str(counts["not_a_digit"]) == "1"
        assert none.get_attribute("aria-label") == "Not a digit: 1 drawing, 1 wrong"
        # the filter, by its select and by the count
        page.get_by_test_id("feedback-filter-label").select_option("not_a_digit")
        grid = page.get_by_test_id("feedback-grid")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=feedback-grid]').dataset.count === '1'"
        )
        item = grid.get_by_test_id("feedback-item")
        assert item.get_attribute("data-id") == str(mark)
        assert item.get_by_test_id("feedback-relabel").input_value() == "not_a_digit"
        assert item.locator("img").get_attribute("alt") == "a drawing labelled not a digit"
        page.get_by_test_id("feedback-filter-label").select_option("")
        # relabel the 4 as no digit, from the grid
        four = grid.locator(f"[data-id='{digit}']")
        four.wait_for()
        four.get_by_test_id("feedback-relabel").select_option("not_a_digit")
        page.get_by_text(f"Relabelled: drawing #{digit} is not a digit now.").wait_for()
        listed = httpx2.get(
            f"{review_server}/api/admin/feedback?label=not_a_digit", headers=auth
        ).json()
        assert sorted(i["id"] for i in listed["items"]) == sorted([mark, digit])
        page.wait_for_function(
            "() => document.querySelector('[data-digit=not_a_digit]').dataset.count === '2'"
        )
        assert not problems, problems
    finally:
        context.close()


def _post_sevens(url: str, label: int, markers: list[int]) -> list[int]:
    """Post one distinct seven per marker with ``label``; their ids."""
    with httpx2.Client(base_url=url, timeout=10) as api:
        posts = [{"pixels": _seven(m), "label": label} for m in markers]
        return [api.post("/api/feedback", json=body).json()["id"] for body in posts]


def _unlock(page) -> None:
    page.get_by_test_id("token").fill(ADMIN_TOKEN)
    page.get_by_test_id("unlock").click()


def _until_held(page, held: list) -> None:
    """Wait until a route handler has held a request in ``held``, at most 5 s."""
    for _ in range(250):
        if held:
            return
        page.wait_for_timeout(20)


def _delete_held(page, sample_id: int):
    """Click drawing ``sample_id``'s Delete and hold its request on the way: the held route."""
    held = []
    page.route(f"**/api/admin/feedback/{sample_id}", lambda route: held.append(route))
    page.locator(f"[data-id='{sample_id}'] [data-testid=feedback-delete]").click()
    _until_held(page, held)
    return held[0]


def test_the_review_keeps_the_keyboard_where_the_admin_works(browser, review_server):
    """Signing in, relabelling with a select's arrow keys, a refused relabel, a delete and a
    count: the focus stays on the control worked with (or the one that took its place), and
    what the page shows is what is stored."""
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx2.Client(base_url=review_server, timeout=10) as api:
        ids = [
            api.post("/api/feedback", json={"pixels": _seven(22 + i), "label": 2}).json()["id"]
            for i in range(6)
        ]
    arrowed, refused, deleted, back_and_forth, held_back, behind = ids
    context, page, problems = _open_admin(browser, review_server)
    focused = "() => document.activeElement.getAttribute('aria-label') || document.activeElement.id"
    try:
        page.get_by_test_id("token").fill(ADMIN_TOKEN)
        page.keyboard.press("Enter")
        page.get_by_test_id("feedback-review").wait_for()
        # The sign-in card is gone: the focus is at the top of the console, not on <body>.
        page.wait_for_function("() => document.activeElement.id === 'train-title'")
        grid = page.get_by_test_id("feedback-grid")

        # A select's arrow keys pass labels on the way; where they rest is what is stored.
        grid.locator(f"[data-id='{arrowed}'] select").focus()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        page.get_by_text(f"Relabelled: drawing #{arrowed} is a 4 now.").wait_for()
        stored = httpx2.get(f"{review_server}/api/admin/feedback?label=4", headers=auth).json()
        assert arrowed in [item["id"] for item in stored["items"]]
        assert page.evaluate(focused) == f"Label of drawing #{arrowed}"
        assert grid.locator(f"[data-id='{arrowed}']").get_attribute("data-label") == "4"

        # A relabel that does not arrive puts back the stored label, and says so.
        page.route(f"**/api/admin/feedback/{refused}", lambda route: route.abort())
        grid.locator(f"[data-id='{refused}'] select").select_option("5")
        page.get_by_text(f"Drawing #{refused} was not relabelled (it is still a 2)").wait_for()
        assert grid.locator(f"[data-id='{refused}'] select").input_value() == "2"
        said = page.get_by_test_id("feedback-review").inner_text()
        assert "was not relabelled (it is still a 2): can't reach the server" in said
        page.unroute(f"**/api/admin/feedback/{refused}")

        # Delete by keyboard: the focus goes to the Delete of the drawing now in its place.
        items = grid.get_by_test_id("feedback-item")
        at = [items.nth(i).get_attribute("data-id") for i in range(items.count())].index(
            str(deleted)
        )
        grid.locator(f"[data-id='{deleted}'] [data-testid=feedback-delete]").focus()
        page.keyboard.press("Enter")
        page.get_by_text(f"Drawing #{deleted} was deleted.").wait_for()
        page.wait_for_function(f"() => !document.querySelector(\"[data-id='{deleted}']\")")
        now_there = items.nth(min(at, items.count() - 1)).get_attribute("data-id")
        assert page.evaluate(focused) == f"Delete drawing #{now_there}"

        # Undo, from the message line: the drawing is back in its place, as it was, with the
        # focus on its Delete; then it is deleted again for the steps below.
        before = httpx2.get(f"{review_server}/api/admin/feedback", headers=auth).json()["total"]
        page.get_by_test_id("feedback-undo").focus()
        assert page.evaluate(focused) == f"Undo: bring back drawing #{deleted}"
        page.keyboard.press("Enter")
        page.get_by_text(f"Drawing #{deleted} is back.").wait_for()
        page.wait_for_function(f"() => document.activeElement.closest(\"[data-id='{deleted}']\")")
        assert page.evaluate(focused) == f"Delete drawing #{deleted}"
        assert [items.nth(i).get_attribute("data-id") for i in range(items.count())].index(
            str(deleted)
        ) == at
        back = httpx2.get(f"{review_server}/api/admin/feedback", headers=auth).json()
        assert back["total"] == before + 1
        assert [i["label"] for i in back["items"] if i["id"] == deleted] == [2]
        assert page.get_by_test_id("feedback-undo").count() == 0  # said once, then gone
        page.keyboard.press("Enter")
        page.get_by_text(f"Drawing #{deleted} was deleted.").wait_for()
        page.wait_for_function(f"() => !document.querySelector(\"[data-id='{deleted}']\")")

        # 2 → 3 → 4 → 3, each chosen and left to settle (so each is saved, in turn), the
        # first refused once all three are asked for (held until then): the last is what is
        # shown and stored.
        patches = []

        def first_held(route):
            patches.append(route)
            if len(patches) > 1:
                route.continue_()

        page.route(f"**/api/admin/feedback/{back_and_forth}", first_held)
        for label in ("3", "4", "3"):
            grid.locator(f"[data-id='{back_and_forth}'] select").select_option(label)
            page.wait_for_timeout(700)  # past the pause after which a choice is saved
        _until_held(page, patches)  # the first PATCH
        patches[0].abort()
        page.get_by_text(f"Relabelled: drawing #{back_and_forth} is a 3 now.").wait_for()
        assert [route.request.method for route in patches] == ["PATCH"] * 3
        item = grid.locator(f"[data-id='{back_and_forth}']")
        assert item.locator("select").input_value() == item.get_attribute("data-label") == "3"
        stored = httpx2.get(f"{review_server}/api/admin/feedback?label=3", headers=auth).json()
        assert back_and_forth in [i["id"] for i in stored["items"]]

        # A relabel asked for while a delete is on its way lands after the delete's rebuild,
        # and is shown on the rebuilt grid.
        held = _delete_held(page, held_back)
        grid.locator(f"[data-id='{behind}'] select").select_option("5")
        held.continue_()
        page.get_by_text(f"Relabelled: drawing #{behind} is a 5 now.").wait_for()
        item = grid.locator(f"[data-id='{behind}']")
        assert item.locator("select").input_value() == item.get_attribute("data-label") == "5"

        # A count filters, and keeps the focus through the rebuilt counts.
        page.get_by_test_id("feedback-counts").locator("[data-digit='2']").focus()
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=feedback-filter-label]').value === '2'"
        )
        page.wait_for_function(
            "() => document.activeElement.dataset.focus === 'count-2'"
            " && document.activeElement.getAttribute('aria-pressed') === 'true'"
        )
        assert not [p for p in problems if "Failed to load resource" not in p], problems
    finally:
        context.close()


def test_an_undo_keeps_a_later_deletes_undo_and_can_be_tried_again(browser, review_server):
    """Delete A, delete B (held on its way), Undo A (queued behind B): A comes back and B's Undo,
    offered meanwhile, stays. An Undo that does not arrive is offered again; the second try
    brings the drawing back. A delete whose list then fails to reload keeps its Undo."""
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    first, second = _post_sevens(review_server, 3, [40, 41])
    context, page, problems = _open_admin(browser, review_server)
    undo = page.get_by_test_id("feedback-undo")
    try:
        _unlock(page)
        grid = page.get_by_test_id("feedback-grid")
        grid.locator(f"[data-id='{first}'] [data-testid=feedback-delete]").click()
        page.get_by_text(f"Drawing #{first} was deleted.").wait_for()

        held = _delete_held(page, second)
        undo.click()  # the first one's, still on offer
        held.continue_()
        grid.locator(f"[data-id='{first}']").wait_for()  # back…
        page.get_by_text(f"Drawing #{second} was deleted.").wait_for()
        assert (
            undo.get_attribute("aria-label") == f"Undo: bring back drawing #{second}"
        )  # …and kept
        page.unroute(f"**/api/admin/feedback/{second}")

        page.route(f"**/api/admin/feedback/{second}/restore", lambda route: route.abort())
        undo.click()
        page.get_by_text(
            f"Drawing #{second} was not brought back: can't reach the server"
        ).wait_for()
        page.unroute(f"**/api/admin/feedback/{second}/restore")
        assert page.evaluate("() => document.activeElement.dataset.testid") == "feedback-undo"
        page.keyboard.press("Enter")  # try again
        page.get_by_text(f"Drawing #{second} is back.").wait_for()
        grid.locator(f"[data-id='{second}']").wait_for()
        listed = httpx2.get(f"{review_server}/api/admin/feedback?label=3", headers=auth).json()
        assert {first, second} <= {item["id"] for item in listed["items"]}

        # A delete whose list cannot be reloaded after it still offers its Undo.
        page.route("**/api/admin/feedback?*", lambda route: route.abort())
        grid.locator(f"[data-id='{first}'] [data-testid=feedback-delete]").click()
        page.get_by_text(f"Drawing #{first} was deleted, but the list could not be").wait_for()
        assert undo.get_attribute("aria-label") == f"Undo: bring back drawing #{first}"
        assert not [p for p in problems if "Failed to load resource" not in p], problems
    finally:
        context.close()


def test_deletes_in_a_row_are_undone_together_by_ctrl_z(browser, review_server):
    """Three deletes in a row are said in one line with one Undo, which Ctrl+Z presses from
    anywhere but a text field. A restore that does not arrive leaves the rest offered again, and
    says which came back. An Undo whose drawing is back already says so."""
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ids = _post_sevens(review_server, 6, [45, 46, 47])
    context, page, problems = _open_admin(browser, review_server)
    undo = page.get_by_test_id("feedback-undo")
    try:
        _unlock(page)
        grid = page.get_by_test_id("feedback-grid")
        for sample in ids:
            grid.locator(f"[data-id='{sample}'] [data-testid=feedback-delete]").click()
            page.wait_for_function(f"() => !document.querySelector(\"[data-id='{sample}']\")")
        a, b, c = ids
        said = page.locator("[data-role=review-message]")
        assert said.inner_text() == f"3 drawings were deleted: #{a}, #{b} and #{c}. Undo"
        assert undo.count() == 1
        page.locator("[data-role=train-form] [name=epochs]").focus()  # a text field's own keys
        page.keyboard.press("Control+z")
        page.wait_for_timeout(300)
        assert said.inner_text().startswith("3 drawings were deleted")
        # The second one's restore does not arrive: the first is said to be back, the rest
        # offered again.
        page.route(f"**/api/admin/feedback/{b}/restore", lambda route: route.abort())
        page.get_by_test_id("feedback-filter-wrong").focus()  # a checkbox: no text field
        page.keyboard.press("Control+z")
        page.get_by_text(
            f"Drawing #{a} is back. Drawings #{b} and #{c} were not brought back: can't reach"
        ).wait_for()
        assert undo.get_attribute("aria-label") == f"Undo: bring back drawings #{b} and #{c}"
        page.unroute(f"**/api/admin/feedback/{b}/restore")
        page.get_by_test_id("feedback-filter-label").focus()  # a select: no text field
        page.keyboard.press("Control+z")
        page.get_by_text(f"2 drawings are back: #{b} and #{c}.").wait_for()
        for sample in ids:
            grid.locator(f"[data-id='{sample}']").wait_for()
        focused = page.evaluate("() => document.activeElement.dataset.testid")
        assert focused == "feedback-filter-label"  # where the admin was, not moved

        # Another admin brings a drawing back first: this page's Undo says so.
        grid.locator(f"[data-id='{a}'] [data-testid=feedback-delete]").click()
        undo.wait_for()
        restored = httpx2.post(f"{review_server}/api/admin/feedback/{a}/restore", headers=auth)
        assert restored.status_code == 200
        undo.click()
        page.get_by_text(
            f"Drawing #{a} cannot be brought back: back already, or deleted over ten minutes ago."
        ).wait_for()
        grid.locator(f"[data-id='{a}']").wait_for()  # the list, reloaded, shows it
        assert not [p for p in problems if "Failed to load resource" not in p], problems
    finally:
        context.close()
