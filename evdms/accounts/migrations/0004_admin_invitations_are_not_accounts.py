"""Admin invitations no longer attach an existing account: an invited admin is an
address (as the inviter typed it) until its owner accepts. Schema first; the data and
the constraints follow in their own migrations (PostgreSQL will not alter a table with
row changes pending in the same transaction)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_email_confirmed_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="admin",
            name="email",
            field=models.EmailField(default="", max_length=254, verbose_name="e-mail address"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="admin",
            name="full_name",
            field=models.CharField(blank=True, max_length=150, verbose_name="full name"),
        ),
        migrations.AlterField(
            model_name="admin",
            name="user",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=models.deletion.CASCADE,
                related_name="admin",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="admin",
            name="status",
            field=models.CharField(
                choices=[("active", "Active"), ("invited", "Invited"), ("disabled", "Disabled")],
                default="invited",
                max_length=10,
                verbose_name="status",
            ),
        ),
    ]
