from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError next to the fields it names (else at the top)."""
    form.is_valid()  # the form's own parsing first, so the service's errors add to it
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def size_text(size: int) -> str:
    """A file's size as people read it, with the exact bytes: "2.4 MB (2,516,582 bytes)"
    (MB of 1,048,576 bytes, as file managers count)."""
    if size < 104_858:  # below 0.1 MB the bytes say it better
        return f"{size:,} bytes"
    megabytes = f"{size / 1_048_576:.1f}".removesuffix(".0")
    return f"{megabytes} MB ({size:,} bytes)"
