"""gunicorn behind nginx (deploy/nginx.conf): loopback only, complete requests only.

Threads let one worker process overlap the short waits on PostgreSQL and Redis; the
scientific stack is imported once and forked (preload). Values come from the environment
that deploy/stack.py sets, so one file serves every size of machine.
"""

import os

bind = f"127.0.0.1:{os.environ.get('GUNICORN_PORT', '8001')}"
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
preload_app = True
timeout = 60
graceful_timeout = 10
keepalive = 15  # nginx keeps its upstream connections open (keepalive 32)
max_requests = 5000  # recycle workers now and then: bounded memory over a long study
max_requests_jitter = 500
control_socket_disable = True
accesslog = None
errorlog = "-"
