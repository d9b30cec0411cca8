"""Inviting drivers by e-mail: lists and CSV files, refused lines, sending, tracking."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.models import Role, User
from evdms.enrolment.models import Invitation, InvitationBatch, InvitationStatus, Membership
from evdms.enrolment.services.invitations import invitation_batch_create
from evdms.enrolment.tasks import send_invitation_batch
from evdms.notifications.models import OutboundEmail
from evdms.testing.concurrency import at_once
from evdms.testing.fixtures import client_for, make_connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(world):
    return make_connection(world.org_a, provide_home_charger="no", approval_type="auto")


def invite(client: Client, connection, **data):
    return client.post(reverse("enrolment:invite", args=[connection.pk]), data)


def test_a_pasted_list_is_invited_and_refused_lines_are_reported(
    world, connection, mailoutbox, django_capture_on_commit_callbacks
):
    text = (
        "anna@example.com, ben@example.com\nnot-an-address\nANNA@example.com; carl@example.com\n\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client_for(world.otto), connection, addresses=text)
    assert response.status_code == 302
    batch = InvitationBatch.objects.get()
    assert batch.total == 3 and batch.sent == 3 and batch.finished_at is not None
    reasons = {(r["line"], r["value"]): r["reason"] for r in batch.rejected}
    assert reasons[(3, "ANNA@example.com")] == "Duplicate of line 1."
    assert "not-an-address" in {v for _, v in reasons}
    assert sorted(m.to[0] for m in mailoutbox) == [
        "anna@example.com",
        "ben@example.com",
        "carl@example.com",
    ]
    body = mailoutbox[0].body
    token = Invitation.objects.get(email=mailoutbox[0].to[0]).token
    assert f"/join/{connection.invite_token}/?invitation={token}" in body
    page = client_for(world.otto).get(response["Location"]).content.decode()
    assert "Sent 3 of 3" in page and "Duplicate of line 1." in page


def test_the_invitation_is_tracked_to_connected(
    world, connection, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(client_for(world.nadia), connection, addresses="dora@example.com")
    invitation = Invitation.objects.get()
    assert invitation.status == InvitationStatus.SENT
    found = re.search(r"http://127\.0\.0\.1:8000(\S+)", mailoutbox[-1].body)
    assert found is not None
    link = found.group(1)
    visitor = Client()
    visitor.get(link)
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.OPENED and invitation.opened_at
    dora = User.objects.create_user(
        "dora@example.com", "dora's passphrase 1", email_confirmed_at=timezone.now()
    )
    visitor.force_login(dora, backend="evdms.accounts.backends.EmailBackend")
    request_link = (
        reverse("enrolment:join_request", args=[connection.invite_token])
        + f"?invitation={invitation.token}"
    )
    with django_capture_on_commit_callbacks(execute=True):
        visitor.post(request_link, {"invitation": invitation.token})
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.CONNECTED  # auto approval
    assert Membership.objects.get().invitation == invitation


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xef\xbb\xbfemail,name\r\nanna@example.com,Anna\r\nben@example.com,Ben\r\n", 2),
        (b"Name;E-mail\nAnna;anna@example.com\nBen;ben@example.com\n", 2),
        (b"anna@example.com\nben@example.com\ncarl@example.com\n", 3),
        (b"Adres\nanna@example.com\nben@example.com\n", 2),  # one column, own header
        ("Name\tEmail\nAnna\tanna@example.com\n".encode("utf-16"), 1),  # Unicode text
    ],
)
def test_csv_files_with_or_without_header_and_bom(world, connection, content, expected):
    upload = SimpleUploadedFile("drivers.csv", content, content_type="text/csv")
    assert invite(client_for(world.nadia), connection, file=upload).status_code == 302
    assert InvitationBatch.objects.get().total == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Name,Phone\nAnna,0612\n", "No e-mail column found"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00", "This is not a CSV text file."),
        (b"", "The file is empty."),
        (b"\xef\xbb\xbf\n\n", "The file is empty."),
        (b"email\n", "Enter at least one e-mail address."),
        (
            b"email\n" + b"a" * 200_000 + b"@example.com\n",
            "Line 2 holds a value of more than 131,072 characters",
        ),
        ("email\nanna@example.com\n".encode("utf-32"), "This is not a CSV text file."),
        ("email\nan\x00na@example.com\n".encode("utf-16"), "This is not a CSV text file."),
    ],
    ids=[
        "no e-mail column",
        "zip",
        "empty",
        "empty lines",
        "header only",
        "field too long",
        "UTF-32",
        "NUL",
    ],
)
def test_bad_csv_files_get_a_clear_message_and_nothing_is_written(
    world, connection, content, message
):
    upload = SimpleUploadedFile("drivers.csv", content, content_type="text/csv")
    response = invite(client_for(world.nadia), connection, file=upload)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert InvitationBatch.objects.count() == 0


def test_more_than_ten_thousand_addresses_are_refused(world, connection):
    text = "\n".join(f"d{i}@example.com" for i in range(10_001))
    response = invite(client_for(world.nadia), connection, addresses=text)
    assert response.status_code == 422
    assert "At most 10,000 addresses" in response.content.decode()
    assert Invitation.objects.count() == 0


def test_a_disabled_connection_cannot_invite(world):
    closed = make_connection(world.org_a, enabled="no")
    response = invite(client_for(world.nadia), closed, addresses="a@example.com")
    assert response.status_code == 422
    assert "enable it before inviting" in response.content.decode()
    assert Invitation.objects.count() == 0


def test_addresses_already_invited_are_not_invited_again(
    world, connection, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(client_for(world.nadia), connection, addresses="anna@example.com")
        invite(client_for(world.nadia), connection, addresses="anna@example.com\nben@example.com")
    assert sorted(m.to[0] for m in mailoutbox) == ["anna@example.com", "ben@example.com"]
    last = InvitationBatch.objects.order_by("id").last()
    assert last is not None
    assert last.rejected[0]["reason"] == "Already invited to this connection."


def test_rerunning_the_sending_task_sends_nobody_twice(
    world, connection, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(
            client_for(world.nadia),
            connection,
            addresses="\n".join(f"d{i}@example.com" for i in range(250)),
        )
    batch = InvitationBatch.objects.get()
    assert len(mailoutbox) == 250
    send_invitation_batch.call(batch_id=batch.pk)
    assert len(mailoutbox) == 250
    assert OutboundEmail.objects.filter(template="driver_invitation").count() == 250


def test_an_unfinished_batch_polls_for_progress(world, connection):
    batch = InvitationBatch.objects.create(connection=connection, total=10, sent=4)
    fragment = (
        client_for(world.nadia)
        .get(reverse("enrolment:invitation_progress", args=[connection.pk, batch.pk]))
        .content.decode()
    )
    assert (
        'hx-trigger="every 1s"' in fragment
        and 'value="4"' in fragment
        and "Sending… 4 of 10" in fragment
    )
    batch.sent, batch.finished_at = 10, timezone.now()
    batch.save()
    fragment = (
        client_for(world.nadia)
        .get(reverse("enrolment:invitation_progress", args=[connection.pk, batch.pk]))
        .content.decode()
    )
    assert "hx-trigger" not in fragment and "Sent 10 of 10." in fragment


def test_inviting_through_the_api(
    world, connection, api_key_for, client, mailoutbox, django_capture_on_commit_callbacks
):
    headers = api_key_for(world.org_a, Role.CONNECTIONS_OFFICER)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/connections/{connection.pk}/invitations",
            data={"emails": ["a@example.com", "bad", "A@example.com"]},
            content_type="application/json",
            headers=headers,
        )
    assert response.status_code == 202
    body = response.json()
    assert body["total"] == 1 and [r["line"] for r in body["rejected"]] == [2, 3]
    read = client.get(
        f"/api/v1/connections/{connection.pk}/invitations/{body['id']}", headers=headers
    ).json()
    assert read["finished"] and read["counts"]["sent"] == 1
    outsider = api_key_for(world.org_b)
    assert (
        client.get(
            f"/api/v1/connections/{connection.pk}/invitations/{body['id']}", headers=outsider
        ).status_code
        == 404
    )


def test_a_windows_1252_csv_from_excel_is_read_as_such(world, connection):
    content = "Naam;E-mail\nRené;rené@example.com\nZoë;zoe@example.com\n".encode("cp1252")
    upload = SimpleUploadedFile("drivers.csv", content, content_type="text/csv")
    assert invite(client_for(world.nadia), connection, file=upload).status_code == 302
    assert sorted(Invitation.objects.values_list("email", flat=True)) == [
        "rené@example.com",
        "zoe@example.com",
    ]


def test_refused_csv_lines_are_reported_at_their_line_in_the_file(world, connection):
    content = b'email,note\nanna@example.com,"two\nlines"\n\nnot-an-address,x\nANNA@example.com,y\n'
    upload = SimpleUploadedFile("drivers.csv", content, content_type="text/csv")
    response = invite(client_for(world.nadia), connection, file=upload)
    page = client_for(world.nadia).get(response["Location"]).content.decode()
    batch = InvitationBatch.objects.get()
    assert [(r["line"], r["value"]) for r in batch.rejected] == [
        (5, "not-an-address"),
        (6, "ANNA@example.com"),
    ]
    assert batch.rejected[1]["reason"] == "Duplicate of line 2."
    assert "Refused lines (2)" in page and "not-an-address" in page


@pytest.mark.parametrize("end", ["\r", "\n", "\r\n"], ids=["CR (old Mac)", "LF", "CRLF"])
def test_csv_files_with_any_line_ends_are_read_and_lines_counted(world, connection, end):
    content = end.join(
        ["email,note", 'anna@example.com,"two' + end + 'lines"', "not-an-address,x", ""]
    ).encode()
    upload = SimpleUploadedFile("drivers.csv", content, content_type="text/csv")
    assert invite(client_for(world.nadia), connection, file=upload).status_code == 302
    batch = InvitationBatch.objects.get()
    assert batch.total == 1 and [(r["line"], r["value"]) for r in batch.rejected] == [
        (4, "not-an-address")
    ]


def test_a_nul_in_an_address_is_refused_and_shown_not_stored(
    world, connection, client, api_key_for
):
    """PostgreSQL's JSON cannot hold a NUL: the refused value keeps a visible mark."""
    response = invite(
        client_for(world.nadia), connection, addresses="ok@example.com\nan\x00na@example.com"
    )
    assert response.status_code == 302
    api = client.post(
        f"/api/v1/connections/{connection.pk}/invitations",
        {"emails": ["ok2@example.com", "ben\x00@example.com"]},
        content_type="application/json",
        headers=api_key_for(world.org_a),
    )
    assert api.status_code == 202
    refused = [r for b in InvitationBatch.objects.order_by("pk") for r in b.rejected]
    assert [r["value"] for r in refused] == ["an\ufffdna@example.com", "ben\ufffd@example.com"]
    assert not any("\x00" in r["reason"] for r in refused)


