"""The invoicing app's Django admin: each part registers its models in a module of its own."""

from evdms.invoicing import admin_fees, admin_invoices  # noqa: F401
