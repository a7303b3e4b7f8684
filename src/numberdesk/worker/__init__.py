"""The worker: time-driven changes as idempotent compare-and-set sweeps (``registry``), run
in rounds by ``runner``. The sweeps themselves live in each domain's ``tasks.py``; the
composition root ``numberdesk.tasks`` imports them all and fixes their order."""