def test_a_csv_of_more_than_ten_thousand_addresses_is_refused(world, connection):
    content = "\n".join(["email"] + [f"d{i}@example.com" for i in range(10_001)]).encode()
    upload = SimpleUploadedFile("drivers.csv", content, content_type="text/csv")
    response = invite(client_for(world.nadia), connection, file=upload)
    assert response.status_code == 422
    assert "At most 10,000 addresses at a time (this list has 10,001)" in response.content.decode()
    assert InvitationBatch.objects.count() == 0


def test_a_pasted_list_and_a_file_together_are_refused(world, connection):
    upload = SimpleUploadedFile("drivers.csv", b"a@example.com\n", content_type="text/csv")
    response = invite(client_for(world.nadia), connection, addresses="b@example.com", file=upload)
    assert response.status_code == 422
    assert "Paste addresses or upload a file, not both" in response.content.decode()
    assert "b@example.com" in response.content.decode()  # the pasted list is kept
    assert InvitationBatch.objects.count() == 0


def test_the_invitation_shows_the_name_for_drivers_the_benefits_and_a_working_link(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    reimbursing = make_connection(world.org_a, name_for_drivers="Voltlease Drivers")
    with django_capture_on_commit_callbacks(execute=True):
        invite(client_for(world.nadia), reimbursing, addresses="erin@example.com")
    message = mailoutbox[0]
    token = Invitation.objects.get().token
    link = f"http://127.0.0.1:8000/join/{reimbursing.invite_token}/?invitation={token}"
    assert message.subject == "Voltlease Drivers invites you to charging benefits"
    for benefit in reimbursing.benefits():
        assert benefit in message.body
    assert link in message.body
    html = message.alternatives[0][0]
    assert f'href="{link}"' in html and "Voltlease Drivers" in html
    outbox_row = OutboundEmail.objects.get(template="driver_invitation")
    assert outbox_row.to == ["erin@example.com"] and outbox_row.status == "sent"


def test_a_rerun_delivers_what_a_stopped_run_had_claimed_and_nothing_twice(
    world, connection, mailoutbox
):
    from evdms.enrolment import tasks

    batch = invitation_batch_create(
        actor=world.actor(world.nadia),
        connection=connection,
        text="\n".join(f"d{i}@example.com" for i in range(5)),
    )  # not committed callbacks: nothing sent yet
    letters = tasks._Letters(connection)
    tasks._claim_chunk(batch, letters, "http://127.0.0.1:8000/join/x/")  # then the worker died
    assert len(mailoutbox) == 0
    assert Invitation.objects.filter(status=InvitationStatus.SENT).count() == 5
    send_invitation_batch.call(batch_id=batch.pk)
    send_invitation_batch.call(batch_id=batch.pk)
    assert sorted(m.to[0] for m in mailoutbox) == [f"d{i}@example.com" for i in range(5)]
    batch.refresh_from_db()
    assert batch.sent == 5 and batch.finished_at is not None


def test_a_mail_server_failure_is_reported_and_not_retried_by_a_rerun(
    world, connection, mailoutbox, monkeypatch
):
    from django.core.mail import EmailMultiAlternatives

    batch = invitation_batch_create(
        actor=world.actor(world.nadia), connection=connection, text="a@example.com"
    )

    def refuse(self, fail_silently=False):
        raise OSError("mail server said no")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    send_invitation_batch.call(batch_id=batch.pk)
    monkeypatch.undo()
    send_invitation_batch.call(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.finished_at is not None and batch.sent == 0 and mailoutbox == []
    assert OutboundEmail.objects.get().last_error == "mail server said no"
    fragment = client_for(world.nadia).get(
        reverse("enrolment:invitation_progress", args=[connection.pk, batch.pk])
    )
    assert "Some e-mails could not be delivered" in fragment.content.decode()


def test_the_progress_fragment_reloads_the_page_once_sending_is_done(world, connection):
    batch = InvitationBatch.objects.create(connection=connection, total=2, sent=2)
    url = reverse("enrolment:invitation_progress", args=[connection.pk, batch.pk])
    polling = client_for(world.nadia).get(url, headers={"HX-Request": "true"})
    assert "HX-Refresh" not in polling
    batch.finished_at = timezone.now()
    batch.save()
    done = client_for(world.nadia).get(url, headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"


def test_only_admins_who_manage_drivers_see_and_open_invite_drivers(world, connection):
    detail = reverse("connections:detail", args=[connection.pk])
    invite_page = reverse("enrolment:invite", args=[connection.pk])
    assert invite_page in client_for(world.otto).get(detail).content.decode()
    assert invite_page not in client_for(world.ana).get(detail).content.decode()
    assert client_for(world.ana).get(invite_page).status_code == 403
    closed = make_connection(world.org_a, name="Closed", enabled="no")
    assert (
        reverse("enrolment:invite", args=[closed.pk])
        not in (
            client_for(world.nadia).get(reverse("connections:detail", args=[closed.pk]))
        ).content.decode()
    )


def test_another_organisation_or_connection_sees_no_batch(world, connection):
    batch = InvitationBatch.objects.create(connection=connection, total=0)
    other = make_connection(world.org_a, name="Other")
    nadia, bob = client_for(world.nadia), client_for(world.bob)
    for name in ("enrolment:invitation_batch", "enrolment:invitation_progress"):
        assert bob.get(reverse(name, args=[connection.pk, batch.pk])).status_code == 404
        assert nadia.get(reverse(name, args=[other.pk, batch.pk])).status_code == 404
    assert bob.get(reverse("enrolment:invite", args=[connection.pk])).status_code == 404
    response = bob.post(reverse("enrolment:invite", args=[connection.pk]), {"addresses": "a@b.nl"})
    assert response.status_code == 404 and Invitation.objects.count() == 0


# --- the API says the same as the page ------------------------------------------------


def post_emails(client: Client, connection, headers, emails):
    return client.post(
        f"/api/v1/connections/{connection.pk}/invitations",
        data={"emails": emails},
        content_type="application/json",
        headers=headers,
    )


def test_the_api_refuses_what_the_page_refuses_with_the_same_words(world, api_key_for, client):
    headers = api_key_for(world.org_a, Role.CONNECTIONS_OFFICER)
    closed = make_connection(world.org_a, enabled="no")
    response = post_emails(client, closed, headers, ["a@example.com"])
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "emails"],
            "msg": "This connection is disabled: enable it before inviting drivers.",
            "type": "value_error",
        }
    ]
    open_one = make_connection(world.org_a, name="Open")
    too_many = [f"d{i}@example.com" for i in range(10_001)]
    response = post_emails(client, open_one, headers, too_many)
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"].startswith("At most 10,000 addresses at a time")
    response = post_emails(client, open_one, headers, [])
    assert response.json()["detail"][0]["msg"] == "Enter at least one e-mail address."
    assert InvitationBatch.objects.count() == 0


