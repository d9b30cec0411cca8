import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enrolment", "0002_drivers_page_index"),
        ("notifications", "0002_attachments"),
    ]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="outbound_email",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="notifications.outboundemail",
            ),
        ),
    ]
