"""Loaded by pytest with ``-p`` before Django is set up, so the settings see test mode."""

import os

os.environ.setdefault("EVDMS_ENV", "test")
# Playwright's sync API runs an event loop in the test thread; the ORM calls made from
# a test body are still synchronous and safe there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
