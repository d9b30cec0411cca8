pytest_plugins = ["evdms.testing.fixtures", "evdms.testing.browser"]
