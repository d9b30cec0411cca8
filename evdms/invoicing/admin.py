"""The invoicing admin: each part registers its models in a module of its own."""

from evdms.invoicing import admin_invoices  # noqa: F401
