"""The worker runs status changes before what derives from status, whatever the import order."""

from numberdesk.worker import registry


def test_status_sweeps_run_before_derived_ones() -> None:
    import numberdesk.billing.tasks  # noqa: F401  (imported first on purpose)
    from numberdesk import tasks

    names = [r.name for r in registry.sweeps()]
    assert names.index("provisioning") < names.index("configuration") < names.index("billing")
    assert names.index("reclaim_window") < names.index("billing")
    assert set(tasks.ORDER) <= set(names)
