"""A job's history keeps the platform's notes as a code with parameters (issue #19):
read in each reader's language. Older rows keep their English note; it is read by the
step it was written for (``JobTransition.note_shown``)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("installations", "0003_merge_quotes_and_report"),
    ]

    operations = [
        migrations.AddField(
            model_name="jobtransition",
            name="note_code",
            field=models.CharField(blank=True, max_length=30),
        ),
        migrations.AddField(
            model_name="jobtransition",
            name="note_params",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
