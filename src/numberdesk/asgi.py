"""ASGI entry point for uvicorn / gunicorn: ``numberdesk.asgi:app``."""

import gc
import os

from numberdesk.app import create_app

app = create_app(run_worker=os.environ.get("NUMBERDESK_RUN_WORKER", "0") == "1")

# The ~150,000 objects of the imported code live as long as the process: keep them out
# of the cyclic GC's full collections, which otherwise stall every request in flight
# for up to ~100 ms (measured on the voice webhook in bench/bench_calls.py).
gc.freeze()
