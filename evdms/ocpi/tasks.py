"""Background work of OCPI: sending token pushes to partners. The tasks live beside the
sends they run (``evdms.ocpi.pushes``), which also enqueues them; named here as every
app's background work is."""

from __future__ import annotations

from evdms.ocpi.pushes import ocpi_token_pushes_due, ocpi_token_pushes_send

__all__ = ["ocpi_token_pushes_due", "ocpi_token_pushes_send"]
