"""Operator API keys now belong to accounts (its migration 0009 took the table over):
only the migration state forgets the model here; the database is not touched."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reimbursements", "0007_amounts_fit_their_columns"),
        ("accounts", "0009_operator_api_key"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="OperatorApiKey")],
            database_operations=[],
        ),
    ]
