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
from evdms.enrolment.tasks import send_invitation_batch
from evdms.notifications.models import OutboundEmail
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
        ("email\nren\xe9@example.com\n".encode("latin-1"), "is not UTF-8 text"),
        (b"", "The file is empty."),
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
