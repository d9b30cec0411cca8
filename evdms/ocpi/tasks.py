"""Background work of OCPI: sending token pushes to partners, matching the CDRs they
post. The tasks live beside the work they run (``evdms.ocpi.pushes``,
``evdms.ocpi.cdrs``), which also enqueues them; named here as every app's background
work is."""

from __future__ import annotations

from evdms.ocpi.cdrs import ocpi_cdrs_match
from evdms.ocpi.pushes import ocpi_token_pushes_due, ocpi_token_pushes_send

__all__ = ["ocpi_cdrs_match", "ocpi_token_pushes_due", "ocpi_token_pushes_send"]
