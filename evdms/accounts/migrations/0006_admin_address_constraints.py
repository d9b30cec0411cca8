from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_pending_admins_become_invitations"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="admin",
            options={"ordering": ["full_name", "email"]},
        ),
        migrations.AddConstraint(
            model_name="admin",
            constraint=models.UniqueConstraint(
                fields=("organisation", "email"), name="admin_one_per_address_and_organisation"
            ),
        ),
        migrations.AddConstraint(
            model_name="admin",
            constraint=models.CheckConstraint(
                condition=models.Q(("status", "active"), _negated=True)
                | models.Q(("user__isnull", False)),
                name="admin_active_has_account",
            ),
        ),
    ]
