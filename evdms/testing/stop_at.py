"""Run a management command that stops for good at a named checkpoint of the statement
run, so a test can SIGKILL it there: ``python -m evdms.testing.stop_at NAME AFTER
COMMAND [ARGS...]`` stops the AFTER-th time the run reaches NAME.

The checkpoint is a no-op hook in production code (``checkpoints.checkpoint``); only
this test-only entry point replaces it, so nothing in production reads a test switch.
"""

from __future__ import annotations

import os
import sys
import time
from unittest import mock


def main(argv: list[str]) -> None:
    name, after, *command = argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evdms.settings")
    import django

    django.setup()
    from django.core.management import execute_from_command_line

    from evdms.reimbursements import checkpoints

    remaining = int(after)

    def stop_at(reached: str) -> None:
        nonlocal remaining
        if reached != name:
            return
        remaining -= 1
        if remaining <= 0:
            print(f"stopped at {name}", flush=True)
            time.sleep(600)  # the test kills the process here

    with mock.patch.object(checkpoints, "checkpoint", stop_at):
        execute_from_command_line([sys.argv[0], *command])


if __name__ == "__main__":
    main(sys.argv[1:])
