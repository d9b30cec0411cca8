"""Connection Alerts: e-mail to the admins who may decide a connection request, for each
request as it comes (``immediate``) or once a day listing those still waiting
(``daily``). Who may decide is ``evdms.accounts.scope``'s answer for MANAGE_DRIVERS: the
admin's role, their chosen connections and, for another organisation's admins, a grant
to invite and approve drivers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from evdms.accounts.models import Admin, AdminStatus, ConnectionAlerts, Grant
from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.scope import Reach, reach
from evdms.enrolment.models import ConnectionAlertDigest, Membership, MembershipStatus
from evdms.notifications.services import email_send
from evdms.ui.language import user_language


def _requests_link() -> str:
    return settings.SITE_URL + reverse("enrolment:requests")


def _deciders(admins: QuerySet[Admin]) -> Iterator[tuple[Admin, Reach]]:
    """Each active admin of ``admins`` with what they reach to decide requests (those
    whose role does not decide them are left out)."""
    for admin in admins.filter(status=AdminStatus.ACTIVE, user__isnull=False).select_related(
        "user", "organisation"
    ):
        assert admin.user is not None
        actor = Actor.for_user(admin.user)
        if actor is None or not actor.can(Permission.MANAGE_DRIVERS):
            continue
        reached = reach(actor, Permission.MANAGE_DRIVERS)
        if reached:
            yield admin, reached


def alert_recipients(membership: Membership) -> list[Admin]:
    """The admins alerted at once about this request: those with immediate alerts, of
    the request's organisation or of one it granted to invite and approve drivers,
    whose reach covers the request's connection."""
    organisation = membership.organisation_id
    grantees = Grant.objects.filter(
        grantor_id=organisation, revoked_at__isnull=True, can_manage_drivers=True
    ).values("grantee_id")
    candidates = Admin.objects.filter(
        Q(organisation_id=organisation) | Q(organisation_id__in=grantees),
        connection_alerts=ConnectionAlerts.IMMEDIATE,
    ).order_by("pk")
    return [
        admin
        for admin, reached in _deciders(candidates)
        if reached.covers(organisation, membership.connection_id)
    ]


def connection_request_alert(*, membership_id: int) -> int:
    """E-mail the request's immediate alerts; how many were sent. Run after the request
    commits (``membership_request``), so a request rolled back alerts nobody, and one
    decided or withdrawn meanwhile neither."""
    membership = (
        Membership.objects.select_related("driver", "connection", "organisation")
        .filter(pk=membership_id, status=MembershipStatus.PENDING)
        .first()
    )
    if membership is None:
        return 0
    recipients = alert_recipients(membership)
    for admin in recipients:
        email_send(
            to=[admin.email],
            template="connection_request_alert",
            context={
                "admin": admin,
                "membership": membership,
                "driver": membership.driver,
                "connection": membership.connection,
                "organisation": membership.organisation,
                "foreign": membership.organisation_id != admin.organisation_id,
                "link": _requests_link(),
            },
            organisation=admin.organisation,
            language=user_language(admin.user, admin.organisation),
        )
    return len(recipients)


def pending_requests_reached(reached: Reach) -> QuerySet[Membership]:
    """The requests waiting for a decision within ``reached``, oldest first."""
    return (
        Membership.objects.filter(reached.q(), status=MembershipStatus.PENDING)
        .select_related("driver", "connection", "organisation")
        .order_by("requested_at", "pk")
    )


def connection_alert_digests_send(*, day: date) -> int:
    """Send each admin with daily alerts one e-mail listing the requests still waiting
    that they may decide (nothing waiting: no e-mail); how many were sent. Once per
    admin and day: the day's ``ConnectionAlertDigest`` row is claimed with the e-mail, so
    running again that day (a retried task, a second scheduler) sends nothing more."""
    sent = 0
    daily = Admin.objects.filter(connection_alerts=ConnectionAlerts.DAILY).order_by("pk")
    already = ConnectionAlertDigest.objects.filter(day=day).values("admin_id")
    for admin, reached in _deciders(daily.exclude(pk__in=already)):
        requests = list(pending_requests_reached(reached))
        if not requests:
            continue
        try:
            with transaction.atomic():
                digest = ConnectionAlertDigest.objects.create(
                    admin=admin, day=day, requests=len(requests)
                )
                digest.outbound_email = email_send(
                    to=[admin.email],
                    template="connection_requests_digest",
                    context={
                        "admin": admin,
                        "requests": requests,
                        "count": len(requests),
                        "day": day,
                        "link": _requests_link(),
                    },
                    organisation=admin.organisation,
                    language=user_language(admin.user, admin.organisation),
                )
                digest.save(update_fields=["outbound_email"])
        except IntegrityError:
            continue  # another run sent this admin's digest of the day first
        sent += 1
    return sent


# The tasks live here, beside what they run: the enrolment services queue them, and a
# tasks module importing the services back would close an import cycle.
@task()
def send_connection_request_alerts(*, membership_id: int) -> int:
    """E-mail the admins with immediate Connection Alerts about a new request (queued
    once the request commits); how many were alerted."""
    return connection_request_alert(membership_id=membership_id)


@task()
def send_connection_alert_digests(*, day: str = "") -> int:
    """The daily digests of requests still waiting, for ``day`` (YYYY-MM-DD, local;
    today when blank). Safe to run again: each admin gets one digest a day at most."""
    return connection_alert_digests_send(
        day=date.fromisoformat(day) if day else timezone.localdate()
    )
