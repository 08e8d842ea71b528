"""The prediction client (static/js/predict.js) in the browser, with a fetch the test controls:
stale answers are dropped, live requests are throttled, failures become calm callbacks."""

from __future__ import annotations

import pytest
from e2e_support import DrawingPage

pytestmark = pytest.mark.e2e

# Shared by the scenarios below: a client whose fetch answers only when told to.
SETUP = """
const { PredictionClient } = await import('/static/js/predict.js');
const pending = [];
const log = [];
const answer = (i, body, status = 200) => pending[i].resolve(
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const client = new PredictionClient({
  fetch: (url, init) =>
    new Promise((resolve, reject) => pending.push({ url, init, resolve, reject })),
  getPayload: () => ({ image: 'data:image/png;base64,AAAA', strokes: 1 }),
  onResult: (data, outcome) => log.push(['result', data.tag, outcome.final]),
  onError: (error, outcome) => log.push(['error', error.kind, error.code ?? '', outcome.final]),
});
"""


def run(drawing: DrawingPage, scenario: str):
    return drawing.page.evaluate(f"async () => {{ {SETUP} {scenario} }}")


def test_a_stale_answer_never_replaces_a_newer_one(drawing: DrawingPage):
    log, sent, body = run(
        drawing,
        """
        client.live();   // request 0: live, goes out at once
        client.final();  // request 1: final, goes out at once
        answer(1, { tag: 'final' }); await sleep(30);
        answer(0, { tag: 'live' }); await sleep(30);  // older than what is shown: dropped
        client.live(); await sleep(150);             // request 2, after the throttle interval
        client.reset();                              // e.g. Clear
        answer(2, { tag: 'after-reset' }); await sleep(30);
        return [log, pending.length, JSON.parse(pending[0].init.body)];
        """,
    )
    assert log == [["result", "final", True]]
    assert sent == 3
    assert body == {"image": "data:image/png;base64,AAAA"}


def test_live_requests_are_throttled_and_coalesced(drawing: DrawingPage):
    sent, total, applied = run(
        drawing,
        """
        // The server answers at once; the drawing changes every 5 ms for one second.
        const answerAll = () => pending.forEach((p, i) => {
          if (!p.done) { p.done = true; answer(i, { tag: i }); }
        });
        const started = performance.now();
        while (performance.now() - started < 1000) {
          client.live();
          answerAll();
          await sleep(5);
        }
        const sent = pending.length;  // a request the last live() scheduled may still go out
        await sleep(150);
        answerAll();
        await sleep(30);
        return [sent, pending.length, log.length];
        """,
    )
    assert 8 <= sent <= 11, f"{sent} live requests in one second"
    assert applied == total  # every answer is newer than the last, so each one is shown


def test_failures_become_error_callbacks_not_exceptions(drawing: DrawingPage):
    log = run(
        drawing,
        """
        client.final();
        pending[0].reject(new TypeError('Failed to fetch')); await sleep(30);
        client.final();
        answer(1, { error: { code: 'blank_image', message: 'no ink' } }, 422); await sleep(30);
        client.final();
        pending[2].resolve(new Response('not json', { status: 502 })); await sleep(30);
        await sleep(30);
        return log;
        """,
    )
    assert log == [
        ["error", "network", "", True],
        ["error", "http", "blank_image", True],
        ["error", "http", "", True],
    ]
    drawing.assert_clean()