def test_api_items_are_reported_by_position_even_with_commas_in_them(
    world, connection, api_key_for, client
):
    headers = api_key_for(world.org_a)
    body = post_emails(client, connection, headers, ["a@example.com, b@example.com", "c@ex.com"])
    assert body.status_code == 202
    assert body.json()["total"] == 1 and body.json()["rejected"][0]["line"] == 1


def test_the_api_lists_invitations_by_status(
    world, connection, api_key_for, client, django_capture_on_commit_callbacks
):
    headers = api_key_for(world.org_a)
    with django_capture_on_commit_callbacks(execute=True):
        post_emails(client, connection, headers, ["a@example.com", "b@example.com"])
    opened = Invitation.objects.get(email="b@example.com")
    Client().get(f"/join/{connection.invite_token}/?invitation={opened.token}")
    url = f"/api/v1/connections/{connection.pk}/invitations"
    everything = client.get(url, headers=headers).json()
    assert everything["count"] == 2
    only_opened = client.get(url, {"status": "opened"}, headers=headers).json()
    assert [i["email"] for i in only_opened["items"]] == ["b@example.com"]
    assert only_opened["items"][0]["opened_at"] is not None
    page = client.get(url, {"limit": 1, "offset": 1}, headers=headers).json()
    assert page["count"] == 2 and len(page["items"]) == 1
    wrong = client.get(url, {"status": "clicked"}, headers=headers)
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["query", "status"]


