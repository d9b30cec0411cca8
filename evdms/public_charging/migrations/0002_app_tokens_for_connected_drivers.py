"""Drivers already connected to an enabled connection that pays for public charging when
tokens arrived get their app token now, as those who connect later get it on connecting
(``services.tokens.app_token_ensure``). Rows only: no partner is registered yet when
this runs on an existing installation, and partners read the list anyway."""

import secrets

from django.db import migrations


def app_tokens(apps, schema_editor):
    from evdms.public_charging.contract_ids import new_contract_id

    Membership = apps.get_model("enrolment", "Membership")
    Token = apps.get_model("public_charging", "Token")
    have = set(Token.objects.filter(type="APP_USER").values_list("organisation_id", "driver_id"))
    used_uids = set(Token.objects.values_list("uid", flat=True))
    used_ids = set(Token.objects.values_list("contract_id", flat=True))
    rows = []
    for organisation_id, driver_id in (
        Membership.objects.filter(
            status="connected",
            ended_at__isnull=True,
            connection__enabled=True,
            connection__pay_for_public_charging=True,
        )
        .values_list("organisation_id", "driver_id")
        .distinct()
    ):
        if (organisation_id, driver_id) in have:
            continue
        uid = secrets.token_hex(8).upper()
        while uid in used_uids:
            uid = secrets.token_hex(8).upper()
        contract_id = new_contract_id(lambda candidate: candidate in used_ids)
        used_uids.add(uid)
        used_ids.add(contract_id)
        have.add((organisation_id, driver_id))
        rows.append(
            Token(
                organisation_id=organisation_id,
                driver_id=driver_id,
                type="APP_USER",
                uid=uid,
                contract_id=contract_id,
                visual_number=contract_id,
                valid=True,
            )
        )
    Token.objects.bulk_create(rows, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("public_charging", "0001_tokens"),
        ("enrolment", "0005_terms_acceptance_signed_copy_queued_at"),
        ("connections", "0004_standard_price_and_warranty_only_where_they_apply"),
    ]

    operations = [migrations.RunPython(app_tokens, migrations.RunPython.noop)]
