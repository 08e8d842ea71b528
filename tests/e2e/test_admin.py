"""The admin page in real Chromium: sign in with the token, start a small job, watch the curve
grow and the status reach succeeded, then find the new model active in the list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import ROOT, environment, running_server

from model.train import TrainConfig

pytestmark = pytest.mark.e2e

TOKEN = "e2e-admin-token-0123456789"


@pytest.fixture(scope="module")
def admin_url(tmp_path_factory) -> Iterator[str]:
    """A server of its own: an admin token, MNIST in its data home, and a gate that lets the
    small test network through (the page's job must succeed)."""
    home = tmp_path_factory.mktemp("admin-home")
    (home / "mnist.npz").symlink_to(ROOT / "var" / "mnist.npz")
    log = tmp_path_factory.mktemp("admin-log") / "server.log"
    with (
        environment(DIGITS_ADMIN_TOKEN=TOKEN, DIGITS_GATE_TOLERANCE_PP="100"),
        running_server(home, log) as url,
    ):
        yield url
    assert TOKEN not in Path(log).read_text(errors="replace")


def test_sign_in_train_watch_the_curve_and_see_the_new_model(browser, admin_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(admin_url + "/admin")
        page.wait_for_selector("html.js-ready")
        assert page.get_by_test_id("retrain").is_hidden()  # nothing before the token

        page.get_by_test_id("token").fill("not-the-token-at-all")
        page.get_by_test_id("unlock").click()
        page.get_by_text("The token was not accepted").wait_for()
        problems.clear()  # the browser reports that expected 401 on the console

        page.get_by_test_id("token").fill(TOKEN)
        page.get_by_test_id("unlock").click()
        models = page.get_by_test_id("models")
        models.locator("tr.is-active").wait_for()
        first = models.locator("tr.is-active").get_attribute("data-version")
        assert page.evaluate("sessionStorage.getItem('digits.adminToken')") == TOKEN
        assert page.evaluate("localStorage.length") == 0

        form = page.locator("[data-role=train-form]")
        defaults = TrainConfig()  # the form starts with the CLI's defaults
        assert form.locator("[name=epochs]").input_value() == str(defaults.epochs)
        hidden = ", ".join(map(str, defaults.hidden))
        assert form.locator("[name=hidden_layers]").input_value() == hidden
        form.locator("[name=hidden_layers]").fill("32")
        form.locator("[name=epochs]").fill("3")
        form.locator("[name=max_train_samples]").fill("6000")
        form.locator("[name=augment]").uncheck()
        page.get_by_test_id("retrain").click()

        chart = page.get_by_test_id("loss-chart")
        page.wait_for_function(
            "() => Number(document.querySelector('[data-testid=loss-chart]').dataset.points) > 0"
        )
        early = int(chart.get_attribute("data-points"))
        status = page.get_by_test_id("job-status")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=job-status]').dataset.status"
            " === 'succeeded'",
            timeout=90_000,
        )
        late = int(chart.get_attribute("data-points"))
        assert late > early, (early, late)  # the curve grew while the job ran
        assert status.text_content().strip() == "succeeded"
        assert page.locator("[data-role=progress]").evaluate("p => p.value") == 1

        # The new model is listed as active, with its parent, and the header follows it.
        page.wait_for_function(
            "(first) => { const r = document.querySelector('[data-testid=models] tr.is-active');"
            " return r && r.dataset.version !== first; }",
            arg=first,
        )
        new = models.locator("tr.is-active").get_attribute("data-version")
        assert models.locator(f"tr[data-version='{first}'] [data-action=activate]").is_visible()
        assert (
            page.get_by_test_id("jobs").locator("tbody tr").first.text_content().count("succeeded")
        )
        page.get_by_test_id("mistakes").locator("li canvas").first.wait_for()
        assert page.get_by_test_id("confusion").locator("tbody tr").count() == 10
        # ten digit columns and a last one for the test digits the model flagged "not a digit"
        heads = page.get_by_test_id("confusion").locator("thead th").all_text_contents()
        assert heads[1:] == [*map(str, range(10)), "✕"]
        page.get_by_test_id("model-version").filter(has_text=new).wait_for()

        assert not problems, problems
        assert TOKEN not in " ".join(requests)  # never in a URL
    finally:
        context.close()


@pytest.fixture(scope="module")
def strict_admin_url(tmp_path_factory) -> Iterator[str]:
    """A server that locks a client out after two wrong tokens."""
    home = tmp_path_factory.mktemp("strict-home")
    log = tmp_path_factory.mktemp("strict-log") / "server.log"
    with (
        environment(DIGITS_ADMIN_TOKEN=TOKEN, DIGITS_ADMIN_FAILURE_LIMIT="2"),
        running_server(home, log) as url,
    ):
        yield url


def test_repeated_wrong_tokens_lock_the_page_out_and_say_how_long(browser, strict_admin_url):
    page = browser.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(strict_admin_url + "/admin")
        page.wait_for_selector("html.js-ready")
        error = page.locator("[data-role=signin-error]")
        for attempt in range(2):
            page.get_by_test_id("token").fill(f"wrong-token-number-{attempt}")
            page.get_by_test_id("unlock").click()
            page.get_by_text("The token was not accepted").wait_for()
            page.evaluate("document.querySelector('[data-role=signin-error]').hidden = true")

        page.get_by_test_id("token").fill(TOKEN)  # even the right one, while locked out
        page.get_by_test_id("unlock").click()
        page.get_by_text("Too many wrong admin tokens").wait_for()
        assert error.is_visible()
        assert "try again in" in error.inner_text()
        assert page.get_by_test_id("retrain").is_hidden()
        assert page.evaluate("sessionStorage.getItem('digits.adminToken')") is None
    finally:
        page.close()
