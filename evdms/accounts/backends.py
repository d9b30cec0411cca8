from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from evdms.accounts.models import AdminStatus, User


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
        email = (username or kwargs.get("email") or "").strip().lower()
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