def test_the_api_hides_other_organisations_and_refuses_analysts(
    world, connection, api_key_for, client
):
    batch = InvitationBatch.objects.create(connection=connection, total=0)
    outsider = api_key_for(world.org_b)
    base = f"/api/v1/connections/{connection.pk}/invitations"
    assert post_emails(client, connection, outsider, ["a@example.com"]).status_code == 404
    assert client.get(base, headers=outsider).status_code == 404
    assert client.get(f"{base}/{batch.pk}", headers=outsider).status_code == 404
    missing = client.get(f"/api/v1/connections/999999/invitations/{batch.pk}", headers=outsider)
    assert missing.status_code == 404
    analyst = api_key_for(world.org_a, Role.ANALYST)
    assert client.get(base, headers=analyst).status_code == 403
    assert post_emails(client, connection, analyst, ["a@example.com"]).status_code == 403
    assert Invitation.objects.count() == 0


def test_a_file_over_five_megabytes_is_refused_before_it_is_read(world, connection):
    upload = SimpleUploadedFile("drivers.csv", b"a" * 6_000_000, content_type="text/csv")
    response = invite(client_for(world.nadia), connection, file=upload)
    assert response.status_code == 422
    assert "The file is 5.7 MB (6,000,000 bytes); at most 5 MB." in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_one_batch_invite_everyone_once(world, mailoutbox):
    connection = make_connection(world.org_a, provide_home_charger="no")
    batch = invitation_batch_create(
        actor=world.actor(world.nadia),
        connection=connection,
        text="\n".join(f"d{i}@example.com" for i in range(1000)),
    )

    def worker() -> int:
        return send_invitation_batch.call(batch_id=batch.pk)

    at_once(worker, worker)
    recipients = [m.to[0] for m in mailoutbox]
    assert len(recipients) == len(set(recipients)) == 1000
    batch.refresh_from_db()
    assert batch.finished_at is not None


