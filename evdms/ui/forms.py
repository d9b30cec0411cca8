from __future__ import annotations

from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy, ngettext

from evdms.ui.formatting import count, number

# The label of a select's empty "choose one" option (lazy: read in the page's language;
# typed as the text it becomes, so choice lists of (value, str) take it).
# An empty option with another label is a real choice (e.g. "Not by the platform").
PLACEHOLDER = cast(str, gettext_lazy("Select…"))
_OTHER_PLACEHOLDERS = frozenset(["---------", "—"])


def is_placeholder(label: object) -> bool:
    """Whether ``label`` is an empty option's "choose one" text, in any language."""
    text = str(label)
    return text in _OTHER_PLACEHOLDERS or text in (str(PLACEHOLDER), "Select…")


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
    (MB of 1,048,576 bytes, as file managers count), in the active language ("2,4 MB
    (2.516.582 Bytes)")."""
    exact = ngettext("%(count)s byte", "%(count)s bytes", size) % {"count": count(size)}
    if size < 104_858:  # below 0.1 MB the bytes say it better
        return exact
    tenths = round(size * 10 / 1_048_576)
    megabytes = number(tenths // 10) if tenths % 10 == 0 else number(tenths / 10, 1)
    return gettext("%(megabytes)s MB (%(bytes)s)") % {"megabytes": megabytes, "bytes": exact}


def preselect_single_choices(form: forms.Form) -> None:
    """A select with exactly one real option (besides "Select…") starts on that option:
    there is nothing to choose, so the person need not choose it.

    Only where the form has no value of its own for the field yet; disabled options do
    not count (they cannot be chosen)."""
    for name, field in form.fields.items():
        widget = field.widget
        if not isinstance(widget, forms.Select) or isinstance(widget, forms.SelectMultiple):
            continue
        real = [
            value
            for value, label in widget.choices
            if not (value in ("", None) and is_placeholder(label)) and not _disabled(widget, value)
        ]
        if len(real) == 1 and form.initial.get(name) in (None, ""):
            form.initial[name] = real[0]


def _disabled(widget: forms.Select, value: object) -> bool:
    option = widget.create_option("", value, "", False, 0)
    return bool(option["attrs"].get("disabled"))
