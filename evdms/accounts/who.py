"""Who acted, as records keep it and as people read it (issue #19).

A record (an audit row, a job's history, a report export) keeps who acted as text, so
it still says so after the user or the key is gone. A person is kept as their e-mail
address and shown as written. Anyone else (the system, the platform, an API key, a
charger, the recipient of an approval link) is kept as a code with its one parameter
(``api_key:CRM``) and shown in the reader's language by ``who_shown``, at display time.

Rows written before the codes hold the English the product wrote then ("API key “CRM”",
"the platform", "charger CP-1", "approval link sent to …", an invoice's "monthly run"):
they are read as the codes they stand for. Any other text (a name typed by an operator,
"demo") is shown as written.
"""

from __future__ import annotations

import re

from django.utils.functional import lazy
from django.utils.translation import gettext as _

SYSTEM = "system"
PLATFORM = "platform"
# Who issued the invoices of a month (``invoicing.services.run``).
MONTHLY_RUN = "monthly_run"
# Not stored: how a history names an API key, or an admin, of another organisation.
ANY_API_KEY = "api_key"
_API_KEY = "api_key:"
_CHARGER = "charger:"
_APPROVAL_LINK = "approval_link:"
_ADMIN_OF = "admin_of:"

_OLD_WORDS = {
    "system": SYSTEM,
    "the platform": PLATFORM,
    "platform": PLATFORM,
    "monthly run": MONTHLY_RUN,
}
_OLD_PATTERNS = (
    (re.compile(r"API key “(.*)”", re.S), _API_KEY),
    (re.compile(r"charger (\S+)"), _CHARGER),
    (re.compile(r"approval link sent to (.+)", re.S), _APPROVAL_LINK),
)


def api_key(name: str) -> str:
    return _API_KEY + name


def charger(identity: str) -> str:
    return _CHARGER + identity


def approval_link(recipient: str) -> str:
    return _APPROVAL_LINK + recipient


def admin_of(organisation_name: str) -> str:
    return _ADMIN_OF + organisation_name


def code_of(stored: str) -> str:
    """The code ``stored`` stands for: itself, or the code of an old English label."""
    if stored in _OLD_WORDS:
        return _OLD_WORDS[stored]
    for pattern, prefix in _OLD_PATTERNS:
        match = pattern.fullmatch(stored)
        if match:
            return prefix + match.group(1)
    return stored


def is_api_key(stored: str) -> bool:
    code = code_of(stored)
    return code == ANY_API_KEY or code.startswith(_API_KEY)


def who_shown(stored: str) -> str:
    """Who acted, in the active language; an e-mail address or a name as written."""
    code = code_of(str(stored))
    if code == SYSTEM:
        return _("system")
    if code == PLATFORM:
        return _("the platform")
    if code == MONTHLY_RUN:
        return _("the monthly run")
    if code == ANY_API_KEY:
        return _("An API key")
    prefix, colon, value = code.partition(":")
    if not colon:
        return code
    if prefix + ":" == _API_KEY:
        return _("API key “%(name)s”") % {"name": value}
    if prefix + ":" == _CHARGER:
        return _("charger %(identity)s") % {"identity": value}
    if prefix + ":" == _APPROVAL_LINK:
        return _("approval link sent to %(address)s") % {"address": value}
    if prefix + ":" == _ADMIN_OF:
        return _("An admin of %(organisation)s") % {"organisation": value}
    return code


# Read when it is shown (an e-mail renders it in its recipient's language).
who_lazy = lazy(who_shown, str)
