"""Fault runs: the platform's real processes (gunicorn, Celery workers, a private PostgreSQL
and Redis) started, broken on purpose and checked afterwards. ``benchmarks/faults.py`` runs
them; ``tests/integration/test_faults.py`` runs them small in CI."""
