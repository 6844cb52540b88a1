"""An intake worker's long-lived heap (what it holds once its app is built) is frozen out of the
cyclic collector's walks, whichever entry point built the app (`channel serve`'s gunicorn
application or gunicorn_conf.py's `wsgi:create`): left in, each full collection paused the
worker's requests for 100–190 ms (bench `http`, issue 12). Run in a child process: a freeze holds
for the whole process."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECK = """
import gc
from flask import Flask
from services.http.server import Server, worker_app
built = []

def factory():
    app = Flask("probe")
    built.append(gc.get_freeze_count())
    return app

{call}
assert built == [0], built
print(gc.get_freeze_count())
"""


@pytest.mark.parametrize("call", [
    "worker_app(factory)",
    "Server(factory, {}).load()",
])
def test_the_heap_is_frozen_once_the_worker_app_is_built(call: str) -> None:
    done = subprocess.run([sys.executable, "-c", CHECK.format(call=call)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) > 10_000  # the modules and the app, at least
