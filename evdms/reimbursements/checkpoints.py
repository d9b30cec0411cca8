"""Named places where the kill-and-rerun test stops a process (no-ops otherwise)."""

from __future__ import annotations


def checkpoint(name: str) -> None:
    """A place where the kill-and-rerun test stops the run (no-op otherwise)."""
    from django.conf import settings

    if settings.TESTING:
        import os

        if os.environ.get("EVDMS_TEST_STATEMENTS_STOP_AT") == name:
            _stop_here(name)


def _stop_here(name: str) -> None:  # pragma: no cover - runs in the test's subprocess
    import os
    import sys

    count = int(os.environ.get("EVDMS_TEST_STATEMENTS_STOP_AFTER", "1")) - 1
    os.environ["EVDMS_TEST_STATEMENTS_STOP_AFTER"] = str(count)
    if count <= 0:
        print(f"stopped at {name}", flush=True)
        sys.stdout.flush()
        import time as clock

        clock.sleep(600)  # the test kills the process here
