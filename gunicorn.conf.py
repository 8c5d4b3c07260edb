"""Gunicorn as deployed: ``gunicorn -c gunicorn.conf.py erpsettings.wsgi``.

The worker model was chosen by measurement (``make bench``, see README and
docs/benchmarks.md): a *Test ERP connection* waits on the ERP for up to its timeout, so
with sync workers two administrators testing a dead ERP stall every page. Threaded
workers keep serving pages while some threads wait on ERPs.

Every value can be overridden on the command line (``--workers 4``) or with
``GUNICORN_CMD_ARGS``; the two sizes also with ``WEB_CONCURRENCY`` and ``GUNICORN_THREADS``.
"""

from __future__ import annotations

import gc
import os
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# gthread: each worker process serves ``threads`` requests at once; a request waiting on a
# dead ERP holds one thread, not the whole worker. The repository's subclass of it
# (erpsettings/gunicorn_worker.py) accepts no connection while all its threads are busy and
# then closes its idle kept-alive ones, so a page never waits behind tests in one worker
# while another has threads free; and it closes connections off the worker's main thread.
worker_class = "erpsettings.gunicorn_worker.ThreadWorker"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# Keep-alive saves a client (or a proxy that keeps upstream connections) a new connection
# per request. Behind such a proxy, set it above the proxy's idle timeout
# (``GUNICORN_CMD_ARGS="--keep-alive 75"``); 0 turns it off.
keepalive = 5
worker_connections = 4 * threads  # the requests in hand plus up to 3x as many idle ones

# Longer than the longest connector timeout (60 s per ERP call, connectors.support): a test
# against a hanging ERP ends in its own "no answer" message, never in a killed worker and an
# HTTP 500. (A gthread worker's heartbeat does not stop while a thread waits; this also
# covers ``--worker-class sync``.)
timeout = 130
graceful_timeout = 70  # a restart lets running tests finish

# Memory (a worker's peak resident memory, VmHWM, measured by ``make bench``): the master
# imports the application once and forks the workers from it, so they start from its pages
# (shared copy-on-write) instead of each importing everything itself; this lowered a
# worker's peak by about 7 MiB. Nothing opens a database connection or starts a thread at
# import, so nothing is shared that must not be. A code change then needs a restart of the
# master (``systemctl restart``), not a HUP.
preload_app = True
# A guard against slow growth (fragmentation, caches): a worker is replaced, gracefully,
# after about 5,000 requests; the jitter keeps the two from restarting together. It is a
# guard, not what keeps the figure down: a benchmark run stays well below it.
max_requests = 5000
max_requests_jitter = 500


def when_ready(server: Any) -> None:
    """In the master, after the preloaded import and before the first fork.

    ``gc.freeze()`` moves every object of the import into the collector's permanent
    generation: the workers' collections never walk them (nor write to their pages, which
    would unshare them). A page renders tens of thousands of short-lived objects, so the
    default first threshold (2,000) runs a collection many times per request; at 10,000 the
    collector cost a *Test ERP connection* about 0.9 ms less CPU (in-process, 7.1 -> 6.2 ms
    with collection off at 6.3). The few cyclic leftovers wait a little longer.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


accesslog = os.environ.get("GUNICORN_ACCESS_LOG")  # e.g. "-" for stdout; off by default
errorlog = "-"
