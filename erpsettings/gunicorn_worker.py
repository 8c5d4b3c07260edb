"""gunicorn's threaded worker, with keep-alive that never queues a request behind busy threads
and without the one step that blocks its main thread (``gunicorn.conf.py`` names it).

**No queue behind busy threads.** A stock ``gthread`` worker accepts connections up to
``worker_connections`` whatever its threads are doing, and a request that arrives on a busy
worker waits for one of them: behind tests that wait on a dead ERP, for their timeout. So
this worker counts the requests it has handed to its threads, and while all of them are busy
it accepts no new connection (the other workers take them) and closes its idle kept-alive
connections (their clients reconnect, and reach a worker with a free thread). Keep-alive then
costs nothing in that respect, and it saves every client a connection per request.

**No wait on the main thread.** Since gunicorn 26 the worker closes a finished connection
*gracefully* (RFC 9112, 9.6): it half-closes the socket, then waits for the client to close
its side, up to 2 s. It does that on the main thread, the one that accepts and dispatches
every request, so meanwhile the worker serves nobody: five clients that read their answer
and kept the socket open held another client's ``/healthz`` for 8.0 s. This worker does that
wait on closing threads of its own.

Both rest on ``gthread.ThreadWorker``'s methods (``enqueue_req``, ``finish_request``,
``set_accept_enabled``, ``murder_keepalived``), all called on the main thread; the tests in
``tests/connections/test_deployment.py`` run them on the installed gunicorn.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

from gunicorn.workers import gthread

CLOSING_THREADS = 4


class ThreadWorker(gthread.ThreadWorker):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.busy = 0  # requests handed to the threads and not finished

    def init_process(self) -> None:
        # Before the parent's, which runs the worker's loop and does not return.
        self.closer = ThreadPoolExecutor(CLOSING_THREADS, thread_name_prefix="close")
        super().init_process()

    @property
    def saturated(self) -> bool:
        return self.busy >= int(self.cfg.threads)

    def enqueue_req(self, conn: gthread.TConn) -> None:
        self.busy += 1
        if self.saturated:
            self.set_accept_enabled(False)
        super().enqueue_req(conn)

    def finish_request(self, conn: gthread.TConn, fs: Future[Any]) -> None:
        self.busy -= 1
        # The parent closes through ``conn.close(graceful=True)``; wrap it once per connection.
        if "close" not in vars(conn):
            conn.close = partial(self._close, conn.close)
        super().finish_request(conn, fs)

    def set_accept_enabled(self, enabled: bool) -> None:
        # The loop asks for accepting whenever it has room for connections; not while busy.
        super().set_accept_enabled(enabled and not self.saturated)

    def murder_keepalived(self, force: bool = False) -> None:
        # Run by the loop after each round of events: idle connections go while all are busy.
        super().murder_keepalived(force=force or self.saturated)

    def _close(self, close: Callable[..., None], graceful: bool = False) -> None:
        if graceful:
            self.closer.submit(close, graceful=True)
        else:
            close()
