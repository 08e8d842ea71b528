"""The server told to stop: a job's progress stream ends at once instead of holding the server
open until the job ends (uvicorn waited 38 s, or cancelled it with a traceback)."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import types

from app.routes.admin_jobs import _event_stream
from app.stopping import Stopping


def test_the_servers_own_handler_still_runs_after_ours():
    seen = []
    before = signal.signal(signal.SIGTERM, lambda number, frame: seen.append(number))
    try:
        stopping = Stopping()
        stopping.install()
        assert not stopping.now
        os.kill(os.getpid(), signal.SIGTERM)
        assert stopping.now and seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, before)


def test_nothing_is_installed_off_the_main_thread_or_without_a_server_handler():
    before = signal.getsignal(signal.SIGTERM)
    thread = threading.Thread(target=Stopping().install)
    thread.start()
    thread.join()
    assert signal.getsignal(signal.SIGTERM) is before
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        Stopping().install()  # the default action (end the process) is left to the system
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, before)


def test_a_job_stream_ends_when_the_server_stops():
    reads = []

    def read_events(job_id, offset):
        reads.append(offset)
        return [], offset  # a running job with nothing new: the stream would wait on

    jobs = types.SimpleNamespace(store=types.SimpleNamespace(read_events=read_events))
    stopping = Stopping()

    async def follow() -> list[str]:
        stream = _event_stream(jobs, "j-1", 0, 3600.0, stopping)
        said = [await anext(stream)]  # "retry: …"
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, setattr, stopping, "now", True)
        async for part in stream:
            said.append(part)
        return said

    said = asyncio.run(asyncio.wait_for(follow(), timeout=5))
    assert said[0].startswith("retry:") and len(reads) >= 1
    assert not any("status" in part for part in said)  # no final status: the job goes on
