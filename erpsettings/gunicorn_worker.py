"""gunicorn's threaded worker, without the one step that blocks its main thread.

Since gunicorn 26 the ``gthread`` worker closes a finished connection *gracefully*
(RFC 9112, 9.6): it half-closes the socket, then waits for the client to close its side, up
to 2 s. It does that on the worker's main thread, the one that accepts and dispatches every
request, so while it waits the worker serves nobody. A client that reads its answer and
keeps the socket open (or a slow network: one round trip per closed connection) stalls the
whole worker; five such clients held a ``/healthz`` of another client for 8.0 s. This worker
does the same graceful close on a thread of its own (``gunicorn.conf.py`` names it).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

from gunicorn.workers import gthread

CLOSING_THREADS = 4


class ThreadWorker(gthread.ThreadWorker):  # type: ignore[misc]
    def init_process(self) -> None:
        # Before the parent's, which runs the worker's loop and does not return.
        self.closer = ThreadPoolExecutor(CLOSING_THREADS, thread_name_prefix="close")
        super().init_process()

    def finish_request(self, conn: gthread.TConn, fs: Future[Any]) -> None:
        # The parent closes through ``conn.close(graceful=True)``; wrap it once per connection.
        if "close" not in vars(conn):
            conn.close = partial(self._close, conn.close)
        super().finish_request(conn, fs)

    def _close(self, close: Callable[..., None], graceful: bool = False) -> None:
        if graceful:
            self.closer.submit(close, graceful=True)
        else:
            close()
