"""A valid logo kept across a form round that failed for another reason.

A browser never sends a chosen file again: when the New / Edit Connection or Revise
Benefits page comes back with an error elsewhere, the logo would be lost and the
connection saved without it. So the checked logo (already re-encoded as PNG, at most a
few kilobytes for 60 × 30 pixels) travels back in the page itself, signed: a hidden
field holds it, the page shows it with "Keep this logo" / "Choose another", and the next
round uses it. Nothing is stored on the server, so there is nothing to clean up.

The signature binds the logo to the organisation and the person who chose it, and it
expires: a reference copied from another organisation's page (or an old one) is refused,
and the page says the logo must be chosen again, never saving without it silently.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from evdms.accounts.permissions import Actor
from evdms.connections.logo import clean_logo

SALT = "evdms.connections.kept-logo"
MAX_AGE_SECONDS = 12 * 3600  # a working day: longer than anyone leaves a form open
KEPT_FIELD = "kept_logo"
CHOICE_FIELD = "kept_logo_choice"
LOST = _(
    "The logo you chose before could not be kept (the page is too old or was not "
    "yours): choose the logo file again."
)


@dataclass(frozen=True)
class Scope:
    """Whose form it is: a kept logo is only taken back by the same person and
    organisation."""

    organisation_id: int
    user_id: int | None

    @classmethod
    def of(cls, actor: Actor) -> Scope:
        return cls(
            organisation_id=actor.organisation.pk,
            user_id=actor.user.pk if actor.user is not None else None,
        )


@dataclass(frozen=True)
class KeptLogo:
    png: bytes
    token: str

    @property
    def data_uri(self) -> str:
        """The logo as an ``<img src>`` (the CSP allows data: images)."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode()


def keep(png: bytes, scope: Scope) -> KeptLogo:
    payload = {
        "o": scope.organisation_id,
        "u": scope.user_id,
        "png": base64.b64encode(png).decode(),
    }
    return KeptLogo(png=png, token=signing.dumps(payload, salt=SALT, compress=True))


def take_back(token: str, scope: Scope) -> KeptLogo | None:
    """The logo a token carries, if it is genuine, recent and of this scope."""
    try:
        payload: Any = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(payload, dict):
        return None
    if payload.get("o") != scope.organisation_id or payload.get("u") != scope.user_id:
        return None
    try:
        png = base64.b64decode(str(payload.get("png", "")), validate=True)
    except ValueError:
        return None
    return KeptLogo(png=png, token=token) if png else None


@dataclass(frozen=True)
class ChosenLogo:
    """What a form round chose for the logo.

    ``logo``: what the service is given (None: no new logo). ``valid_png``: the checked
    logo, to keep if the round fails elsewhere. ``lost``: a kept logo could not be taken
    back, which the page must say (and not save)."""

    logo: UploadedFile[bytes] | bytes | None
    valid_png: bytes | None = None
    lost: bool = False

    def kept_after(self, error: ValidationError | None, scope: Scope) -> KeptLogo | None:
        """The logo to carry into the re-rendered page, unless the logo itself was wrong."""
        if self.valid_png is None:
            return None
        if error is not None and "logo" in getattr(error, "error_dict", {}):
            return None
        return keep(self.valid_png, scope)


def chosen_logo(post: Any, upload: UploadedFile[bytes] | None, scope: Scope) -> ChosenLogo:
    """A newly chosen file wins; else the kept logo, unless "Choose another" was ticked."""
    if upload is not None:
        try:
            png, _ = clean_logo(upload)
        except ValidationError:
            upload.seek(0)  # the service reads it again and says what is wrong, with the rest
            return ChosenLogo(logo=upload)
        return ChosenLogo(logo=png, valid_png=png)
    token = str(post.get(KEPT_FIELD) or "")
    if not token or post.get(CHOICE_FIELD, "keep") != "keep":
        return ChosenLogo(logo=None)
    kept = take_back(token, scope)
    if kept is None:
        return ChosenLogo(logo=None, lost=True)
    return ChosenLogo(logo=kept.png, valid_png=kept.png)
