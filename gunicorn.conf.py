"""gunicorn's settings for the evdms web server: read by ``gunicorn`` run from the
checkout (production, see README), by ``make run`` (``manage.py serve``) and by the
benchmarks, so what is measured is what runs.

Threads (gthread) rather than more processes: a request mostly waits on the database,
and an idle keep-alive connection holds a socket in the worker's poller, not a thread.
One process per core by default; the real-time OCPI authorisation (issue #15) was
measured with this configuration (docs/benchmarks.md).
"""

import os

wsgi_app = "evdms.wsgi:application"
bind = os.environ.get("EVDMS_WEB_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("EVDMS_WEB_WORKERS", os.cpu_count() or 1))
threads = int(os.environ.get("EVDMS_WEB_THREADS", "4"))
# OCPI partners and a proxy in front reuse their connections; a new TCP (and, at the
# proxy, TLS) connection per request would cost more than the request.
keepalive = int(os.environ.get("EVDMS_WEB_KEEPALIVE", "30"))
