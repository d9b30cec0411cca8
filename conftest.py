pytest_plugins = ["evdms.testing.fixtures", "evdms.testing.browser"]


def pytest_configure(config):  # type: ignore[no-untyped-def]
    """The tests read the message files as they are now: compile them first (once, in
    the controlling process; under a second, and Babel needs no system package)."""
    if hasattr(config, "workerinput"):
        return
    from evdms.ui.translations import compile_all

    compile_all()
