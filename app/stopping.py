"""Knowing that the server has been told to stop, for the streams that would hold it open.

On SIGTERM or SIGINT uvicorn stops accepting connections, then waits for the open ones to
finish; after `digits serve`'s graceful timeout it cancels them, with a traceback in the log. A
job's progress stream stays open as long as the job runs, so it asks ``Stopping.now`` between
polls and ends at once: the admin page's EventSource resumes it from its last event id, on this
host once it is back or on another.

``install()`` puts a handler in front of the server's own, which it then calls. Only the main
thread can set signal handlers, and only a server that set one (a callable) is chained: under a
test client, which runs the app in another thread, nothing is installed and ``now`` stays False.
"""

from __future__ import annotations

import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopping:
    def __init__(self) -> None:
        self.now = False

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for number in SIGNALS:
            server_handler = signal.getsignal(number)
            if callable(server_handler):
                signal.signal(number, self._chained(server_handler))

    def _chained(self, server_handler):
        def handler(number, frame):
            self.now = True
            server_handler(number, frame)

        return handler
