"""Signals the roaming side listens to, so this app never imports it.

``token_changed(token=)``: a token was issued or changed (validity, block, number);
sent after the change is committed (``transaction.on_commit``), once per change, with
``token.revision`` already the new one.
"""

from __future__ import annotations

from django.dispatch import Signal

token_changed = Signal()
