"""Demo installations: the certified installer company, and jobs in every status across
the four payment models (one with a declined quote, one cancelled).

``seed_installers`` runs before the demo drivers join, so their jobs are assigned to
the installer as they connect; ``seed_installations`` then adds drivers to the four
Voltlease home connections and takes their jobs through the real services, step by step,
as the installer, the organisation and the driver would. The dates are spread over the
last weeks afterwards (demo loaders write rows directly), so the report has days in
status and overdue jobs to show.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from fpdf import FPDF
from PIL import Image

from evdms.accounts.demo import DEMO_PASSWORD
from evdms.accounts.models import Organisation, Role, User
from evdms.accounts.permissions import Actor
from evdms.connections.models import Connection
from evdms.enrolment import services as enrolment
from evdms.installations.models import (
    InstallationJob,
    InstallerCompany,
    JobTransition,
    Quote,
)
from evdms.installations.payer_split import LineInput
from evdms.installations.services import documents, jobs, quotes
from evdms.installations.services.installers import installer_certify
from evdms.installations.services.transitions import Party

INSTALLER_SLUG = "brightspark-installers"

# (connection, driver's first name, last name, the status to take the job to)
PLAN: list[tuple[str, str, str, str]] = [
    ("Voltlease_Home Direct", "Ada", "Lovelace", "completed"),
    ("Voltlease_Home Direct", "Boris", "Kramer", "commissioned"),
    ("Voltlease_Home Direct", "Cora", "Willems", "installed"),
    ("Voltlease_Home Employee Programme", "Dirk", "Hendriks", "scheduled"),
    ("Voltlease_Home Employee Programme", "Eva", "Peeters", "quote_approved"),
    ("Voltlease_Home Employee Programme", "Femke", "Bos", "assigned"),
    ("Voltlease_Home Budget", "Gijs", "Vos", "quoted"),
    ("Voltlease_Home Budget", "Hanna", "Smit", "declined"),  # back to surveyed
    ("Voltlease_Home Budget", "Ivo", "Claes", "contacted"),
    ("Voltlease_Home Customised Quoting", "Jana", "Wouters", "quoted"),
    ("Voltlease_Home Customised Quoting", "Karel", "Maes", "cancelled"),
    ("Voltlease_Home Customised Quoting", "Lotte", "Janssens", "completed"),
]
ORDER = [
    "assigned",
    "contacted",
    "surveyed",
    "quoted",
    "declined",
    "quote_approved",
    "scheduled",
    "installed",
    "commissioned",
    "completed",
]


def installation_driver_email(index: int) -> str:
    return f"installation{index + 1:02d}@example.com"


@transaction.atomic
def seed_installers() -> None:
    """Certify the demo installer company for the Netherlands and Belgium."""
    organisation = Organisation.objects.get(slug=INSTALLER_SLUG)
    company, made = InstallerCompany.objects.get_or_create(
        organisation=organisation, defaults={"jobs_email": "jobs@brightspark.example"}
    )
    if made or company.certified_until is None:
        installer_certify(
            company=company,
            until=timezone.now().date() + datetime.timedelta(days=365),
            by_user=None,
            regions=[("NL", ""), ("BE", "")],
            capacity=60,
        )


def _photo() -> bytes:
    image = Image.new("RGB", (640, 480), (200, 205, 210))
    for x in range(200, 440):  # a grey fuse box on a wall
        for y in range(120, 360, 4):
            image.putpixel((x, y), (90, 95, 100))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _declaration(job: InstallationJob) -> bytes:
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 10, "Installer declaration", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    for line in (
        f"Installation at {job.address}, {job.postcode} {job.city}",
        f"Charger serial {job.charger_serial}, MID certificate {job.mid_certificate}",
        "Installed and tested according to the applicable standards.",
        "Brightspark Installers",
    ):
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _lines(model: str, declined: bool = False) -> list[LineInput]:
    standard = LineInput(
        kind="standard_package",
        description="Standard installation package (wall box, 10 m cable, testing)",
        quantity=Decimal("1"),
        unit_price=Decimal("950.00"),
        vat_rate=Decimal("21.00"),
    )
    extras = [
        LineInput(
            kind="extra",
            description="Extra cable length (per metre)",
            quantity=Decimal("8"),
            unit_price=Decimal("18.50"),
            vat_rate=Decimal("21.00"),
        ),
        LineInput(
            kind="extra",
            description="Fuse box upgrade",
            quantity=Decimal("1"),
            unit_price=Decimal("420.00") if declined else Decimal("285.00"),
            vat_rate=Decimal("21.00"),
        ),
    ]
    if model == "customised_quoting":
        extras.append(
            LineInput(
                kind="driver_extra",
                description="Second socket in the carport (asked for by the driver)",
                quantity=Decimal("1"),
                unit_price=Decimal("160.00"),
                vat_rate=Decimal("21.00"),
            )
        )
    return [standard, *extras]


def _driver(index: int, first: str, last: str, connection: Connection) -> User:
    email = installation_driver_email(index)
    driver = User.objects.create_user(
        email,
        DEMO_PASSWORD,
        full_name=f"{first} {last}",
        email_confirmed_at=timezone.now(),
    )
    membership = enrolment.membership_request(
        driver=driver,
        connection=connection,
        answers={
            "agree_terms": "on",
            "phone": f"+31 6 4444 {index:04d}",
            "address": f"Kerkstraat {index + 3}",
            "postcode": f"10{index + 10:02d} KL",
            "city": "Amsterdam",
            "country": "NL",
        },
    )
    if membership.status == "pending":
        admin = Actor(organisation=connection.organisation, role=Role.NETWORK_MANAGER)
        enrolment.membership_approve(actor=admin, membership=membership)
    return driver


def _take(job: InstallationJob, target: str, index: int, people: dict[str, Actor]) -> None:
    """Through the services, step by step, until the job is in ``target``."""
    technician, manager, organisation = people["technician"], people["manager"], people["org"]
    model = job.connection.installation_payment_model
    now = timezone.now()
    steps: list[tuple[str, Callable[[], object]]] = [
        (
            "contacted",
            lambda: jobs.job_contact_record(
                actor=technician, job=job, at=now, channel="phone", outcome="reached"
            ),
        ),
        (
            "surveyed",
            lambda: (
                jobs.job_photo_add(actor=technician, job=job, upload=_photo(), filename="fuse.jpg"),
                jobs.job_survey_record(
                    actor=technician,
                    job=job,
                    notes="Fuse box in the hall, 9 m to the driveway; wall suitable.",
                ),
            ),
        ),
        (
            "quoted",
            lambda: quotes.quote_submit(
                actor=manager, job=job, lines=_lines(model, declined=target == "declined")
            ),
        ),
    ]
    for status, step in steps:
        if ORDER.index(target) < ORDER.index(status):
            return
        step()
        job.refresh_from_db()
    quote = Quote.objects.filter(job=job).order_by("-number").first()
    assert quote is not None
    if target == "quoted":
        return
    if target == "declined":
        if quote.driver_approval == "pending":
            quotes.quote_decide_by_driver(
                driver=job.driver,
                quote=quote,
                approve=False,
                reason="The fuse box upgrade is more than I expected; please check it again.",
            )
        return
    if quote.organisation_approval == "pending":
        quotes.quote_decide_by_organisation(actor=organisation, quote=quote, approve=True)
        quote.refresh_from_db()
    if quote.driver_approval == "pending":
        quotes.quote_decide_by_driver(driver=job.driver, quote=quote, approve=True)
    if target == "quote_approved":
        return
    job.refresh_from_db()
    jobs.job_schedule(
        actor=technician, job=job, appointment_at=now + datetime.timedelta(days=7 + index)
    )
    if target == "scheduled":
        return
    job.refresh_from_db()
    job, _ = jobs.job_installed(
        actor=technician,
        job=job,
        identity=f"DEMO-INSTALL-{index + 1:02d}",
        serial=f"BSP-{2026_0000 + index}",
        vendor="Alfen",
        model="Eve Single Pro-line",
        mid_certificate=f"MID-NL-{47_000 + index}",
    )
    if target == "installed":
        return
    assert job.charger_id is not None
    jobs.job_commission_for_charger(charger_id=job.charger_id)
    if target == "commissioned":
        return
    job.refresh_from_db()
    documents.declaration_upload(
        actor=manager, job=job, upload=_declaration(job), filename="declaration.pdf"
    )


def _spread_dates(job: InstallationJob, days_ago: int) -> None:
    """The job's history as if it had taken place over the last ``days_ago`` days."""
    history = list(JobTransition.objects.filter(job=job).order_by("at", "id"))
    start = timezone.now() - datetime.timedelta(days=days_ago)
    gap = datetime.timedelta(days=max(1, days_ago // (len(history) + 2)))
    InstallationJob.objects.filter(pk=job.pk).update(created_at=start, assigned_at=start)
    stamps: dict[str, datetime.datetime] = {}
    at = start
    for row in history:
        if row.from_status:  # the creation row keeps the job's own date
            at = at + gap + datetime.timedelta(hours=3)
        JobTransition.objects.filter(pk=row.pk).update(at=at)
        stamps.setdefault(row.to_status, at)
    fields: dict[str, object] = {f"{status}_at": when for status, when in stamps.items()}
    job.refresh_from_db()
    if "installed" in stamps:  # the appointment was the morning of the installation
        fields["appointment_at"] = stamps["installed"] - datetime.timedelta(hours=4)
    if job.warranty_months and "commissioned" in stamps:  # from the commissioning date
        fields["warranty_until"] = jobs.add_months(
            stamps["commissioned"].date(), job.warranty_months
        )
    InstallationJob.objects.filter(pk=job.pk).update(
        status_changed_at=at if history else start, **fields
    )


@transaction.atomic
def seed_installations() -> int:
    """The planned jobs, once: nothing happens if their drivers exist already."""
    if User.objects.filter(email=installation_driver_email(0)).exists():
        return 0
    company = InstallerCompany.objects.select_related("organisation").get(
        organisation__slug=INSTALLER_SLUG
    )
    voltlease = Organisation.objects.get(slug="voltlease")
    people = {
        "technician": Actor(organisation=company.organisation, role=Role.INSTALLER_TECHNICIAN),
        "manager": Actor(organisation=company.organisation, role=Role.INSTALLER_MANAGER),
        "org": Actor(organisation=voltlease, role=Role.NETWORK_MANAGER),
    }
    made = 0
    for index, (connection_name, first, last, target) in enumerate(PLAN):
        connection = Connection.objects.get(name=connection_name)
        driver = _driver(index, first, last, connection)
        job = InstallationJob.objects.get(driver=driver, connection=connection)
        if target == "cancelled":
            jobs.job_contact_record(
                actor=people["technician"],
                job=job,
                at=timezone.now(),
                channel="phone",
                outcome="reached",
            )
            jobs.job_cancel(
                job=job,
                party=Party.ORGANISATION,
                actor=people["org"],
                reason="The driver's lease ends next month; no charger needed.",
            )
        else:
            _take(job, target, index, people)
        _spread_dates(job, days_ago=6 + 4 * (len(PLAN) - index))
        made += 1
    # The jobs assigned as the other demo drivers connected: a few days old.
    others = InstallationJob.objects.exclude(driver__email__startswith="installation")
    for number, job in enumerate(others.order_by("id")):
        _spread_dates(job, days_ago=3 + 5 * number)
    return made


def installation_logins() -> list[str]:
    return [
        f"{installation_driver_email(0)}  (driver whose home charger installation is completed)",
        f"{installation_driver_email(6)}  (driver with a quote to decide)",
    ]
