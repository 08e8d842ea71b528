"""The admin page's API client (static/js/admin/api.js) in the browser, with a fetch the test
controls: the token on every request, one shape for every failure, and the event-stream reader
(events cut anywhere, resumed after a drop with Last-Event-ID)."""

from __future__ import annotations

import pytest
from e2e_support import DrawingPage

pytestmark = pytest.mark.e2e

# Shared by the scenarios below: a client whose fetch records each request and answers with the
# next reply queued in `replies`.
SETUP = """
const { createApi, createEventParser, ApiError } = await import('/static/js/admin/api.js');
const calls = [];
const replies = [];
const signedOut = [];
let token = 'token-one';
const api = createApi({
  getToken: () => token,
  onSignedOut: (message) => signedOut.push(message),
  retryDelay: 10,
  fetch: async (url, init) => {
    calls.push({ url, method: init.method, headers: { ...init.headers }, body: init.body,
                 cache: init.cache });
    const reply = replies.shift();
    if (!reply) throw new TypeError('Failed to fetch');
    return reply();
  },
});
const json = (body, status = 200) => () => new Response(JSON.stringify(body),
  { status, headers: { 'Content-Type': 'application/json' } });
const stream = (...chunks) => () => new Response(new ReadableStream({
  start(controller) {
    for (const c of chunks) {
      controller.enqueue(typeof c === 'string' ? new TextEncoder().encode(c) : c);
    }
    controller.close();
  },
}), { headers: { 'Content-Type': 'text/event-stream' } });
const failure = async (promise) => {
  try { await promise; return 'no error'; } catch (e) {
    return { isApiError: e instanceof ApiError, status: e.status, code: e.code,
             message: e.message, details: e.details, signedOut: e.signedOut };
  }
};
"""


def run(drawing: DrawingPage, scenario: str):
    return drawing.page.evaluate(f"async () => {{ {SETUP} {scenario} }}")


def test_every_request_carries_the_token_of_the_moment(drawing: DrawingPage):
    calls = run(
        drawing,
        """
        replies.push(json({ models: [] }), json({ job_id: 'j-1' }, 202), json({ added: 1 }),
                     stream('event: status\\ndata: {"status":"succeeded"}\\n\\n'));
        await api.json('/api/admin/models');
        await api.json('/api/admin/retrain', { method: 'POST', json: { epochs: 3 } });
        token = 'token-two';  // signed in again: the next requests use the new token
        await api.json('/api/admin/feedback/import', {
          method: 'POST', body: new Blob(['npz']), type: 'application/octet-stream' });
        await api.events('/api/admin/jobs/j-1/events', { onEvent: () => {}, isLast: () => true });
        return calls.map((c) => ({ ...c, body: String(c.body) }));
        """,
    )
    assert [c["headers"]["Authorization"] for c in calls] == [
        "Bearer token-one",
        "Bearer token-one",
        "Bearer token-two",
        "Bearer token-two",
    ]
    assert all("token" not in c["url"] for c in calls)  # never in a URL
    assert all(c["cache"] == "no-store" for c in calls)
    assert calls[1]["method"] == "POST" and calls[1]["body"] == '{"epochs":3}'
    assert calls[1]["headers"]["Content-Type"] == "application/json"
    assert calls[2]["headers"]["Content-Type"] == "application/octet-stream"
    assert calls[3]["headers"]["Accept"] == "text/event-stream"
    assert calls[3]["headers"]["Last-Event-ID"] == "0"
    drawing.assert_clean()


def test_every_failure_has_one_shape_and_a_refused_token_signs_out(drawing: DrawingPage):
    results, signed_out = run(
        drawing,
        """
        const invalid = { error: { code: 'validation_error',
                                   message: 'epochs: must be between 1 and 100, got 0',
                                   details: [{ loc: ['body', 'epochs'] }] } };
        const locked = { error: { code: 'admin_rate_limited',
                                  message: 'too many wrong admin tokens; try again in 42 s' } };
        replies.push(
          json(invalid, 422),
          () => new Response('<html>bad</html>', { status: 502, statusText: 'Bad Gateway' }),
          () => { throw new TypeError('Failed to fetch'); },
          json({ error: { code: 'unauthorized', message: 'an admin token is required' } }, 401),
          json(locked, 429),
          () => new Response(null, { status: 204 }),
        );
        const results = [];
        for (let i = 0; i < 5; i++) results.push(await failure(api.json('/api/admin/models')));
        results.push(await api.json('/api/admin/models/v1', { method: 'DELETE' }));
        return [results, signedOut];
        """,
    )
    invalid, gateway, network, refused, locked, no_content = results
    assert invalid == {
        "isApiError": True,
        "status": 422,
        "code": "validation_error",
        "message": "Epochs: must be between 1 and 100, got 0.",  # the server's, as a sentence
        "details": [{"loc": ["body", "epochs"]}],
        "signedOut": False,
    }
    assert gateway == {
        "isApiError": True,
        "status": 502,
        "code": "",
        "message": "The server answered 502 Bad Gateway.",
        "details": None,
        "signedOut": False,
    }
    assert (network["status"], network["code"], network["message"]) == (
        0,
        "network",
        "Can't reach the server. Check the connection and try again.",  # not the browser's words
    )
    assert refused["status"] == 401 and refused["signedOut"] is True
    assert refused["message"] == "The token was not accepted. Enter the admin token again."
    assert locked["status"] == 429 and locked["code"] == "admin_rate_limited"
    assert locked["message"] == "Too many wrong admin tokens; try again in 42 s."
    assert signed_out == [refused["message"], locked["message"]]  # once each, nothing else
    assert no_content is None
    drawing.assert_clean()


