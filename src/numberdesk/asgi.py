"""ASGI entry point for uvicorn / gunicorn: ``numberdesk.asgi:app``."""

import os

from numberdesk.app import create_app

app = create_app(run_worker=os.environ.get("NUMBERDESK_RUN_WORKER", "0") == "1")
