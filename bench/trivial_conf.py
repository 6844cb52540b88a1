"""gunicorn settings of bench/trivial_app.py: the intake's own (`gunicorn_options`, from the same
environment: CHANNEL_WORKERS, CHANNEL_THREADS, CHANNEL_PORT …), so that the two differ only in
the application."""

from infra.settings import load
from services.http.server import gunicorn_options

globals().update(gunicorn_options(load()))
proc_name = "bench-trivial"