# Every kind of line the server sends: a retry hint, a comment, ids, named events, an event
# whose data spans two lines, CRLF line ends, and the stream's time-out marker.
EVENTS_TEXT = (
    "retry: 2000\r\n\r\n: keep-alive\n\n"
    'id: 1\nevent: status\ndata: {"status":"running"}\n\n'
    'id: 2\r\nevent: epoch\r\ndata: {"loss":\r\ndata: 0.5}\r\n\r\n'
    "event: timeout\ndata: {}\n\n"
)
EVENTS = [
    {"type": "status", "data": '{"status":"running"}', "id": "1"},
    {"type": "epoch", "data": '{"loss":\n0.5}', "id": "2"},
    {"type": "timeout", "data": "{}", "id": "2"},
]


def test_the_event_parser_gives_the_same_events_however_the_text_is_cut(drawing: DrawingPage):
    whole, every_cut, by_char = drawing.page.evaluate(
        """async (text) => {
          const { createEventParser } = await import('/static/js/admin/api.js');
          const parse = (chunks) => {
            const parser = createEventParser();
            return chunks.flatMap((c) => parser.push(c));
          };
          const cuts = [];
          for (let i = 1; i < text.length; i++) cuts.push(parse([text.slice(0, i), text.slice(i)]));
          return [parse([text]), cuts, parse([...text])];
        }""",
        EVENTS_TEXT,
    )
    assert whole == EVENTS
    assert all(events == EVENTS for events in every_cut)
    assert by_char == EVENTS


def test_a_dropped_stream_resumes_after_the_last_event_it_delivered(drawing: DrawingPage):
    outcome, seen, headers, signed_out = run(
        drawing,
        """
        // The first connection delivers events 1 and 2, cutting the bytes of "…" in two, then
        // drops; the second must ask to resume after event 2 and gets the final status.
        const bytes = new TextEncoder().encode(
          'id: 1\\nevent: status\\ndata: {"status":"running","reason":"…"}\\n\\n' +
          'id: 2\\nevent: epoch\\ndata: {"epoch":1}\\n\\n');
        const cut = bytes.indexOf(0xe2) + 1;
        replies.push(
          stream(bytes.slice(0, cut), bytes.slice(cut)),
          () => new Response('', { status: 503 }),  // a failed reconnection is tried again
          stream('id: 3\\nevent: status\\ndata: {"status":"succeeded"}\\n\\n',
                 'id: 4\\nevent: status\\ndata: {"status":"never read"}\\n\\n'),
        );
        const seen = [];
        const outcome = await api.events('/api/admin/jobs/j-1/events', {
          onEvent: (e) => seen.push([e.id, e.type, e.data]),
          isLast: (e) => e.type === 'status' && e.data.status === 'succeeded',
        });
        return [outcome, seen, calls.map((c) => c.headers['Last-Event-ID']), signedOut];
        """,
    )
    assert outcome == "done"
    assert seen == [
        ["1", "status", {"status": "running", "reason": "…"}],
        ["2", "epoch", {"epoch": 1}],
        ["3", "status", {"status": "succeeded"}],
    ]
    assert headers == ["0", "2", "2"]
    assert signed_out == []
    drawing.assert_clean()


def test_a_stream_stops_when_the_token_is_refused_or_when_aborted(drawing: DrawingPage):
    refused, aborted, requests, signed_out = run(
        drawing,
        """
        replies.push(json({ error: { code: 'unauthorized', message: 'no' } }, 401));
        const refused = await api.events('/api/admin/jobs/j-1/events', { onEvent: () => {} });
        const controller = new AbortController();
        const aborted = () => new DOMException('aborted', 'AbortError');
        replies.push(() => new Promise((resolve, reject) =>
          controller.signal.addEventListener('abort', () => reject(aborted()))));
        const following = api.events('/api/admin/jobs/j-1/events',
                                     { onEvent: () => {}, signal: controller.signal });
        controller.abort();
        return [refused, await following, calls.length, signedOut.length];
        """,
    )
    assert (refused, aborted) == ("signed-out", "aborted")
    assert requests == 2 and signed_out == 1
    drawing.assert_clean()
