"""numberdesk's benchmarks: ``python -m bench [name …]`` (``make bench``).

Each ``bench/bench_<name>.py`` exposes ``run() -> list[dict]``, one dict per figure
(see ``bench.common``); ``bench/__main__.py`` finds them, runs them and prints a table.
"""
