from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from evdms.accounts.models import AdminStatus, User


def normalised_email(value: str | None) -> str:
    """The account an address names: users are stored lower-cased, so any spelling of
    the address is the same account."""
    return (value or "").strip().lower()


def lockout_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """The name django-axes counts failures under (``AXES_USERNAME_CALLABLE``): the
    normalised address, so ``Nadia@Example.COM`` does not get fresh tries while
    ``nadia@example.com`` is locked."""
    if credentials:
        raw = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    elif request is not None:
        raw = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        raw = None
    return normalised_email(raw)


def client_ip(request: HttpRequest) -> str:
    """The client's address. Behind our proxy the peer is the proxy; the client is then
    the last address in X-Forwarded-For, the one the proxy itself added (any earlier
    entry came from the client and may be made up)."""
    if settings.BEHIND_PROXY:
        forwarded: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return str(request.META.get("REMOTE_ADDR", ""))


class EmailBackend(ModelBackend):
    """Log in by e-mail (any case). A disabled admin cannot log in, and because Django
    asks ``user_can_authenticate`` again on every request, disabling an admin also ends
    the sessions they already have.

    Disabling takes away only what the organisation gave: a disabled admin who is also a
    driver (a membership anywhere) or a platform operator still logs in as that, without
    any admin rights (``Actor.for_user`` wants an active admin)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        email = normalised_email(username or kwargs.get("email"))
        if not email or password is None:
            return None
        user = User.objects.select_related("admin").filter(email=email).first()
        if user is None:
            User().set_password(password)  # same time as a real check: no user probing
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def user_can_authenticate(self, user: Any) -> bool:
        if not super().user_can_authenticate(user):
            return False
        admin = user.admin_or_none
        if admin is None or admin.status != AdminStatus.DISABLED:
            return True
        return bool(user.is_staff or user.memberships.exists())

    def get_user(self, user_id: Any) -> User | None:
        user = (
            User.objects.select_related("admin", "admin__organisation").filter(pk=user_id).first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None
