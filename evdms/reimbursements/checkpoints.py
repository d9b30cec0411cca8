"""Named places of the statement run where nothing is half-done in the database."""

from __future__ import annotations


def checkpoint(name: str) -> None:
    """A no-op. The kill-and-rerun test replaces it (``evdms.testing.stop_at``) to stop
    the run there; callers look it up on this module at each call, so the replacement
    takes effect wherever it is called."""
