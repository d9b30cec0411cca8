"""Pending admins become invitations of an address, detached from the account."""

from django.db import migrations, transaction
from django.db.models import ProtectedError, RestrictedError


def invitations_to_addresses(apps, schema_editor):
    Admin = apps.get_model("accounts", "Admin")
    User = apps.get_model("accounts", "User")
    for admin in Admin.objects.select_related("user"):
        admin.email = admin.user.email
        admin.full_name = admin.user.full_name
        if admin.status != "pending":
            admin.save(update_fields=["email", "full_name"])
            continue
        # A pending admin was attached to an account its owner never agreed to: detach it.
        # The account the invitation itself made (no password, never used) goes with it,
        # so the link still sets up a new account; anything else keeps its account.
        user = admin.user
        admin.user = None
        admin.status = "invited"
        admin.save(update_fields=["email", "full_name", "user", "status"])
        if user.password.startswith("!") and user.last_login is None and not user.is_staff:
            try:
                with transaction.atomic():
                    User.objects.filter(pk=user.pk).delete()
            except (ProtectedError, RestrictedError):
                pass  # used elsewhere (e.g. linked to a charger): keep it


def invitations_back_to_pending(apps, schema_editor):
    # The old schema cannot hold an invitation without an account: such invitations go.
    Admin = apps.get_model("accounts", "Admin")
    Admin.objects.filter(user__isnull=True).delete()
    Admin.objects.filter(status="invited").update(status="pending")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_admin_invitations_are_not_accounts"),
    ]

    operations = [
        migrations.RunPython(invitations_to_addresses, invitations_back_to_pending),
    ]