def test_a_list_where_every_line_is_refused_is_refused_whole_and_writes_nothing(
    world, connection, mailoutbox, django_capture_on_commit_callbacks
):
    nadia = client_for(world.nadia)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(nadia, connection, addresses="nobody\nat@@all")
    assert response.status_code == 422
    page = response.content.decode()
    assert "Nobody was invited: no line holds an address that can be invited" in page
    assert "line 1 “nobody”" in page and "line 2 “at@@all”" in page
    assert "nobody\nat@@all" in page  # the list is kept in the field
    assert mailoutbox == [] and Invitation.objects.count() == 0
    assert InvitationBatch.objects.count() == 0


def test_a_csv_without_one_valid_address_makes_no_empty_batch(world, connection):
    from evdms.audit.models import AuditEvent

    content = b"name,email\nAnna,\nBen,ben(at)example\n"
    upload = SimpleUploadedFile("drivers.csv", content, content_type="text/csv")
    response = invite(client_for(world.nadia), connection, file=upload)
    assert response.status_code == 422
    page = response.content.decode()
    assert "Nobody was invited" in page and "line 2: No e-mail address." in page
    assert 'class="field has-error"' in page  # next to the file field
    assert InvitationBatch.objects.count() == 0 and Invitation.objects.count() == 0
    assert not AuditEvent.objects.filter(action="invitation_batch.create").exists()


