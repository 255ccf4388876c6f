"""The production stack: nginx, gunicorn, Celery worker and beat (see stack.py)."""
