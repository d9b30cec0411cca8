"""The invoicing app's Django admin: each part in a module of its own."""

from evdms.invoicing import admin_fees  # noqa: F401
