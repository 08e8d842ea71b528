"""The progress stream of a job: resuming with Last-Event-ID, at and past its end."""

from __future__ import annotations

import json

import pytest
from admin_support import AUTH, TOKEN

from app.jobs import JobStore

JOB = "j-20250101-000000-abcdef"
EVENTS = [
    {"kind": "status", "status": "queued"},
    {"kind": "status", "status": "running"},
    {"kind": "epoch", "epoch": 1, "epochs": 1, "loss": 0.5},
    {"kind": "status", "status": "succeeded", "reason": "promoted v", "result": None},
]


@pytest.fixture
def admin(make_client, tmp_path):
    store = JobStore(tmp_path)
    store.dir.mkdir(parents=True)
    store.write({"id": JOB, "status": "succeeded", "history": [], "request": {}, "config": {}})
    for event in EVENTS:
        store.append_event(JOB, event)
    # Short, so that a stream that would not end is cut (with a timeout event) within the test.
    return make_client(admin_token=TOKEN, events_max_seconds=3)


def _stream(client, last_event_id: str | None) -> tuple[list[tuple[int, dict]], str]:
    """(seq, event) of every event sent, and the whole text of the stream."""
    headers = {**AUTH, **({"Last-Event-ID": last_event_id} if last_event_id else {})}
    with client.stream("GET", f"/api/admin/jobs/{JOB}/events", headers=headers) as stream:
        text = "".join(stream.iter_text())
    events, seq = [], None
    for line in text.splitlines():
        if line.startswith("id: "):
            seq = int(line[4:])
        elif line.startswith("data: "):
            events.append((seq, json.loads(line[6:])))
    return events, text


def test_a_finished_job_streams_everything_and_ends(admin):
    events, text = _stream(admin, None)
    assert [e for _, e in events] == EVENTS and [s for s, _ in events] == [1, 2, 3, 4]
    assert "event: timeout" not in text  # it ended on the final status, not on the time limit


@pytest.mark.parametrize(("last", "expected"), [("2", [3, 4]), ("3", [4]), ("4", [4]), ("99", [4])])
def test_resuming_at_or_past_the_end_gets_the_final_status_and_ends(admin, last, expected):
    """Resumed at or past its last event, the stream stayed open with heartbeats for an hour."""
    events, text = _stream(admin, last)
    assert [s for s, _ in events] == expected
    assert events[-1] == (4, EVENTS[-1])
    assert "event: timeout" not in text


def test_a_finished_job_whose_stored_stream_has_no_final_status_still_ends(admin, tmp_path):
    """Its record says how it ended (the admin page replays a finished job's stream): the stream
    sends what is stored, then that final status, instead of staying open."""
    store = JobStore(tmp_path)
    store.events_path(JOB).write_text("".join(json.dumps(e) + "\n" for e in EVENTS[:3]))
    store.write({**store.read(JOB), "reason": "promoted v", "notes": ["a note"]})
    events, text = _stream(admin, None)
    assert [s for s, _ in events] == [1, 2, 3, 4]
    assert events[-1][1] == {
        "kind": "status",
        "status": "succeeded",
        "reason": "promoted v",
        "result": None,
        "notes": ["a note"],
    }
    assert "event: timeout" not in text  # ended within the 3 s limit, not cut by it
