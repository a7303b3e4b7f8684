"""The worker runs status changes before what derives from status, whatever the import order."""

from numberdesk import worker


def test_status_sweeps_run_before_derived_ones() -> None:
    import numberdesk.billing.tasks  # noqa: F401  (imported first on purpose, as the app does)

    worker._load_sweeps()
    names = [name for name, _ in worker.SWEEPS]
    assert names.index("provisioning") < names.index("configuration") < names.index("billing")
    assert names.index("reclaim_window") < names.index("billing")
    assert set(worker.ORDER) <= set(names)