def test_rows_without_an_e_mail_address_are_reported_with_their_lines(
    world, connection, mailoutbox, django_capture_on_commit_callbacks
):
    content = (
        b"name,email\nAnna,anna@example.com\nBen,\nCarl,carl@example.com\n"
        b"Dora,  \nEve,eve@example.com\nFred,\n"
    )
    upload = SimpleUploadedFile("drivers.csv", content, content_type="text/csv")
    nadia = client_for(world.nadia)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(nadia, connection, file=upload)
    batch = InvitationBatch.objects.get()
    assert batch.total == 3 and len(mailoutbox) == 3
    page = nadia.get(response["Location"]).content.decode()
    assert "3 rows had no e-mail address (lines 3, 5 and 7)" in page
    assert "Refused lines" not in page  # told once, not as three empty rows
    one = SimpleUploadedFile("more.csv", b"name,email\nGus,gus@example.com\nHal,\n")
    page = nadia.get(invite(nadia, connection, file=one)["Location"]).content.decode()
    assert "1 row had no e-mail address (line 3)" in page


def test_the_counters_count_an_invitation_in_every_step_it_reached(world, connection, client):
    batch = invitation_batch_create(
        actor=world.actor(world.nadia),
        connection=connection,
        text="q@example.com\ns@example.com\no@example.com\nr@example.com\nc@example.com",
    )
    for letter, status in [
        ("s", InvitationStatus.SENT),
        ("o", InvitationStatus.OPENED),
        ("r", InvitationStatus.REQUESTED),
        ("c", InvitationStatus.CONNECTED),
    ]:
        Invitation.objects.filter(email=f"{letter}@example.com").update(status=status)
    page = (
        client_for(world.nadia)
        .get(reverse("enrolment:invitation_batch", args=[connection.pk, batch.pk]))
        .content.decode()
    )
    figures = re.findall(r'<div class="value">([^<]+)</div><div class="label">([^<]+)</div>', page)
    assert [(label, value) for value, label in figures] == [
        ("Queued", "1"),
        ("Sent", "4"),
        ("Opened link", "3"),
        ("Requested", "2"),
        ("Connected", "1"),
    ]


def test_when_the_mail_server_is_down_a_later_run_sends_every_invitation_once(
    world, connection, mailoutbox, monkeypatch
):
    from django.core.mail.backends.locmem import EmailBackend

    batch = invitation_batch_create(
        actor=world.actor(world.nadia),
        connection=connection,
        text="\n".join(f"d{i}@example.com" for i in range(3)),
    )

    def unreachable(self):
        raise OSError("connection refused")

    monkeypatch.setattr(EmailBackend, "open", unreachable)
    with pytest.raises(OSError, match="connection refused"):
        send_invitation_batch.call(batch_id=batch.pk)
    monkeypatch.undo()
    send_invitation_batch.call(batch_id=batch.pk)
    send_invitation_batch.call(batch_id=batch.pk)
    assert sorted(m.to[0] for m in mailoutbox) == [
        "d0@example.com",
        "d1@example.com",
        "d2@example.com",
    ]
    batch.refresh_from_db()
    assert batch.sent == 3 and batch.finished_at is not None
